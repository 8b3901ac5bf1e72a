"""Where a dataset's IDX files are on this machine, and reading a split's pair of them.

The local places for a dataset name (``"fashion_mnist"``, ``"mnist"``), in order:

1. the directory given explicitly (``data_dir=``);
2. ``$KERAS_GAN_DATA_DIR`` (the IDX files themselves, or a sub-directory named after the dataset);
3. the Debian package location ``/usr/share/datasets/<name with - for _>``
   (``apt-get install dataset-fashion-mnist``).

:func:`keras_gan.data.load_arrays` tries these, then TensorFlow Datasets
(:mod:`keras_gan.data.tfds_source`, which reads this module too). Needs numpy only.

Example:
    >>> files = find_idx_files("/usr/share/datasets/fashion-mnist", "test")  # doctest: +SKIP
    >>> images, labels = read_idx_pair(files)  # doctest: +SKIP
    >>> images.shape, labels[:3]  # doctest: +SKIP
    ((10000, 28, 28, 1), array([9, 2, 1]))
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DatasetError
from .idx import read_idx

DEBIAN_ROOT = Path("/usr/share/datasets")
SPLITS = ("train", "test")
#: File-name prefixes per split, as MNIST-like distributions name them.
PREFIXES = {"train": ("train",), "test": ("t10k", "test")}
_KINDS = {
    "images": ("-images-idx3-ubyte", "-images.idx3-ubyte"),
    "labels": ("-labels-idx1-ubyte", "-labels.idx1-ubyte"),
}
KNOWN_DATASETS = ("fashion_mnist", "mnist")


@dataclass(frozen=True)
class IdxFiles:
    """The image and label files of one split.

    Example:
        >>> IdxFiles(Path("a-images-idx3-ubyte"), Path("a-labels-idx1-ubyte")).images.name
        'a-images-idx3-ubyte'
    """

    images: Path
    labels: Path


def canonical_name(name: str) -> str:
    """Normalise a dataset name: lower case, ``-`` to ``_``.

    Example:
        >>> canonical_name("Fashion-MNIST")
        'fashion_mnist'
    """
    return name.strip().lower().replace("-", "_")


def check_split(split: str) -> str:
    """Validate a split name.

    Example:
        >>> check_split("test")
        'test'
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}. Received: split={split!r}")
    return split


def find_idx_files(directory: str | os.PathLike[str], split: str = "train") -> IdxFiles | None:
    """Find a split's IDX image and label files in a directory.

    Accepts ``train-``/``t10k-``/``test-`` prefixes, ``-images-idx3-ubyte`` or
    ``-images.idx3-ubyte`` names, gzip-compressed (``.gz``) or raw.

    Args:
        directory: the directory to look in.
        split: ``"train"`` or ``"test"``.

    Returns:
        The two files, or None when the directory does not hold both.

    Example:
        >>> find_idx_files("/usr/share/datasets/fashion-mnist", "test")  # doctest: +SKIP
        IdxFiles(images=PosixPath('.../t10k-images-idx3-ubyte.gz'), labels=...)
    """
    directory = Path(directory)
    found: dict[str, Path] = {}
    for kind, suffixes in _KINDS.items():
        for prefix in PREFIXES[check_split(split)]:
            for suffix in suffixes:
                for ext in (".gz", ""):
                    candidate = directory / f"{prefix}{suffix}{ext}"
                    if kind not in found and candidate.is_file():
                        found[kind] = candidate
    if len(found) != 2:
        return None
    return IdxFiles(found["images"], found["labels"])


def read_idx_pair(files: IdxFiles) -> tuple[np.ndarray, np.ndarray]:
    """Read and cross-check an image file and its label file.

    Returns:
        ``(images, labels)``: uint8 images ``(N, H, W, 1)`` and int64 labels ``(N,)``.

    Raises:
        DatasetError: either file is malformed, the images are not 3-D uint8, the labels not
            1-D, or the counts differ.

    Example:
        >>> images, labels = read_idx_pair(find_idx_files("data", "train"))  # doctest: +SKIP
    """
    images = read_idx(files.images)
    labels = read_idx(files.labels)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DatasetError(
            f"{files.images}: expected uint8 images of shape (N, H, W), "
            f"got {images.dtype} of shape {images.shape}"
        )
    if labels.ndim != 1:
        raise DatasetError(f"{files.labels}: expected labels of shape (N,), got {labels.shape}")
    if len(images) != len(labels):
        raise DatasetError(
            f"{files.images} holds {len(images)} images but {files.labels} holds "
            f"{len(labels)} labels (expected the same count)"
        )
    return images[..., np.newaxis], labels.astype(np.int64)


def candidate_directories(name: str, data_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """The local directories searched for a named dataset, in order (TFDS comes after these).

    Example:
        >>> [str(p) for p in candidate_directories("fashion_mnist")][-1]
        '/usr/share/datasets/fashion-mnist'
    """
    debian_name = canonical_name(name).replace("_", "-")
    places: list[Path] = []
    if data_dir is not None:
        places += [
            Path(data_dir),
            Path(data_dir) / debian_name,
            Path(data_dir) / canonical_name(name),
        ]
    env = os.environ.get("KERAS_GAN_DATA_DIR")
    if env:
        places += [Path(env), Path(env) / debian_name, Path(env) / canonical_name(name)]
    places.append(DEBIAN_ROOT / debian_name)
    return places
