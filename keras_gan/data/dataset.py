"""MNIST-like image datasets as ``tf.data`` pipelines scaled for a tanh generator.

Example:
    >>> ds = load_images("fashion_mnist", batch_size=128)  # doctest: +SKIP
    >>> next(iter(ds)).shape  # doctest: +SKIP
    TensorShape([128, 28, 28, 1])
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from keras_gan._checks import check_positive_int

from .arrays import load_arrays
from .errors import DatasetError


def scale_images(images: tf.Tensor | np.ndarray) -> tf.Tensor:
    """Map uint8 pixels in [0, 255] to float32 in [-1, 1] (the range of a tanh generator).

    Example:
        >>> scale_images(np.array([0, 255], np.uint8)).numpy().tolist()
        [-1.0, 1.0]
    """
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def load_images(
    name_or_path: str | os.PathLike[str] = "fashion_mnist",
    split: str = "train",
    batch_size: int = 128,
    *,
    with_labels: bool = False,
    limit: int | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    drop_remainder: bool = True,
    data_dir: str | os.PathLike[str] | None = None,
    image_size: int | None = None,
    channels: int | None = None,
    resize: str = "crop",
) -> tf.data.Dataset:
    """A shuffled, batched, prefetched dataset of float32 images in [-1, 1].

    Args:
        name_or_path: ``"fashion_mnist"``, ``"mnist"``, a directory of IDX files (see
            :func:`keras_gan.data.load_arrays` for where names are looked up), or a folder of
            image files (:func:`keras_gan.data.folders.load_folder`; class sub-folders are
            labels; it has no ``"test"`` split).
        split: ``"train"`` or ``"test"``.
        batch_size: images per batch (the global batch under a ``tf.distribute`` strategy).
        with_labels: yield ``(images, labels)`` pairs instead of images.
        limit: keep only the first ``limit`` images (for quick runs and tests).
        shuffle: reshuffle every epoch.
        seed: shuffle seed, for a reproducible order.
        drop_remainder: drop the last partial batch, so every batch has a static size.
        data_dir: a directory to look in first.
        image_size, channels, resize: how a folder of images is decoded (see
            :func:`keras_gan.data.folders.load_folder`); refused for other datasets.

    Returns:
        A ``tf.data.Dataset`` of ``(batch, 28, 28, 1)`` float32 batches (and int64 labels, which
        a conditional ``GAN`` casts to int32).

    Raises:
        ValueError: ``batch_size`` or ``limit`` is not a positive integer, or ``limit``
            leaves fewer images than one batch while ``drop_remainder`` is set.
        DatasetError: the data is missing or malformed.

    Example:
        >>> ds = load_images("fashion_mnist", batch_size=64, limit=1024, seed=0)  # doctest: +SKIP
        >>> images = next(iter(ds))  # doctest: +SKIP
        >>> float(images.numpy().min()) >= -1.0  # doctest: +SKIP
        True
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    limit = check_positive_int(limit, "limit", allow_none=True)
    from .folders import is_image_folder, load_folder

    if is_image_folder(name_or_path):
        if split != "train":
            raise DatasetError(
                f"{name_or_path} is a folder of images: it has one split, 'train'. "
                f"Received: split={split!r}"
            )
        folder = load_folder(name_or_path, image_size, channels, resize)
        images, labels = folder.images, folder.labels
        if with_labels and labels is None:
            raise DatasetError(
                f"{name_or_path} has no class sub-folders, so no labels (with_labels=True)"
            )
        if labels is None:
            labels = np.zeros(len(images), np.int64)
    elif image_size is not None or channels is not None:
        raise ValueError(
            "image_size and channels apply to a folder of image files. Received: "
            f"name_or_path={os.fspath(name_or_path)!r}"
        )
    else:
        images, labels = load_arrays(name_or_path, split, data_dir=data_dir)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    if drop_remainder and len(images) < batch_size:
        raise ValueError(
            f"{len(images)} images make no full batch of {batch_size}; lower batch_size or raise "
            f"limit. Received: batch_size={batch_size}, limit={limit}"
        )
    ds = tf.data.Dataset.from_tensor_slices((images, labels) if with_labels else images)
    if shuffle:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if with_labels:
        ds = ds.map(lambda x, y: (scale_images(x), y), num_parallel_calls=tf.data.AUTOTUNE)
    else:
        ds = ds.map(scale_images, num_parallel_calls=tf.data.AUTOTUNE)
    options = tf.data.Options()
    # In-memory data cannot be sharded by file: shard by element under a multi-worker strategy.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options).prefetch(tf.data.AUTOTUNE)
