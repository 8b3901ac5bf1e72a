"""TensorFlow Datasets as the last data source, and building its copy from local files offline.

TFDS's ``fashion_mnist`` builder verifies downloads against recorded checksums, and the Debian
package re-compresses the files, so the builder rejects them. :func:`prepare` hands the builder
the checksums of the local files instead and points its ``manual_dir`` at them, after which
``tfds.load(name, download=False)`` works with no network.

Example:
    >>> prepare("fashion_mnist", source="/usr/share/datasets/fashion-mnist")  # doctest: +SKIP
    PosixPath('/root/tensorflow_datasets/fashion_mnist/3.0.1')
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DatasetError
from .sources import candidate_directories, find_idx_files

# Files the MNIST-family TFDS builders download, by the names they use.
_TFDS_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def _network_reachable(host: str = "storage.googleapis.com", timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def load_tfds_arrays(
    name: str, split: str, tried: list[str], data_dir: str | None = None
) -> tuple[np.ndarray, np.ndarray] | None:
    """Load a split through TFDS: prepared data first, then a download if the network allows.

    Appends a line per attempt to ``tried`` and returns None when TFDS cannot provide the data.

    Example:
        >>> tried = []
        >>> arrays = load_tfds_arrays("fashion_mnist", "test", tried)  # doctest: +SKIP
    """
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        tried.append("TensorFlow Datasets (not installed: pip install 'keras-gan[train]')")
        return None
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except Exception as error:  # unknown dataset name, bad data dir
        tried.append(f"TensorFlow Datasets ({type(error).__name__}: {error})")
        return None
    location = builder.data_dir
    if not builder.is_prepared():
        tried.append(f"TensorFlow Datasets prepared data in {location} (not prepared)")
        if not _network_reachable():
            tried.append("TensorFlow Datasets download (no network access)")
            return None
        try:
            builder.download_and_prepare()
        except Exception as error:
            tried.append(f"TensorFlow Datasets download ({type(error).__name__}: {error})")
            return None
    data = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1))
    images = np.asarray(data["image"], dtype=np.uint8)
    labels = np.asarray(data["label"], dtype=np.int64)
    if images.ndim == 3:
        images = images[..., np.newaxis]
    return images, labels


def prepare(
    name: str = "fashion_mnist",
    source: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """Build the TFDS copy of an MNIST-like dataset from local IDX ``.gz`` files, offline.

    Args:
        name: the TFDS name (``fashion_mnist`` or ``mnist``).
        source: directory with the four ``.gz`` files; by default the first local place that
            has them (``$KERAS_GAN_DATA_DIR``, ``/usr/share/datasets/...``).
        data_dir: the TFDS data dir; TFDS's default (``$TFDS_DATA_DIR`` or
            ``~/tensorflow_datasets``) when None.

    Returns:
        The directory of the prepared dataset.

    Raises:
        DatasetError: no directory with the four files was found.

    Example:
        >>> prepare("fashion_mnist", source="/usr/share/datasets/fashion-mnist")  # doctest: +SKIP
    """
    import tensorflow_datasets as tfds
    from tensorflow_datasets.core.download import checksums

    if source is None:
        places = candidate_directories(name)
        source = next(
            (d for d in places if find_idx_files(d, "train") and find_idx_files(d, "test")),
            None,
        )
        if source is None:
            raise DatasetError(
                f"no local copy of {name!r} to prepare from (looked in "
                f"{', '.join(str(p) for p in places)}); pass --source DIR"
            )
    source = Path(source)
    missing = [f for f in _TFDS_FILES if not (source / f).is_file()]
    if missing:
        raise DatasetError(
            f"{source}: missing {', '.join(missing)} (expected the four gzip IDX files "
            f"{', '.join(_TFDS_FILES)})"
        )
    builder = tfds.builder(name, data_dir=None if data_dir is None else os.fspath(data_dir))
    base_url = getattr(type(builder), "URL", None)
    if base_url is None:
        raise DatasetError(f"TFDS builder {name!r} has no download URL to map local files onto")
    url_infos = {}
    for filename in _TFDS_FILES:
        payload = (source / filename).read_bytes()
        url_infos[urllib.parse.urljoin(base_url, filename)] = checksums.UrlInfo(
            size=len(payload), checksum=hashlib.sha256(payload).hexdigest(), filename=filename
        )
    with _recorded_checksums(type(builder), url_infos):
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir=os.fspath(source))
        )
    return Path(builder.data_dir)


@contextlib.contextmanager
def _recorded_checksums(builder_class: type, url_infos: dict[str, Any]) -> Iterator[None]:
    """Make ``builder_class`` verify downloads against ``url_infos`` while the block runs.

    TFDS has no public way to give a builder other checksums: ``download_and_prepare`` builds
    its ``DownloadManager`` from the class property ``url_infos`` (the package's recorded
    checksums, memoised), checks files in ``manual_dir`` against them, and
    ``DownloadConfig(register_checksums=True)`` would write into the installed package. So the
    class attribute is replaced for the duration of the block and then restored.

    Example:
        >>> class Builder:
        ...     url_infos = {"a": 1}
        >>> with _recorded_checksums(Builder, {"b": 2}):
        ...     Builder.url_infos
        {'b': 2}
        >>> Builder.url_infos
        {'a': 1}
    """
    own = builder_class.__dict__.get("url_infos", _MISSING)
    builder_class.url_infos = url_infos
    try:
        yield
    finally:
        if own is _MISSING:
            delattr(builder_class, "url_infos")
        else:
            builder_class.url_infos = own


_MISSING = object()
