"""A data pipeline whose batch order is a pure function of ``(seed, step)``: resumable exactly.

A run killed at step ``s`` and restarted builds its data from step ``s`` with
:func:`resumable_dataset` and sees the batches an uninterrupted run would have seen; the GAN's
noise is keyed by the same step, so the resumed run replays the same training
(:func:`keras_gan.runs.train` builds on both).

Example:
    >>> ds = resumable_dataset(np.arange(10.0), 4, seed=0, total_steps=2)
    >>> [b.shape[0] for b in ds]
    [4, 4]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from keras_gan._checks import check_positive_int


def resumable_dataset(
    data: np.ndarray | tuple[np.ndarray, np.ndarray],
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
        data: the samples, ``(N, ...)``, or a pair ``(samples, labels)`` of arrays of the same
            length: each label stays with its sample, and every element is a pair
            ``(batch, labels)`` (labels cast to int32).
        batch_size: the global batch of one training step.
        seed: the order's seed.
        start_step: the first step to yield.
        total_steps: the step to stop before (unbounded when None).
        transform: applied to each batch of samples (e.g. uint8 pixels to floats in [-1, 1]).
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
        >>> pairs = resumable_dataset((np.arange(6.0), np.arange(6) % 3), 3, seed=0, total_steps=1)
        >>> [(x.shape[0], y.dtype.name) for x, y in pairs]
        [(3, 'int32')]
    """
    labelled = isinstance(data, tuple)
    if labelled:
        if len(data) != 2 or len(data[0]) != len(data[1]):
            lengths = [len(part) for part in data]
            raise ValueError(
                "data must be an array or a pair (samples, labels) of the same length. "
                f"Received: a tuple of {len(data)} arrays of lengths {lengths}"
            )
        parts = [tf.convert_to_tensor(data[0]), tf.cast(tf.convert_to_tensor(data[1]), tf.int32)]
    else:
        parts = [tf.convert_to_tensor(data)]
    n = len(data[0]) if labelled else len(data)
    batch_size = check_positive_int(batch_size, "batch_size")
    steps_per_call = check_positive_int(steps_per_call, "steps_per_call")
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
    used = steps_per_epoch * batch_size
    first_epoch = start_step // steps_per_epoch
    last_epoch = None if total_steps is None else -(-total_steps // steps_per_epoch)
    seed = int(seed) % (2**31)
    shapes = [[steps_per_epoch, batch_size, *part.shape[1:]] for part in parts]

    def one_epoch(epoch: tf.Tensor) -> tf.data.Dataset:
        key = tf.stack([tf.constant(seed, tf.int64), epoch])
        order = tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64), seed=key)
        batches = [
            tf.reshape(tf.gather(part, order[:used]), shape)
            for part, shape in zip(parts, shapes, strict=True)
        ]
        return tf.data.Dataset.from_tensor_slices(tuple(batches) if labelled else batches[0])

    epochs = tf.data.Dataset.range(first_epoch, last_epoch if last_epoch is not None else 2**62)
    ds = epochs.flat_map(one_epoch).skip(start_step - first_epoch * steps_per_epoch)
    if total_steps is not None:
        ds = ds.take(total_steps - start_step)
    if transform is not None:
        ds = ds.map((lambda x, y: (transform(x), y)) if labelled else transform)
    if steps_per_call > 1:
        # (steps, batch, ...) -> (batch, steps, ...): replicas split the first axis.
        def swap(stacked: tf.Tensor) -> tf.Tensor:
            return tf.experimental.numpy.swapaxes(stacked, 0, 1)

        ds = ds.batch(steps_per_call, drop_remainder=True).map(
            (lambda x, y: (swap(x), swap(y))) if labelled else swap
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
    steps_per_epoch = check_positive_int(steps_per_epoch, "steps_per_epoch")
    limit = check_positive_int(limit, "limit")
    return max(d for d in range(1, min(limit, steps_per_epoch) + 1) if steps_per_epoch % d == 0)
