"""Image grids and PNG files with numpy and the standard library alone.

Used by the sampler (no TensorFlow on a serving host) and by the training callbacks.
"""

from __future__ import annotations

import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

# The package's one atomic writer (standard library only), under its historical name here.
from keras_gan._atomic import write_bytes as write_bytes_atomic
from keras_gan._checks import check_positive_int


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Map images in [-1, 1] to uint8 in [0, 255] (values outside are clipped).

    Args:
        images: float array of any shape, nominally in [-1, 1]. A uint8 array is returned as is.

    Returns:
        uint8 array of the same shape.

    Example:
        >>> to_uint8(np.array([-1.0, 0.0, 1.0])).tolist()
        [0, 128, 255]
    """
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    scaled = np.rint((np.clip(images.astype(np.float32), -1.0, 1.0) + 1.0) * 127.5)
    return scaled.astype(np.uint8)


def tile_images(images: np.ndarray, columns: int | None = None, padding: int = 2) -> np.ndarray:
    """Tile a batch of images into one grid image.

    Args:
        images: array (n, height, width, channels) or (n, height, width), uint8 or float in [-1, 1].
        columns: images per row; the ceiling of sqrt(n) when None.
        padding: pixels of black border between images.

    Returns:
        uint8 array (grid_height, grid_width, channels).

    Example:
        >>> tile_images(np.zeros((4, 2, 2, 1)), padding=0).shape
        (4, 4, 1)
    """
    images = to_uint8(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[0] == 0:
        raise ValueError(
            "tile_images expects a non-empty batch of shape (n, height, width, channels). "
            f"Received: shape={images.shape}"
        )
    n, height, width, channels = images.shape
    columns = check_positive_int(columns or math.ceil(math.sqrt(n)), "columns")
    rows = math.ceil(n / columns)
    grid = np.zeros(
        (rows * (height + padding) + padding, columns * (width + padding) + padding, channels),
        dtype=np.uint8,
    )
    for index in range(n):
        row, column = divmod(index, columns)
        top = padding + row * (height + padding)
        left = padding + column * (width + padding)
        grid[top : top + height, left : left + width] = images[index]
    return grid


def encode_png(image: np.ndarray) -> bytes:
    """Encode a uint8 image (height, width[, channels]) with 1, 3 or 4 channels as PNG bytes.

    Args:
        image: uint8 array; float arrays in [-1, 1] are converted with ``to_uint8``.

    Returns:
        The PNG file's bytes.

    Example:
        >>> encode_png(np.zeros((2, 2, 1), np.uint8))[:8]
        b'\\x89PNG\\r\\n\\x1a\\n'
    """
    image = to_uint8(image)
    if image.ndim == 2:
        image = image[..., None]
    color_types = {1: 0, 3: 2, 4: 6}
    if image.ndim != 3 or image.shape[2] not in color_types:
        raise ValueError(
            f"encode_png expects (height, width, 1|3|4). Received: shape={image.shape}"
        )
    height, width, channels = image.shape
    raw = np.concatenate(
        [np.zeros((height, 1), np.uint8), image.reshape(height, width * channels)], axis=1
    )

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, color_types[channels], 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6))
        + chunk(b"IEND", b"")
    )


def save_grid(
    images: np.ndarray, path: str | os.PathLike, columns: int | None = None, padding: int = 2
) -> Path:
    """Tile ``images`` into a grid and write it as a PNG file (atomically).

    Args:
        images: batch (n, height, width[, channels]), uint8 or float in [-1, 1].
        path: the PNG file to write.
        columns: images per row; the ceiling of sqrt(n) when None.
        padding: pixels between images.

    Returns:
        The written path.

    Example:
        >>> save_grid(np.zeros((16, 28, 28, 1)), "/tmp/grid.png")  # doctest: +SKIP
    """
    return write_bytes_atomic(path, encode_png(tile_images(images, columns, padding)))
