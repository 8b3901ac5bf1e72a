"""Training under ``tf.distribute``: strategies and the chief/worker roles of a cluster.

One ``fit`` call runs on one device, on several devices of one machine
(``MirroredStrategy``) or on several machines (``MultiWorkerMirroredStrategy``, configured by
the ``TF_CONFIG`` environment variable). The :class:`~keras_gan.models.GAN` model is written so
the result does not depend on the number of replicas: losses are divided by the GLOBAL batch,
and its latent noise and gradient-penalty weights are stateless draws for the global batch
keyed by ``(seed, generator step)``, each replica keeping its slice.

What a resumable run adds on top (the data order as a function of the step, backups, one
directory per worker) lives in :mod:`keras_gan.data.resumable` and :mod:`keras_gan.runs`.

Example:
    >>> strategy = get_strategy("default")
    >>> is_chief(strategy)
    True
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import keras
import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multiworker")

_MULTI_WORKER: tf.distribute.Strategy | None = None


class StrategyError(ValueError):
    """A strategy name, device list or ``TF_CONFIG`` that cannot be used."""


# ---------------------------------------------------------------------- TF_CONFIG and roles


def tf_config(environ: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """The parsed and checked ``TF_CONFIG``, or None when it is unset or empty.

    Args:
        environ: the environment to read (``os.environ`` when None).

    Raises:
        StrategyError: ``TF_CONFIG`` is not JSON, has no ``cluster`` of ``host:port`` lists, or
            its ``task`` names a type or index that is not in the cluster.

    Example:
        >>> cluster = {"worker": ["127.0.0.1:2222"]}
        >>> config = {"cluster": cluster, "task": {"type": "worker", "index": 0}}
        >>> tf_config({"TF_CONFIG": json.dumps(config)})["task"]
        {'type': 'worker', 'index': 0}
    """
    environ = os.environ if environ is None else environ
    text = environ.get("TF_CONFIG", "").strip()
    if not text:
        return None
    try:
        config = json.loads(text)
    except ValueError as error:
        raise StrategyError(f"TF_CONFIG is not valid JSON ({error}). Received: {text!r}") from None
    expected = (
        'expected {"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", '
        '"index": 0}}'
    )
    cluster = config.get("cluster") if isinstance(config, dict) else None
    if not isinstance(cluster, dict) or not cluster:
        raise StrategyError(f"TF_CONFIG has no cluster; {expected}. Received: {text!r}")
    for job, addresses in cluster.items():
        if not isinstance(addresses, list) or not all(isinstance(a, str) for a in addresses):
            raise StrategyError(
                f"TF_CONFIG cluster {job!r} must be a list of 'host:port' strings. "
                f"Received: {addresses!r}"
            )
    task = config.get("task", {})
    if not isinstance(task, dict):
        raise StrategyError(f"TF_CONFIG task must be an object; {expected}. Received: {task!r}")
    if task:
        kind, index = task.get("type"), task.get("index", 0)
        if kind not in cluster:
            raise StrategyError(
                f"TF_CONFIG task type {kind!r} is not a job of the cluster {sorted(cluster)}"
            )
        if isinstance(index, bool) or not isinstance(index, int):
            raise StrategyError(f"TF_CONFIG task index must be an integer. Received: {index!r}")
        if not 0 <= index < len(cluster[kind]):
            raise StrategyError(
                f"TF_CONFIG task index {index} is out of range for {len(cluster[kind])} "
                f"{kind} address(es)"
            )
    return config


def task(environ: Mapping[str, str] | None = None) -> tuple[str, int] | None:
    """This process's ``(type, index)`` in ``TF_CONFIG``, or None without a cluster.

    Example:
        >>> task({}) is None
        True
    """
    config = tf_config(environ)
    if config is None or not config.get("task"):
        return None
    return str(config["task"]["type"]), int(config["task"].get("index", 0))


def _chief_task(kind: str | None, index: int | None, jobs: Sequence[str]) -> bool:
    if kind is None:
        return True
    if kind == "chief":
        return True
    # Without a "chief" job, worker 0 is the chief (the convention of tf.distribute).
    return kind == "worker" and int(index or 0) == 0 and "chief" not in jobs


def is_chief(
    strategy: tf.distribute.Strategy | None = None, environ: Mapping[str, str] | None = None
) -> bool:
    """Whether this process writes the run's outputs (True outside a multi-worker cluster).

    A multi-worker strategy answers from its cluster resolver; otherwise ``TF_CONFIG`` decides
    (the ``chief`` task, or worker 0 when the cluster has no chief job).

    Example:
        >>> is_chief(environ={})
        True
    """
    resolver = getattr(strategy, "cluster_resolver", None) if strategy is not None else None
    if resolver is not None and getattr(resolver, "task_type", None) is not None:
        jobs = list(resolver.cluster_spec().as_dict())
        return _chief_task(resolver.task_type, resolver.task_id, jobs)
    if strategy is not None and not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return True
    config = tf_config(environ)
    if config is None or not config.get("task"):
        return True
    current = config["task"]
    return _chief_task(current.get("type"), current.get("index", 0), list(config["cluster"]))


def is_multi_worker(strategy: tf.distribute.Strategy | None = None) -> bool:
    """Whether ``strategy`` (the current one when None) runs collectives across processes.

    Example:
        >>> is_multi_worker(tf.distribute.get_strategy())
        False
    """
    strategy = strategy or tf.distribute.get_strategy()
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return False
    in_mode = getattr(strategy.extended, "_in_multi_worker_mode", None)
    return bool(in_mode()) if callable(in_mode) else True


# ---------------------------------------------------------------------- strategies


def _check_devices(devices: Sequence[str]) -> list[str]:
    if isinstance(devices, str) or not devices:
        raise StrategyError(
            f"devices must be a non-empty list of device names such as ['/gpu:0', '/gpu:1']. "
            f"Received: devices={devices!r}"
        )
    available = tf.config.list_logical_devices()
    known = {
        (d.device_type.upper(), tf.DeviceSpec.from_string(d.name).device_index) for d in available
    }
    checked = []
    for name in devices:
        try:
            spec = tf.DeviceSpec.from_string(str(name))
        except (ValueError, TypeError):
            spec = None
        key = None if spec is None else ((spec.device_type or "").upper(), spec.device_index or 0)
        if key not in known:
            names = ", ".join(d.name for d in available) or "none"
            raise StrategyError(f"device {name!r} does not exist; this process has: {names}")
        checked.append(f"/{key[0].lower()}:{key[1]}")
    if len(set(checked)) != len(checked):
        raise StrategyError(f"devices must be distinct. Received: devices={list(devices)!r}")
    return checked


def get_strategy(
    name: str = "default", devices: Sequence[str] | None = None
) -> tf.distribute.Strategy:
    """The ``tf.distribute`` strategy called ``name``.

    Args:
        name: ``"default"`` (one device: TensorFlow's default strategy, or a
            ``OneDeviceStrategy`` when one device is named), ``"mirrored"`` (synchronous
            data parallelism over this machine's GPUs, or ``devices``), or ``"multiworker"``
            (``MultiWorkerMirroredStrategy`` over the cluster in ``TF_CONFIG``; create it
            before TensorFlow runs any op, and only once per process: later calls return the
            same object).
        devices: device names such as ``["/gpu:0", "/gpu:1"]`` or ``["/cpu:0", "/cpu:1"]``
            (logical devices included); ``"multiworker"`` takes none.

    Raises:
        StrategyError: an unknown name, a device this process does not have, ``devices`` with
            ``"multiworker"``, several devices with ``"default"``, or a missing or malformed
            ``TF_CONFIG`` for ``"multiworker"``.

    Example:
        >>> get_strategy("default").num_replicas_in_sync
        1
    """
    global _MULTI_WORKER
    if name not in STRATEGIES:
        raise StrategyError(f"unknown strategy {name!r}; expected one of {', '.join(STRATEGIES)}")
    if name == "default":
        if devices is None:
            return tf.distribute.get_strategy()
        checked = _check_devices(devices)
        if len(checked) != 1:
            raise StrategyError(
                f"the default strategy runs on one device; use 'mirrored' for {len(checked)}. "
                f"Received: devices={list(devices)!r}"
            )
        return tf.distribute.OneDeviceStrategy(checked[0])
    if name == "mirrored":
        checked = None if devices is None else _check_devices(devices)
        names = checked or [d.name for d in tf.config.list_logical_devices("GPU")] or ["/cpu:0"]
        if all("cpu" in device.lower() for device in names):
            # CPU replicas: reduce through one device. The default (collective ops) fails with
            # "Shape mismatch in the collective instance" when synchronized batch norm and
            # several optimizer updates share one step (seen with TF 2.21 on logical CPUs).
            return tf.distribute.MirroredStrategy(
                checked, cross_device_ops=tf.distribute.ReductionToOneDevice()
            )
        return tf.distribute.MirroredStrategy(checked)
    if devices is not None:
        raise StrategyError(
            "the multiworker strategy uses every local GPU (or the CPU) of each worker; it takes "
            f"no device list. Received: devices={list(devices)!r}"
        )
    if _MULTI_WORKER is not None:
        return _MULTI_WORKER
    config = tf_config()
    if config is None:
        raise StrategyError(
            '--strategy multiworker needs TF_CONFIG, e.g. TF_CONFIG=\'{"cluster": {"worker": '
            '["host1:2222", "host2:2222"]}, "task": {"type": "worker", "index": 0}}\' on the first '
            "machine (index 1 on the second); scripts/launch_workers.py sets it for local trials"
        )
    if not config.get("task"):
        raise StrategyError("TF_CONFIG has no task: say which cluster member this process is")
    try:
        _MULTI_WORKER = tf.distribute.MultiWorkerMirroredStrategy()
    except (RuntimeError, ValueError) as error:
        raise StrategyError(
            f"could not start MultiWorkerMirroredStrategy ({error}); create it before TensorFlow "
            "runs any op, once per process"
        ) from None
    return _MULTI_WORKER


def build_in_scope(
    strategy: tf.distribute.Strategy, builder: Callable[..., keras.Model], *args: Any, **kwargs: Any
) -> keras.Model:
    """Call ``builder(*args, **kwargs)`` under ``strategy.scope()`` and check it is fit-ready.

    Variables (networks, optimizers, metrics) must be created inside the scope to be mirrored;
    the model must be marked built (otherwise ``fit`` probes it with a data batch as if it were
    the latent input), and compiled models must have both optimizers built, so the first traced
    step does not create variables.

    Raises:
        ValueError: the model is not built, or a compiled GAN's optimizer is not built.

    Example:
        >>> from keras_gan.models import build
        >>> gan = build_in_scope(get_strategy(), build, "gan", image_shape=(4,), seed=0)
        >>> gan.built, gan.g_optimizer.built
        (True, True)
    """
    with strategy.scope():
        model = builder(*args, **kwargs)
    if not model.built:
        raise ValueError(f"{model.name} is not built; build it inside strategy.scope() before fit")
    for attr in ("d_optimizer", "g_optimizer", "optimizer"):
        optimizer = getattr(model, attr, None)
        if isinstance(optimizer, keras.optimizers.Optimizer) and not optimizer.built:
            raise ValueError(f"{model.name}.{attr} is not built; compile inside strategy.scope()")
    return model


def scalar_logs_workaround(logs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """Give every scalar log a leading axis under a multi-worker strategy (a no-op otherwise).

    Works around tensorflow/tensorflow#72388: under ``MultiWorkerMirroredStrategy``, Keras 3
    (3.15, TF 2.21) reduces the per-replica logs of ``fit`` with
    ``strategy.reduce("MEAN", value, axis=0)``, which fails on scalars with "Invalid reduction
    dimension 0 for input with 0 dimensions". A ``(1,)`` tensor per replica is reduced to the
    scalar mean over replicas, which is the global value (every replica logs the mean of an
    equal share of the global batch). Call it on the dict ``train_step`` returns.

    Example:
        >>> scalar_logs_workaround({"d_loss": tf.constant(1.0)})["d_loss"].shape
        TensorShape([])
    """
    if not is_multi_worker(tf.distribute.get_strategy()):
        return logs
    return {
        key: tf.reshape(value, [1])
        if getattr(value, "shape", None) is not None and value.shape.rank == 0
        else value
        for key, value in logs.items()
    }


def synchronize_batch_norm(model: keras.Model) -> int:
    """Make every batch norm of ``model`` (Keras' ``BatchNormalization`` and
    :class:`~keras_gan.networks.common.BatchStatNormalization`) normalise with GLOBAL-batch
    statistics.

    Under a multi-replica strategy a plain batch-norm layer uses each replica's own batch
    moments, so the result depends on the number of replicas. ``synchronized=True`` (TensorFlow
    backend) all-reduces the moments across replicas; on one replica it computes the same
    thing as before. Returns how many layers were switched.

    Example:
        >>> from keras_gan.networks import dcgan_generator
        >>> synchronize_batch_norm(dcgan_generator(4, (8, 8, 1), width=4))
        3
    """
    count = 0
    # Keras has no public walk over every nested layer (``layers`` stops at one level and
    # misses layers held as attributes of custom layers); ``_flatten_layers`` is the walk
    # Keras itself uses for ``model.variables``.
    for layer in model._flatten_layers(include_self=True):
        # ``batch_statistics``: the mark of a batch-statistics layer defined outside Keras
        # (BatchStatNormalization), which this module cannot import.
        batch_norm = isinstance(layer, keras.layers.BatchNormalization) or getattr(
            layer, "batch_statistics", False
        )
        if batch_norm and not layer.synchronized:
            layer.synchronized = True
            count += 1
    return count
