"""Datasets: a strict IDX reader, dataset resolution (local files, Debian, TFDS), tf.data pipelines,
and the 2-D Gaussian-mixture benchmarks.

Names are imported lazily: ``load_arrays`` and :class:`DatasetError` need numpy only,
``load_images`` imports TensorFlow.

Example:
    >>> from keras_gan.data import load_images
    >>> ds = load_images("fashion_mnist", batch_size=128)  # doctest: +SKIP
"""

from __future__ import annotations

from keras_gan._lazy import lazy_exports

from .errors import DatasetError

_LAZY = {
    "load_arrays": ".arrays",
    "find_idx_files": ".sources",
    "read_idx_pair": ".sources",
    "read_idx": ".idx",
    "write_idx": ".idx",
    "load_images": ".dataset",
    "scale_images": ".dataset",
    "prepare": ".tfds_source",
    "mixture_of_gaussians": ".toy2d",
    "mixture_centers": ".toy2d",
    "load_points": ".toy2d",
}

__all__ = ["DatasetError", *_LAZY]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, extra=__all__)
