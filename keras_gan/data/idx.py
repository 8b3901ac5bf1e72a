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
import os
import zlib
from pathlib import Path

import numpy as np

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


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except OSError as error:
        raise DatasetError(f"{path}: cannot be read ({error.strerror or error})") from None
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as error:
        raise DatasetError(
            f"{path}: corrupt or truncated gzip stream ({error}); "
            "expected a complete .gz file, reinstall or re-download it"
        ) from None


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read one IDX file into a native-endian numpy array.

    Args:
        path: an IDX file, raw or gzip-compressed (detected from its content, not its name).

    Returns:
        The array with the shape the header declares (uint8 for MNIST images and labels).

    Raises:
        DatasetError: the file is missing, the gzip stream is damaged, the magic number or
            type code is wrong, or the data is shorter or longer than the header declares.

    Example:
        >>> labels = read_idx("t10k-labels-idx1-ubyte.gz")  # doctest: +SKIP
        >>> labels.shape  # doctest: +SKIP
        (10000,)
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise DatasetError(
            f"{path}: {len(data)} bytes is too short for an IDX header (expected at least 4)"
        )
    if data[0] != 0 or data[1] != 0:
        raise DatasetError(
            f"{path}: bad IDX magic number 0x{data[:4].hex()} "
            "(expected two zero bytes, a type code and a dimension count)"
        )
    type_code, ndim = data[2], data[3]
    if type_code not in IDX_DTYPES:
        known = ", ".join(f"0x{code:02X}" for code in IDX_DTYPES)
        raise DatasetError(
            f"{path}: unknown IDX type code 0x{type_code:02X} (expected one of {known})"
        )
    if ndim == 0:
        raise DatasetError(f"{path}: IDX header declares 0 dimensions (expected at least 1)")
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise DatasetError(
            f"{path}: truncated header: {ndim} dimensions need {header_size} bytes, "
            f"the file has {len(data)}"
        )
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(data) - header_size
    if actual != expected:
        what = "truncated" if actual < expected else "has trailing bytes"
        raise DatasetError(
            f"{path}: {what}: header declares shape {shape} of {dtype.name} "
            f"({expected} data bytes), the file holds {actual}"
        )
    array = np.frombuffer(data, dtype, offset=header_size).reshape(shape)
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
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(payload)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
