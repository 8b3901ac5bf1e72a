"""A strict reader for the IDX format of MNIST and Fashion-MNIST (raw or gzip-compressed).

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions),
one big-endian uint32 per dimension, then the values in big-endian C order. The reader checks
each of these and that the file holds exactly the bytes its header declares; any failure raises
:class:`~keras_gan.data.errors.DatasetError` naming the file.

Example:
    >>> images = read_idx("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")
    ... # doctest: +SKIP
    >>> images.shape, images.dtype  # doctest: +SKIP
    ((10000, 28, 28), dtype('uint8'))
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from keras_gan import _atomic

from .errors import DatasetError

# IDX type code -> big-endian numpy dtype.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


# Bounds checked on the header, before any data is read or decompressed.
MAX_DIMS = 16
MAX_BYTES = 2**32  # 4 GiB of data; the largest IDX files in use are tens of MB
_DEFLATE_MAX_RATIO = 1032  # DEFLATE cannot expand one byte into more than this


def _open(path: Path) -> tuple[Any, int, bool]:
    """The file opened for reading (a gzip stream when compressed), its size on disk, and
    whether it is compressed."""
    try:
        handle = open(path, "rb")  # closed by the caller
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except OSError as error:
        raise DatasetError(f"{path}: cannot be read ({error.strerror or error})") from None
    size = os.fstat(handle.fileno()).st_size
    compressed = handle.read(2) == _GZIP_MAGIC
    handle.seek(0)
    if compressed:
        return gzip.GzipFile(fileobj=handle, mode="rb"), size, True
    return handle, size, False


def _read_exactly(path: Path, stream: Any, n: int, what: str) -> bytes:
    try:
        data = stream.read(n)
    except (EOFError, OSError, zlib.error) as error:
        raise DatasetError(
            f"{path}: corrupt or truncated gzip stream ({error}); "
            "expected a complete .gz file, reinstall or re-download it"
        ) from None
    if len(data) < n:
        raise DatasetError(f"{path}: truncated {what}: expected {n} bytes, the file has fewer")
    return data


def read_idx(path: str | os.PathLike[str], *, max_bytes: int = MAX_BYTES) -> np.ndarray:
    """Read one IDX file into a native-endian numpy array.

    The header is read and checked first (type code, at most ``MAX_DIMS`` dimensions, none of
    length zero, a declared size within ``max_bytes`` and, for a gzip file, within what its
    compressed size can hold); only then is the data read, so a hostile header costs neither
    memory nor decompression time.

    Args:
        path: an IDX file, raw or gzip-compressed (detected from its content, not its name).
        max_bytes: the largest data size accepted.

    Returns:
        The array with the shape the header declares (uint8 for MNIST images and labels).

    Raises:
        DatasetError: the file is missing, the gzip stream is damaged, the magic number, type
            code or dimensions are wrong, the declared size is out of bounds, or the data is
            shorter or longer than the header declares.

    Example:
        >>> labels = read_idx("t10k-labels-idx1-ubyte.gz")  # doctest: +SKIP
        >>> labels.shape  # doctest: +SKIP
        (10000,)
    """
    path = Path(path)
    stream, size, compressed = _open(path)
    with stream:
        return _read_idx(path, stream, size, compressed, max_bytes)


def _read_idx(path: Path, stream: Any, size: int, compressed: bool, max_bytes: int) -> np.ndarray:
    try:
        magic = stream.read(4)
    except (EOFError, OSError, zlib.error) as error:
        raise DatasetError(
            f"{path}: corrupt or truncated gzip stream ({error}); "
            "expected a complete .gz file, reinstall or re-download it"
        ) from None
    if len(magic) < 4:
        raise DatasetError(
            f"{path}: {len(magic)} bytes is too short for an IDX header (expected at least 4)"
        )
    if magic[0] != 0 or magic[1] != 0:
        raise DatasetError(
            f"{path}: bad IDX magic number 0x{magic.hex()} "
            "(expected two zero bytes, a type code and a dimension count)"
        )
    type_code, ndim = magic[2], magic[3]
    if type_code not in IDX_DTYPES:
        known = ", ".join(f"0x{code:02X}" for code in IDX_DTYPES)
        raise DatasetError(
            f"{path}: unknown IDX type code 0x{type_code:02X} (expected one of {known})"
        )
    if not 1 <= ndim <= MAX_DIMS:
        raise DatasetError(
            f"{path}: IDX header declares {ndim} dimensions (expected 1 to {MAX_DIMS})"
        )
    header_size = 4 + 4 * ndim
    dims = _read_exactly(path, stream, 4 * ndim, f"header ({ndim} dimensions need {header_size})")
    shape = tuple(int(d) for d in np.frombuffer(dims, ">u4"))
    if 0 in shape:
        raise DatasetError(
            f"{path}: IDX header declares shape {shape} with a zero-length dimension "
            "(expected every dimension >= 1)"
        )
    dtype = IDX_DTYPES[type_code]
    expected = math.prod(shape) * dtype.itemsize  # Python integers: no overflow
    limit = max_bytes if not compressed else min(max_bytes, size * _DEFLATE_MAX_RATIO)
    if expected > limit:
        bound = "its compressed size can hold" if limit < max_bytes else "the limit"
        why = f"more than {bound} ({limit} bytes)"
        raise DatasetError(
            f"{path}: IDX header declares shape {shape} of {dtype.name}, {expected} data "
            f"bytes, {why}; the file is damaged or not an IDX file"
        )
    if not compressed and size - header_size != expected:
        actual = size - header_size
        what = "truncated" if actual < expected else "has trailing bytes"
        raise DatasetError(
            f"{path}: {what}: header declares shape {shape} of {dtype.name} "
            f"({expected} data bytes), the file holds {actual}"
        )
    try:
        data = stream.read(expected)
        extra = stream.read(1)
    except (EOFError, OSError, zlib.error) as error:
        raise DatasetError(
            f"{path}: corrupt or truncated gzip stream ({error}); "
            "expected a complete .gz file, reinstall or re-download it"
        ) from None
    if len(data) != expected or extra:
        held = len(data) if len(data) < expected else "more"
        what = "truncated" if len(data) < expected else "has trailing bytes"
        raise DatasetError(
            f"{path}: {what}: header declares shape {shape} of {dtype.name} "
            f"({expected} data bytes), the file holds {held}"
        )
    array = np.frombuffer(data, dtype).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


def write_idx(path: str | os.PathLike[str], array: np.ndarray, *, compress: bool = True) -> None:
    """Write an array as an IDX file (the inverse of :func:`read_idx`), atomically.

    Args:
        path: destination file.
        array: uint8, int8, int16, int32, float32 or float64 array with at least one dimension.
        compress: gzip the file.

    Example:
        >>> write_idx("labels-idx1-ubyte.gz", np.arange(10, dtype=np.uint8))  # doctest: +SKIP
    """
    array = np.asarray(array)
    codes = {dtype.newbyteorder("="): code for code, dtype in IDX_DTYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise ValueError(
            f"write_idx: dtype {array.dtype} has no IDX type code "
            f"(expected one of {sorted(str(d) for d in codes)})"
        )
    if array.ndim == 0:
        raise ValueError("write_idx: expected an array with at least one dimension, got a scalar")
    header = bytes([0, 0, codes[native], array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    payload = header + array.astype(native.newbyteorder(">")).tobytes()
    if compress:
        payload = gzip.compress(payload, mtime=0)
    _atomic.write_bytes(path, payload)
