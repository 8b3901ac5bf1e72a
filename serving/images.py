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


#: A 5x7 bitmap font for row labels: each glyph is 7 rows of 5 bits (most significant left).
#: Letters are drawn upper case; other characters as "?".
_FONT = {
    "A": (14, 17, 17, 31, 17, 17, 17), "B": (30, 17, 17, 30, 17, 17, 30),
    "C": (14, 17, 16, 16, 16, 17, 14), "D": (28, 18, 17, 17, 17, 18, 28),
    "E": (31, 16, 16, 30, 16, 16, 31), "F": (31, 16, 16, 30, 16, 16, 16),
    "G": (14, 17, 16, 23, 17, 17, 15), "H": (17, 17, 17, 31, 17, 17, 17),
    "I": (14, 4, 4, 4, 4, 4, 14), "J": (7, 2, 2, 2, 2, 18, 12),
    "K": (17, 18, 20, 24, 20, 18, 17), "L": (16, 16, 16, 16, 16, 16, 31),
    "M": (17, 27, 21, 21, 17, 17, 17), "N": (17, 17, 25, 21, 19, 17, 17),
    "O": (14, 17, 17, 17, 17, 17, 14), "P": (30, 17, 17, 30, 16, 16, 16),
    "Q": (14, 17, 17, 17, 21, 18, 13), "R": (30, 17, 17, 30, 20, 18, 17),
    "S": (15, 16, 16, 14, 1, 1, 30), "T": (31, 4, 4, 4, 4, 4, 4),
    "U": (17, 17, 17, 17, 17, 17, 14), "V": (17, 17, 17, 17, 17, 10, 4),
    "W": (17, 17, 17, 21, 21, 21, 10), "X": (17, 17, 10, 4, 10, 17, 17),
    "Y": (17, 17, 17, 10, 4, 4, 4), "Z": (31, 1, 2, 4, 8, 16, 31),
    "0": (14, 17, 19, 21, 25, 17, 14), "1": (4, 12, 4, 4, 4, 4, 14),
    "2": (14, 17, 1, 2, 4, 8, 31), "3": (31, 2, 4, 2, 1, 17, 14),
    "4": (2, 6, 10, 18, 31, 2, 2), "5": (31, 16, 30, 1, 1, 17, 14),
    "6": (6, 8, 16, 30, 17, 17, 14), "7": (31, 1, 2, 4, 8, 8, 8),
    "8": (14, 17, 17, 14, 17, 17, 14), "9": (14, 17, 17, 15, 1, 2, 12),
    " ": (0, 0, 0, 0, 0, 0, 0), "-": (0, 0, 0, 31, 0, 0, 0),
    "_": (0, 0, 0, 0, 0, 0, 31), "/": (1, 1, 2, 4, 8, 16, 16),
    ".": (0, 0, 0, 0, 0, 12, 12), ",": (0, 0, 0, 0, 12, 4, 8),
    "'": (12, 4, 8, 0, 0, 0, 0), "(": (2, 4, 8, 8, 8, 4, 2),
    ")": (8, 4, 2, 2, 2, 4, 8), "?": (14, 17, 1, 2, 4, 0, 4),
}  # fmt: skip
#: A glyph's size in font pixels, with one column of spacing.
_GLYPH_HEIGHT, _GLYPH_ADVANCE = 7, 6
#: The image side that ``default_scale`` enlarges small images to, at least.
READABLE_SIDE = 96


def default_scale(height: int, width: int) -> int:
    """The whole-number enlargement that makes an image at least ``READABLE_SIDE`` pixels on its
    longer side: 4 for 28x28, 3 for 32x32, 2 for 64x64, 1 from 96 up.

    Example:
        >>> default_scale(28, 28), default_scale(64, 64), default_scale(128, 128)
        (4, 2, 1)
    """
    return max(1, math.ceil(READABLE_SIDE / max(height, width, 1)))


def render_text(text: str, scale: int = 1) -> np.ndarray:
    """Draw ``text`` (upper-cased) in white on black with the built-in 5x7 font.

    Returns:
        uint8 array ``(7 * scale, 6 * len(text) * scale)``.

    Example:
        >>> render_text("ab", 2).shape
        (14, 24)
    """
    scale = check_positive_int(scale, "scale")
    bitmap = np.zeros((_GLYPH_HEIGHT, _GLYPH_ADVANCE * len(text)), np.uint8)
    for index, char in enumerate(text.upper()):
        rows = _FONT.get(char, _FONT["?"])
        for row, bits in enumerate(rows):
            for column in range(5):
                if bits & (16 >> column):
                    bitmap[row, index * _GLYPH_ADVANCE + column] = 255
    return np.kron(bitmap, np.ones((scale, scale), np.uint8))


def tile_images(
    images: np.ndarray,
    columns: int | None = None,
    padding: int = 2,
    scale: int = 1,
    row_labels: list[str] | None = None,
) -> np.ndarray:
    """Tile a batch of images into one grid image.

    Args:
        images: array (n, height, width, channels) or (n, height, width), uint8 or float in [-1, 1].
        columns: images per row; the ceiling of sqrt(n) when None.
        padding: pixels of black border between images.
        scale: whole-number enlargement of each image (nearest neighbour: pixels stay sharp).
        row_labels: a text per grid row, drawn in a column on the left (e.g. the class of each
            row of a class-conditional grid); as many as there are rows.

    Returns:
        uint8 array (grid_height, grid_width, channels).

    Example:
        >>> tile_images(np.zeros((4, 2, 2, 1)), padding=0).shape
        (4, 4, 1)
        >>> tile_images(np.zeros((4, 2, 2, 1)), padding=0, scale=3).shape
        (12, 12, 1)
    """
    images = to_uint8(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[0] == 0:
        raise ValueError(
            "tile_images expects a non-empty batch of shape (n, height, width, channels). "
            f"Received: shape={images.shape}"
        )
    scale = check_positive_int(scale, "scale")
    if scale > 1:
        images = images.repeat(scale, axis=1).repeat(scale, axis=2)
    n, height, width, channels = images.shape
    columns = check_positive_int(columns or math.ceil(math.sqrt(n)), "columns")
    rows = math.ceil(n / columns)
    label_width, text_scale = 0, 1
    if row_labels is not None:
        if len(row_labels) != rows:
            raise ValueError(
                f"row_labels must give one text per grid row ({rows}). "
                f"Received: {len(row_labels)} labels"
            )
        text_scale = min(3, max(1, height // 48))
        longest = max((len(str(label)) for label in row_labels), default=0)
        label_width = longest * _GLYPH_ADVANCE * text_scale + padding
    grid = np.zeros(
        (
            rows * (height + padding) + padding,
            label_width + columns * (width + padding) + padding,
            channels,
        ),
        dtype=np.uint8,
    )
    for index in range(n):
        row, column = divmod(index, columns)
        top = padding + row * (height + padding)
        left = label_width + padding + column * (width + padding)
        grid[top : top + height, left : left + width] = images[index]
    for row, label in enumerate(row_labels or []):
        text = render_text(str(label), text_scale)[:height, : label_width - padding]
        top = padding + row * (height + padding) + (height - text.shape[0]) // 2
        grid[top : top + text.shape[0], padding : padding + text.shape[1]] = text[..., None]
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
    images: np.ndarray,
    path: str | os.PathLike,
    columns: int | None = None,
    padding: int = 2,
    scale: int | None = None,
    row_labels: list[str] | None = None,
) -> Path:
    """Tile ``images`` into a grid and write it as a PNG file (atomically).

    Args:
        images: batch (n, height, width[, channels]), uint8 or float in [-1, 1].
        path: the PNG file to write.
        columns: images per row; the ceiling of sqrt(n) when None.
        padding: pixels between images.
        scale: whole-number enlargement of each image; ``default_scale`` (28 pixels -> 4) when
            None, so small images are large enough to see.
        row_labels: a text per grid row, drawn on the left.

    Returns:
        The written path.

    Example:
        >>> save_grid(np.zeros((16, 28, 28, 1)), "/tmp/grid.png")  # doctest: +SKIP
    """
    images = np.asarray(images)
    if scale is None and images.ndim >= 3:
        scale = default_scale(images.shape[1], images.shape[2])
    grid = tile_images(images, columns, padding, scale=scale or 1, row_labels=row_labels)
    return write_bytes_atomic(path, encode_png(grid))
