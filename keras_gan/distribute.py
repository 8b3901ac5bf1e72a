"""Training under ``tf.distribute``: strategies, chief/worker roles, resumable data and backups.

One ``fit`` call runs on one device, on several devices of one machine
(``MirroredStrategy``) or on several machines (``MultiWorkerMirroredStrategy``, configured by
the ``TF_CONFIG`` environment variable). The :class:`~keras_gan.models.GAN` model is written so
the result does not depend on the number of replicas: losses are divided by the GLOBAL batch,
and its latent noise and gradient-penalty weights are stateless draws for the global batch
keyed by ``(seed, generator step)``, each replica keeping its slice.

Fault tolerance rests on two facts:

- everything random in a training step is a function of the generator optimizer's
  ``iterations`` (the noise) and of the step number (the data order, see
  :func:`resumable_dataset`), and the only stateful random generators of the networks
  (``keras.random.SeedGenerator`` of dropout layers) are saved with the weights by
  :class:`~keras_gan.models.GAN`;
- :class:`StepBackup` (a ``keras.callbacks.BackupAndRestore``) writes the weights, both
  optimizers (their ``iterations`` included) and those generator states.

So a run killed at any moment and restarted from its last backup replays exactly the steps an
uninterrupted run would have taken.

Example:
    >>> strategy = get_strategy("default")
    >>> is_chief(strategy)
    True
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
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


# ---------------------------------------------------------------------- where each worker writes


def backup_dir(out: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> Path:
    """The ``BackupAndRestore`` directory of this process: ``OUT/backup`` for the chief (and
    single-process runs), ``OUT/backup-<type>-<index>`` for the other workers of a cluster.

    Every worker keeps its own backup, so each can restore after a restart; the weights are
    synchronised, so all hold the same state.

    Example:
        >>> backup_dir("runs/x", environ={}).as_posix()
        'runs/x/backup'
    """
    out = Path(out)
    current = task(environ)
    if current is None or is_chief(environ=environ):
        return out / "backup"
    return out / f"backup-{current[0]}-{current[1]}"


def worker_dir(out: str | os.PathLike[str], strategy: tf.distribute.Strategy | None = None) -> Path:
    """Where this process saves models: ``out`` on the chief, a fresh temporary directory on
    the other workers.

    Under a multi-worker strategy every worker must take part in saving (a save may read
    variables that need collectives), but only the chief's files are kept: the Keras
    multi-worker guide's recipe. Remove a worker's directory with :func:`remove_worker_dir`.

    Example:
        >>> worker_dir("runs/x", get_strategy()).as_posix()
        'runs/x'
    """
    if is_chief(strategy):
        return Path(out)
    return Path(tempfile.mkdtemp(prefix="keras-gan-worker-"))


def remove_worker_dir(path: str | os.PathLike[str], out: str | os.PathLike[str]) -> None:
    """Delete a directory from :func:`worker_dir` unless it is the run directory itself.

    Example:
        >>> remove_worker_dir("runs/x", "runs/x")  # the chief's: kept
    """
    if Path(path).resolve() != Path(out).resolve():
        shutil.rmtree(path, ignore_errors=True)


# ---------------------------------------------------------------------- resumable training


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    return int(value)


def resumable_dataset(
    data: np.ndarray,
    batch_size: int,
    *,
    seed: int,
    start_step: int = 0,
    total_steps: int | None = None,
    transform: Callable[[tf.Tensor], tf.Tensor] | None = None,
    steps_per_call: int = 1,
) -> tf.data.Dataset:
    """Batches whose order is a pure function of ``(seed, step)``, starting at ``start_step``.

    Epoch ``e`` visits the samples in the order of a stateless shuffle seeded by
    ``(seed, e)``; step ``s`` of the run is batch ``s % steps_per_epoch`` of epoch
    ``s // steps_per_epoch`` (``steps_per_epoch = len(data) // batch_size``, the last partial
    batch of each epoch dropped). A run resumed at step ``s`` therefore sees exactly the
    batches an uninterrupted run sees from step ``s`` on, which ``shuffle`` with
    ``reshuffle_each_iteration`` (whose order depends on how many epochs THIS process has
    iterated) cannot give. Each epoch is gathered in one op and cut into batches by a reshape
    (no per-sample pipeline work: for 2-D points that work would cost more than the step).
    The dataset is sharded by element (``AutoShardPolicy.DATA``) under a multi-worker
    strategy: in-memory data has no files to split.

    Args:
        data: the samples, ``(N, ...)``.
        batch_size: the global batch of one training step.
        seed: the order's seed.
        start_step: the first step to yield.
        total_steps: the step to stop before (unbounded when None).
        transform: applied to each batch (e.g. uint8 pixels to floats in [-1, 1]).
        steps_per_call: stack this many consecutive step batches into one element of shape
            ``(batch_size, steps_per_call, ...)``, which :meth:`keras_gan.models.GAN.train_step`
            runs as that many steps in one call. ``start_step`` and ``total_steps`` are then
            multiples of it.

    Raises:
        ValueError: fewer samples than one batch, or a bad step range.

    Example:
        >>> ds = resumable_dataset(np.arange(10.0), 4, seed=0, start_step=1, total_steps=3)
        >>> [b.shape[0] for b in ds]
        [4, 4]
        >>> fused = resumable_dataset(np.zeros((8, 2)), 2, seed=0, total_steps=4, steps_per_call=2)
        >>> [tuple(b.shape) for b in fused]
        [(2, 2, 2), (2, 2, 2)]
    """
    n = len(data)
    batch_size = _positive_int(batch_size, "batch_size")
    steps_per_call = _positive_int(steps_per_call, "steps_per_call")
    steps_per_epoch = n // batch_size
    if steps_per_epoch < 1:
        raise ValueError(f"{n} samples make no full batch of {batch_size}")
    if start_step < 0 or (total_steps is not None and total_steps < start_step):
        raise ValueError(
            f"expected 0 <= start_step <= total_steps. Received: start_step={start_step}, "
            f"total_steps={total_steps}"
        )
    for name, value in (("start_step", start_step), ("total_steps", total_steps)):
        if value is not None and value % steps_per_call:
            raise ValueError(
                f"{name} must be a multiple of steps_per_call={steps_per_call}. "
                f"Received: {name}={value}"
            )
    samples = tf.convert_to_tensor(data)
    used = steps_per_epoch * batch_size
    first_epoch = start_step // steps_per_epoch
    last_epoch = None if total_steps is None else -(-total_steps // steps_per_epoch)
    seed = int(seed) % (2**31)
    batch_shape = [steps_per_epoch, batch_size, *samples.shape[1:]]

    def one_epoch(epoch: tf.Tensor) -> tf.data.Dataset:
        key = tf.stack([tf.constant(seed, tf.int64), epoch])
        order = tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64), seed=key)
        batches = tf.reshape(tf.gather(samples, order[:used]), batch_shape)
        return tf.data.Dataset.from_tensor_slices(batches)

    epochs = tf.data.Dataset.range(first_epoch, last_epoch if last_epoch is not None else 2**62)
    ds = epochs.flat_map(one_epoch).skip(start_step - first_epoch * steps_per_epoch)
    if total_steps is not None:
        ds = ds.take(total_steps - start_step)
    if transform is not None:
        ds = ds.map(transform)
    if steps_per_call > 1:
        # (steps, batch, ...) -> (batch, steps, ...): replicas split the first axis.
        ds = ds.batch(steps_per_call, drop_remainder=True).map(
            lambda stacked: tf.experimental.numpy.swapaxes(stacked, 0, 1)
        )
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    options.deterministic = True
    return ds.with_options(options).prefetch(2)


def steps_per_call_for(steps_per_epoch: int, limit: int) -> int:
    """The largest number of steps, at most ``limit``, that divides ``steps_per_epoch``: fused
    calls then never straddle an epoch, so backups and ``--resume`` fall on call boundaries.

    Example:
        >>> steps_per_call_for(195, 16)
        15
        >>> steps_per_call_for(7, 4)
        1
    """
    steps_per_epoch = _positive_int(steps_per_epoch, "steps_per_epoch")
    limit = _positive_int(limit, "limit")
    return max(d for d in range(1, min(limit, steps_per_epoch) + 1) if steps_per_epoch % d == 0)


class BackupError(RuntimeError):
    """No backup in a directory could be restored (each one's fault is named).

    Example:
        >>> str(BackupError("runs/x/backup: latest.weights.h5 is damaged"))
        'runs/x/backup: latest.weights.h5 is damaged'
    """


# A backup is a weights file and Keras' training metadata. The newest pair is "latest", the one
# before it "previous": a new backup is written aside (hidden temporary files, fsynced), the
# latest pair is renamed to previous, and the new pair renamed into place, so a kill at any
# moment leaves at least one complete pair, and a damaged latest falls back to previous.
_PAIRS = (
    ("latest.weights.h5", "training_metadata.json"),
    ("previous.weights.h5", "previous_training_metadata.json"),
)


def non_finite_weights(model: keras.Model) -> list[str]:
    """The paths of ``model``'s floating-point variables holding a NaN or an infinity.

    Example:
        >>> non_finite_weights(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))
        []
    """
    bad = []
    for variable in model.variables:
        value = keras.ops.convert_to_numpy(variable.value)
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            bad.append(variable.path)
    return bad


def load_backup(model: keras.Model, directory: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Load the newest backup in ``directory`` that loads whole; return its training metadata.

    A damaged ``latest`` backup (torn by a crash, truncated) is reported on stderr and the
    ``previous`` one is used, then made the latest. Returns None when there is no backup.

    Raises:
        BackupError: backups exist but none of them loads.

    Example:
        >>> load_backup(gan, "runs/x/backup")  # doctest: +SKIP
        {'epoch': 1, 'batch': 2}
    """
    directory = Path(directory)
    faults = []
    for index, (weights_name, metadata_name) in enumerate(_PAIRS):
        weights = directory / weights_name
        if not weights.is_file():
            continue
        try:
            model.load_weights(weights)
            metadata_path = directory / metadata_name
            metadata = json.loads(metadata_path.read_text()) if metadata_path.is_file() else {}
        except Exception as error:  # h5py and Keras raise many kinds for a damaged file
            faults.append(f"{weights_name}: {type(error).__name__}: {error}")
            continue
        if index:
            import sys

            print(
                f"keras-gan: the latest backup in {directory} is damaged ({faults[0]}); "
                f"restored the previous one ({weights_name})",
                file=sys.stderr,
            )
            for source, target in zip(_PAIRS[index], _PAIRS[0], strict=True):
                if (directory / source).is_file():
                    os.replace(directory / source, directory / target)
        return metadata if isinstance(metadata, dict) else {}
    if faults:
        raise BackupError(
            f"no backup in {directory} can be restored ({'; '.join(faults)}); start over with "
            "--overwrite"
        )
    return None


class StepBackup(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` that also saves at the end of every epoch when saving every N steps,
    never writes a backup in place, and never backs up non-finite weights.

    Keras' callback saves EITHER per epoch or per N batches; saving at each epoch end too
    means a run trained in several ``fit`` calls (a resumed partial epoch, then the rest, see
    :func:`restore_step`) always restarts from the latest state. What is saved is
    ``model.save_weights``: the networks, both optimizers with their ``iterations`` (which key
    the GAN's noise), the EMA generator and the dropout seed states (:class:`GAN` saves them).
    Each backup is written aside and renamed into place, keeping the one before it
    (``previous.weights.h5``), which :func:`load_backup` falls back to when the latest is
    damaged. Before writing, the weights are checked: a NaN or infinity raises
    :class:`keras_gan.callbacks.NonFiniteLossError` and the last good backup stays.

    Args:
        backup_dir: the backup directory (one per process, see :func:`backup_dir`).
        save_freq: ``"epoch"`` or a number of steps.
        delete_checkpoint: remove the backup when ``fit`` ends normally.

    Example:
        >>> backup = StepBackup("runs/x/backup", save_freq=50)
    """

    def __init__(
        self,
        backup_dir: str | os.PathLike[str],
        save_freq: str | int = "epoch",
        delete_checkpoint: bool = True,
    ) -> None:
        super().__init__(
            os.fspath(backup_dir), save_freq=save_freq, delete_checkpoint=delete_checkpoint
        )

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Restore the newest backup that loads (see :func:`load_backup`)."""
        if not self.model.built:
            raise ValueError(
                f"StepBackup needs a built model before fit(); {self.model.name} is not built"
            )
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        metadata = load_backup(self.model, self.backup_dir)
        if metadata and "epoch" in metadata:
            self.model._initial_epoch = metadata["epoch"]

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Save a backup at the end of each epoch, as well as every ``save_freq`` steps."""
        super().on_epoch_end(epoch, logs)
        if self.save_freq != "epoch":
            self._save_model()

    def _save_model(self) -> None:
        from keras_gan import _atomic
        from keras_gan.callbacks import NonFiniteLossError

        directory = Path(self.backup_dir)
        bad = non_finite_weights(self.model)
        if bad:
            raise NonFiniteLossError(
                f"{len(bad)} weight tensor(s) became NaN or infinite ({', '.join(bad[:3])}) "
                f"by step {_step(self.model)}: training diverged (try lower learning "
                "rates or a gradient penalty); the last good checkpoint is kept in "
                f"{directory} (rerun with --resume after fixing the cause)"
            )
        directory.mkdir(parents=True, exist_ok=True)
        metadata = {"epoch": self._current_epoch, "batch": self._last_batch_seen}
        (weights, metadata_name), previous = _PAIRS
        staged_weights = _atomic.temporary_sibling(directory / weights)
        staged_metadata = _atomic.temporary_sibling(directory / metadata_name)
        try:
            self.model.save_weights(staged_weights, overwrite=True)
            _atomic.write_bytes(staged_metadata, json.dumps(metadata).encode(), durable=True)
            with open(staged_weights, "rb") as handle:
                os.fsync(handle.fileno())
            for name, kept in zip(_PAIRS[0], previous, strict=True):
                if (directory / name).is_file():
                    os.replace(directory / name, directory / kept)
            os.replace(staged_weights, directory / weights)
            os.replace(staged_metadata, directory / metadata_name)
            _atomic.fsync_dir(directory)
        finally:
            staged_weights.unlink(missing_ok=True)
            staged_metadata.unlink(missing_ok=True)


def _step(model: keras.Model) -> int:
    optimizer = getattr(model, "g_optimizer", None) or model.optimizer
    return int(optimizer.iterations.numpy())


def backup_weights(directory: str | os.PathLike[str]) -> Path:
    """The weights file ``BackupAndRestore`` keeps in ``directory``.

    Example:
        >>> backup_weights("runs/x/backup").name
        'latest.weights.h5'
    """
    return Path(directory) / _PAIRS[0][0]


def restore_step(model: keras.Model, directory: str | os.PathLike[str]) -> int:
    """Load the backup in ``directory`` (if any) into ``model`` and return its training step.

    The step is the generator optimizer's ``iterations`` (one per ``train_step``), restored
    with the weights. Use it to build the data from that step (:func:`resumable_dataset`) and
    to split the remaining work into ``fit`` calls: ``divmod(step, steps_per_epoch)`` gives the
    epoch to resume and how many of its steps are done. A damaged latest backup falls back to
    the previous one (:func:`load_backup`).

    Raises:
        BackupError: no backup in ``directory`` loads.

    Example:
        >>> restore_step(gan, "runs/x/backup")  # doctest: +SKIP
        120
    """
    if load_backup(model, directory) is None:
        return 0
    return _step(model)


def fit_phases(step: int, epochs: int, steps_per_epoch: int) -> list[tuple[int, int, int, int]]:
    """The ``fit`` calls that finish a run from ``step``: ``(initial_epoch, epochs,
    steps_per_epoch, first_step)`` each.

    A run resumed inside an epoch first finishes that epoch (fewer steps), then runs the
    remaining whole epochs.

    Example:
        >>> fit_phases(5, 3, 4)
        [(1, 2, 3, 5), (2, 3, 4, 8)]
        >>> fit_phases(0, 2, 4)
        [(0, 2, 4, 0)]
    """
    epoch, done = divmod(step, steps_per_epoch)
    phases = []
    if done and epoch < epochs:
        phases.append((epoch, epoch + 1, steps_per_epoch - done, step))
        epoch += 1
    if epoch < epochs:
        phases.append((epoch, epochs, steps_per_epoch, epoch * steps_per_epoch))
    return phases


def synchronize_batch_norm(model: keras.Model) -> int:
    """Make every ``BatchNormalization`` of ``model`` normalise with GLOBAL-batch statistics.

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
    for layer in model._flatten_layers(include_self=True):
        if isinstance(layer, keras.layers.BatchNormalization) and not layer.synchronized:
            layer.synchronized = True
            count += 1
    return count
