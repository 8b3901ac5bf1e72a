"""Loading an MNIST-like split as numpy arrays, from the first source that has it.

Resolution order for a dataset name (``"fashion_mnist"``, ``"mnist"``):

1. the directory given explicitly (``data_dir=``);
2. ``$KERAS_GAN_DATA_DIR`` (the IDX files themselves, or a sub-directory named after the dataset);
3. the Debian package location ``/usr/share/datasets/<name with - for _>``
   (``apt-get install dataset-fashion-mnist``);
4. TensorFlow Datasets: data already prepared in its data dir (``keras-gan data prepare``), then
   a download where the network allows.

Steps 1 to 3 are :mod:`keras_gan.data.sources`, step 4 :mod:`keras_gan.data.tfds_source`. A
path to a directory of IDX files is used as it is. This module does not import TensorFlow
unless it reaches the TFDS step.

Example:
    >>> images, labels = load_arrays("fashion_mnist", split="test")  # doctest: +SKIP
    >>> images.shape, labels[:3]  # doctest: +SKIP
    ((10000, 28, 28, 1), array([9, 2, 1]))
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from . import sources
from .errors import DatasetError
from .sources import (
    candidate_directories,
    canonical_name,
    check_split,
    find_idx_files,
    read_idx_pair,
)


def _how_to_get(name: str) -> str:
    debian = f"dataset-{canonical_name(name).replace('_', '-')}"
    return (
        f"To get it: `apt-get install {debian}` (Debian/Ubuntu, installs IDX files under "
        f"{sources.DEBIAN_ROOT}), or point $KERAS_GAN_DATA_DIR or --data-dir at a directory of "
        "IDX files, "
        f"or run `keras-gan data prepare {canonical_name(name)} --source DIR` to build the "
        "TensorFlow Datasets copy from local files, or let TensorFlow Datasets download it on a "
        "machine with network access."
    )


def load_arrays(
    name_or_path: str | os.PathLike[str] = "fashion_mnist",
    split: str = "train",
    data_dir: str | os.PathLike[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Load an MNIST-like split as numpy arrays.

    Args:
        name_or_path: ``"fashion_mnist"``, ``"mnist"``, or a directory holding IDX files.
        split: ``"train"`` or ``"test"``.
        data_dir: a directory to look in first (see the module docstring for the order).

    Returns:
        ``(images, labels)``: uint8 ``(N, 28, 28, 1)`` and int64 ``(N,)``.

    Raises:
        DatasetError: the data is malformed, or no source has it (the message lists every
            place tried and how to get the data).

    Example:
        >>> images, labels = load_arrays("fashion_mnist", "test")  # doctest: +SKIP
        >>> images.dtype, images.shape  # doctest: +SKIP
        (dtype('uint8'), (10000, 28, 28, 1))
    """
    check_split(split)
    text = os.fspath(name_or_path)
    as_path = Path(text).expanduser()
    if as_path.is_dir() or os.sep in text or text.startswith("."):
        if not as_path.is_dir():
            raise DatasetError(f"{as_path}: no such directory (expected a directory of IDX files)")
        files = find_idx_files(as_path, split)
        if files is None:
            raise DatasetError(
                f"{as_path}: no IDX files for split {split!r} (expected e.g. "
                f"{sources.PREFIXES[split][0]}-images-idx3-ubyte.gz and "
                f"{sources.PREFIXES[split][0]}-labels-idx1-ubyte.gz)"
            )
        return read_idx_pair(files)

    tried: list[str] = []
    for directory in candidate_directories(text, data_dir):
        files = find_idx_files(directory, split)
        if files is not None:
            return read_idx_pair(files)
        tried.append(
            f"{directory} (no IDX files)" if directory.is_dir() else f"{directory} (missing)"
        )

    from . import tfds_source  # imports TensorFlow Datasets: only when the local places fail

    arrays = tfds_source.load_tfds_arrays(canonical_name(text), split, tried)
    if arrays is not None:
        return arrays
    listing = "\n  - ".join(tried)
    raise DatasetError(
        f"dataset {text!r} ({split}) was not found. Places tried:\n  - {listing}\n"
        + _how_to_get(text)
    )
