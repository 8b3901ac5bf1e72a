"""A folder of image files as one uint8 array: decoded once, cached, memory-mapped.

``load_folder(PATH)`` searches ``PATH`` recursively for PNG, JPEG, BMP, GIF (first frame), TIFF
and WebP files (by suffix, any case; hidden files and folders, and other files, are ignored).
When every image lies in a first-level sub-folder and there are at least two of them, the
sub-folder names are the class labels, sorted (as ``keras.utils.image_dataset_from_directory``
does); otherwise the images have no labels.

Each image is decoded with Pillow: the first frame, turned upright by its EXIF orientation,
CMYK and palette images converted, 16-bit images scaled to 8 bits, transparency composited on
a white background (``BACKGROUND``); then brought to ``size x size`` pixels by ``resize``:

* ``"crop"`` (default): the largest centred square, then resized;
* ``"pad"``: the whole image on a square of the background colour, then resized;
* ``"stretch"``: resized to the square, ignoring the aspect ratio.

``size`` defaults to the images' own side when every image is square and of one size, and
``channels`` to 1 when every image is grayscale, else 3; otherwise the error asks for
``--image-size``. An image whose header announces more than ``MAX_PIXELS`` pixels (a
decompression bomb) is refused before it is decoded, so memory stays bounded.

A file that cannot be decoded is skipped, and the result lists it with the reason; more than
``MAX_BAD_SHARE`` of the files bad, or none decodable, is a :class:`DatasetError` naming
examples. The decoded array is written once under ``<cache>/images/<key>/`` (``$KERAS_GAN_CACHE``
or ``~/.cache/keras_gan``), keyed by the file list with sizes and modification times and the
decoding options, and memory-mapped on later loads; the user's folder is never written to.

Example:
    >>> folder = load_folder("photos", size=64)  # doctest: +SKIP
    >>> folder.images.shape, folder.class_names  # doctest: +SKIP
    ((1200, 64, 64, 3), ('cats', 'dogs'))
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from keras_gan._atomic import atomic_directory
from keras_gan._cache import cache_root
from keras_gan._checks import check_positive_int

from .errors import DatasetError

__all__ = [
    "BACKGROUND",
    "IMAGE_SUFFIXES",
    "MAX_BAD_SHARE",
    "MAX_PIXELS",
    "RESIZE_MODES",
    "ImageFolder",
    "decode_image",
    "is_image_folder",
    "load_folder",
    "scan_folder",
    "stacked",
    "write_folder",
]

#: File suffixes read as images (compared without regard to case).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
#: How a non-square image becomes square.
RESIZE_MODES = ("crop", "pad", "stretch")
#: The colour transparent pixels are composited on, and ``pad`` fills with (white).
BACKGROUND = 255
#: The largest image accepted, in pixels (from its header, before decoding): 8192 x 8192.
MAX_PIXELS = 8192 * 8192
#: The largest share of undecodable files a folder may have.
MAX_BAD_SHARE = 0.1
#: Version of the decoding; part of the cache key.
DECODER_VERSION = 1
_GRAY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F", "La"})


@dataclass(frozen=True)
class ImageFolder:
    """The decoded images of a folder.

    Attributes:
        images: uint8 ``(N, size, size, channels)``, memory-mapped from the cache.
        labels: int64 ``(N,)`` class indices, or None without class sub-folders.
        class_names: the sub-folder names, sorted, or None.
        files: the decoded files, relative to ``root``, in the order of ``images``.
        skipped: ``(file, reason)`` of each file that could not be used.
        root: the folder.
        cache_dir: where the decoded array lives.
        decoded: whether this call decoded the images (False: read from the cache).
        seconds: the time this call took.
    """

    images: np.ndarray
    labels: np.ndarray | None
    class_names: tuple[str, ...] | None
    files: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]
    root: Path
    cache_dir: Path
    decoded: bool = False
    seconds: float = 0.0
    _options: dict = field(default_factory=dict, repr=False)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(size, size, channels)``."""
        return tuple(int(d) for d in self.images.shape[1:])  # type: ignore[return-value]


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def scan_folder(root: str | os.PathLike[str]) -> tuple[list[Path], tuple[str, ...] | None]:
    """The image files under ``root`` (sorted, relative) and the class names, if any.

    Raises:
        DatasetError: ``root`` is not a folder, or holds no image file.

    Example:
        >>> files, classes = scan_folder("photos")  # doctest: +SKIP
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DatasetError(f"{root}: no such folder (expected a folder of image files)")
    files = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith(".") or not name.lower().endswith(IMAGE_SUFFIXES):
                continue
            files.append((Path(dirpath) / name).relative_to(root))
    files.sort(key=lambda p: p.as_posix())
    if not files:
        raise DatasetError(
            f"{root}: no image files (looked for {', '.join(IMAGE_SUFFIXES)} in the folder and "
            "its sub-folders, hidden ones excepted)"
        )
    tops = {f.parts[0] for f in files if len(f.parts) > 1}
    loose = any(len(f.parts) == 1 for f in files)
    classes = tuple(sorted(tops)) if len(tops) >= 2 and not loose else None
    return files, classes


def is_image_folder(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a folder of image files: it holds at least one (searched
    recursively) and no IDX files of a train split, which make it an IDX dataset.

    Example:
        >>> is_image_folder("/nonexistent")
        False
    """
    from .sources import find_idx_files

    root = Path(path).expanduser()
    if not root.is_dir() or find_idx_files(root, "train"):
        return False
    # Stops at the first image file: the full listing is scan_folder's, once, in load_folder.
    for _, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        if any(not n.startswith(".") and n.lower().endswith(IMAGE_SUFFIXES) for n in filenames):
            return True
    return False


def _open(path: Path):
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():  # refused below, with the accepted limit
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
    except Image.DecompressionBombError as error:  # Pillow's own, far larger, limit
        raise DatasetError(
            f"{error} More than the {MAX_PIXELS:,} pixels accepted (a decompression bomb, or "
            "an image to shrink first)"
        ) from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        image.close()
        raise DatasetError(
            f"{width}x{height} pixels, more than the {MAX_PIXELS:,} accepted (a decompression "
            "bomb, or an image to shrink first)"
        )
    if width < 1 or height < 1:
        image.close()
        raise DatasetError(f"{width}x{height} pixels: empty")
    return image


def _header(path: Path) -> tuple[int, int, bool]:
    """Width, height and whether the image is grayscale, from its header alone."""
    with _open(path) as image:
        gray = image.mode in _GRAY_MODES
        if image.mode == "P":
            palette = image.getpalette() or []
            rgb = np.asarray(palette[: 3 * 256], np.int32).reshape(-1, 3)
            gray = bool(np.all(rgb == rgb[:, :1]))
        return image.size[0], image.size[1], gray


def decode_image(
    path: str | os.PathLike[str], size: int, channels: int, resize: str = "crop"
) -> np.ndarray:
    """Decode one image file into uint8 ``(size, size, channels)`` (see the module docstring).

    Raises:
        DatasetError: the file cannot be decoded (the message says why).

    Example:
        >>> decode_image("cat.jpg", 64, 3).shape  # doctest: +SKIP
        (64, 64, 3)
    """
    from PIL import Image, ImageOps

    path = Path(path)
    try:
        with _open(path) as image:
            image.seek(0)
            if image.format == "JPEG" and image.mode in ("L", "RGB", "CMYK", "YCbCr"):
                # Decode a large JPEG at a reduced scale (at least twice the target side).
                image.draft(image.mode, (2 * size, 2 * size))
            image.load()
            image = ImageOps.exif_transpose(image) or image
            image = _to_mode(image, channels)
            image = _square(image, size, resize, Image)
            array = np.asarray(image, dtype=np.uint8)
    except DatasetError:
        raise
    except Exception as error:  # Pillow raises many kinds on a broken file
        raise DatasetError(f"{type(error).__name__}: {error}") from None
    if array.ndim == 2:
        array = array[..., None]
    return array


def _to_mode(image, channels: int):
    from PIL import Image

    if image.mode.startswith("I;16") or image.mode == "I":
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if values.max(initial=0) > 255 or image.mode.startswith("I;16") else 255.0
        image = Image.fromarray(np.rint(values * (255.0 / top)).clip(0, 255).astype(np.uint8))
    elif image.mode == "F":
        values = np.asarray(image, dtype=np.float64)
        image = Image.fromarray(np.rint(values.clip(0, 1) * 255).astype(np.uint8))
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (BACKGROUND,) * 3 + (255,))
        image = Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("L" if channels == 1 else "RGB")


def _square(image, size: int, resize: str, Image):
    width, height = image.size
    if resize == "crop" and width != height:
        side = min(width, height)
        left, top = (width - side) // 2, (height - side) // 2
        image = image.crop((left, top, left + side, top + side))
    elif resize == "pad" and width != height:
        side = max(width, height)
        fill = BACKGROUND if image.mode == "L" else (BACKGROUND,) * 3
        canvas = Image.new(image.mode, (side, side), fill)
        canvas.paste(image, ((side - width) // 2, (side - height) // 2))
        image = canvas
    if image.size != (size, size):
        image = image.resize((size, size), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return image


def _listing_digest(root: Path, files: Sequence[Path]) -> str:
    """A digest of every file's path, size and modification time (one ``stat`` each)."""
    digest = hashlib.sha256()
    for relative in files:
        stat = (root / relative).stat()
        digest.update(f"{relative.as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _cache_key(listing: str, options: dict) -> str:
    text = json.dumps({**options, "decoder": DECODER_VERSION, "files": listing}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _defaults(
    root: Path, files: Sequence[Path], size: int | None, channels: int | None
) -> tuple[int, int, list[tuple[str, str]]]:
    """The size and channels to decode to, read from the headers when not given."""
    if size is not None and channels is not None:
        return size, channels, []
    shapes, grays, bad = set(), [], []
    for relative in files:
        try:
            width, height, gray = _header(root / relative)
        except DatasetError as error:
            bad.append((relative.as_posix(), str(error)))
            continue
        except Exception as error:
            bad.append((relative.as_posix(), f"{type(error).__name__}: {error}"))
            continue
        shapes.add((width, height))
        grays.append(gray)
    if not shapes:
        _too_many_bad(root, bad, len(files))
    if size is None:
        if len(shapes) != 1 or next(iter(shapes))[0] != next(iter(shapes))[1]:
            examples = ", ".join(f"{w}x{h}" for w, h in sorted(shapes)[:4])
            raise DatasetError(
                f"{root}: the images are not all square and of one size ({len(shapes)} sizes, "
                f"e.g. {examples}); choose the side to train at with --image-size N "
                "(image_size=N), e.g. 32, 64 or 128"
            )
        size = next(iter(shapes))[0]
    if channels is None:
        channels = 1 if all(grays) else 3
    return size, channels, bad


def _too_many_bad(root: Path, bad: Sequence[tuple[str, str]], total: int) -> None:
    examples = "; ".join(f"{name}: {reason}" for name, reason in bad[:3])
    raise DatasetError(
        f"{root}: {len(bad)} of {total} image files cannot be decoded (at most "
        f"{MAX_BAD_SHARE:.0%} may be), e.g. {examples}"
    )


def load_folder(
    root: str | os.PathLike[str],
    size: int | None = None,
    channels: int | None = None,
    resize: str = "crop",
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    verbose: bool = False,
) -> ImageFolder:
    """Decode (or read from the cache) every image of a folder.

    Args:
        root: the folder, searched recursively.
        size: the side of the square images to make; None: the images' own side when they are
            all square and of one size.
        channels: 1 or 3; None: 1 when every image is grayscale, else 3.
        resize: ``"crop"``, ``"pad"`` or ``"stretch"`` (see the module docstring).
        cache_dir: the cache root (default ``$KERAS_GAN_CACHE`` or ``~/.cache/keras_gan``).
        workers: decoding threads (default: one per CPU).
        verbose: print the decode rate and what was skipped.

    Returns:
        The :class:`ImageFolder`.

    Raises:
        ValueError: a bad ``size``, ``channels`` or ``resize``.
        DatasetError: no folder, no image file, no decodable image, too many bad files, or
            sizes that differ without ``size``.

    Example:
        >>> load_folder("photos", size=32, channels=3).images.shape  # doctest: +SKIP
        (1200, 32, 32, 3)
    """
    started = time.perf_counter()
    size = check_positive_int(size, "size", allow_none=True)
    if channels is not None and channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3. Received: channels={channels!r}")
    if resize not in RESIZE_MODES:
        raise ValueError(f"resize must be one of {RESIZE_MODES}. Received: resize={resize!r}")
    root = Path(root).expanduser().resolve()
    files, class_names = scan_folder(root)
    base = Path(cache_dir).expanduser() if cache_dir is not None else cache_root()
    # The key of the file list alone finds the sizes chosen for it last time.
    listing = _listing_digest(root, files)
    listing_key = _cache_key(listing, {"resize": resize, "size": size, "channels": channels})
    chosen_path = base / "images" / f"choice-{listing_key}.json"
    if (size is None or channels is None) and chosen_path.is_file():
        chosen = json.loads(chosen_path.read_text())
        size, channels, header_bad = chosen["size"], chosen["channels"], []
    else:
        size, channels, header_bad = _defaults(root, files, size, channels)
    options = {"resize": resize, "size": size, "channels": channels}
    key = _cache_key(listing, options)
    target = base / "images" / key
    decoded = False
    if not (target / "meta.json").is_file():
        _decode_all(root, files, class_names, options, target, workers, header_bad)
        decoded = True
        from keras_gan._atomic import write_json

        write_json(chosen_path, {"size": size, "channels": channels})
    meta = json.loads((target / "meta.json").read_text())
    images = np.load(target / "images.npy", mmap_mode="r")
    labels = None if meta["labels"] is None else np.asarray(meta["labels"], np.int64)
    folder = ImageFolder(
        images=images,
        labels=labels,
        class_names=None if meta["class_names"] is None else tuple(meta["class_names"]),
        files=tuple(meta["files"]),
        skipped=tuple((name, reason) for name, reason in meta["skipped"]),
        root=root,
        cache_dir=target,
        decoded=decoded,
        seconds=time.perf_counter() - started,
        _options=options,
    )
    if verbose:
        _report(folder)
    return folder


def _decode_all(
    root: Path,
    files: Sequence[Path],
    class_names: tuple[str, ...] | None,
    options: dict,
    target: Path,
    workers: int | None,
    header_bad: Sequence[tuple[str, str]],
) -> None:
    size, channels, resize = options["size"], options["channels"], options["resize"]
    known_bad = {name for name, _ in header_bad}
    todo = [f for f in files if f.as_posix() not in known_bad]

    def decode(relative: Path) -> np.ndarray | str:
        try:
            return decode_image(root / relative, size, channels, resize)
        except DatasetError as error:
            return str(error)

    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_directory(target) as tmp:
        array = np.lib.format.open_memmap(
            tmp / "images.npy", mode="w+", dtype=np.uint8, shape=(len(todo), size, size, channels)
        )
        kept: list[str] = []
        labels: list[int] = []
        bad = list(header_bad)
        index = {name: i for i, name in enumerate(class_names or ())}
        with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
            for relative, result in zip(todo, pool.map(decode, todo), strict=True):
                if isinstance(result, str):
                    bad.append((relative.as_posix(), result))
                    continue
                array[len(kept)] = result
                kept.append(relative.as_posix())
                if class_names is not None:
                    labels.append(index[relative.parts[0]])
        if not kept or len(bad) > MAX_BAD_SHARE * len(files):
            _too_many_bad(root, bad, len(files))
        array.flush()
        del array
        if len(kept) < len(todo):  # rewrite without the rows of skipped files, in chunks
            full = np.load(tmp / "images.npy", mmap_mode="r")
            shape = (len(kept), size, size, channels)
            rows = np.lib.format.open_memmap(
                tmp / "kept.npy", mode="w+", dtype=np.uint8, shape=shape
            )
            for start in range(0, len(kept), 4096):
                stop = min(start + 4096, len(kept))
                rows[start:stop] = full[start:stop]
            rows.flush()
            del full, rows
            os.replace(tmp / "kept.npy", tmp / "images.npy")
        meta = {
            "root": str(root),
            "options": options,
            "files": kept,
            "labels": labels if class_names is not None else None,
            "class_names": list(class_names) if class_names is not None else None,
            "skipped": [list(item) for item in bad],
        }
        (tmp / "meta.json").write_text(json.dumps(meta) + "\n")


def _report(folder: ImageFolder) -> None:
    shape = "x".join(str(d) for d in folder.image_shape)
    n = len(folder.images)
    if folder.decoded:
        rate = n / max(folder.seconds, 1e-9)
        print(
            f"decoded {n:,} images of {folder.root} to {shape} in {folder.seconds:.1f} s "
            f"({rate:,.0f} images/s); cached in {folder.cache_dir}",
            flush=True,
        )
    else:
        print(f"read {n:,} images ({shape}) of {folder.root} from the cache", flush=True)
    if folder.skipped:
        examples = "; ".join(f"{name} ({reason})" for name, reason in folder.skipped[:3])
        print(
            f"warning: skipped {len(folder.skipped)} file(s) that cannot be decoded, e.g. "
            f"{examples}",
            file=sys.stderr,
            flush=True,
        )


def write_folder(
    out: str | os.PathLike[str],
    images: np.ndarray,
    labels: np.ndarray | None = None,
    class_names: Sequence[str] | None = None,
    *,
    names: Sequence[str] | None = None,
    image_format: str = "png",
) -> Path:
    """Write uint8 images ``(N, H, W, 1|3)`` as a folder of image files (a new folder).

    With ``labels`` each image goes into the sub-folder of its class (``class_names[label]``,
    or the label's number), the layout :func:`load_folder` reads as labels. The folder is built
    aside and renamed into place, so it appears complete or not at all.

    Args:
        out: the folder to create; it must not exist.
        images: uint8 images.
        labels: a class index per image, or None for one flat folder.
        class_names: the sub-folder name of each class.
        names: a file stem per image (default: the zero-padded index).
        image_format: ``"png"`` or ``"jpeg"`` (quality 95).

    Raises:
        FileExistsError: ``out`` exists.

    Example:
        >>> write_folder("fmnist-png", images, labels, class_names)  # doctest: +SKIP
        PosixPath('fmnist-png')
    """
    from PIL import Image

    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(
            "images must be uint8 (N, H, W, 1|3). "
            f"Received: dtype={images.dtype}, shape={images.shape}"
        )
    if image_format not in ("png", "jpeg"):
        raise ValueError(f"image_format must be 'png' or 'jpeg'. Received: {image_format!r}")
    suffix = ".png" if image_format == "png" else ".jpg"
    width = len(str(max(len(images) - 1, 0)))
    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} exists; write_folder makes a new folder")
    with atomic_directory(out) as tmp:
        for index, image in enumerate(images):
            stem = names[index] if names is not None else f"{index:0{width}d}"
            folder = tmp
            if labels is not None:
                label = int(labels[index])
                folder = tmp / (class_names[label] if class_names is not None else str(label))
                folder.mkdir(exist_ok=True)
            pixels = image[..., 0] if image.shape[-1] == 1 else image
            Image.fromarray(pixels).save(folder / f"{stem}{suffix}", quality=95)
    return out


def stacked(
    images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Stacked images: three grayscale images as the R, G and B channels of one colour image.

    The colour analogue of stacked MNIST (Metz et al. 2017; Srivastava et al. 2017): with 10
    classes it has 1000 modes, ``100 * class(R) + 10 * class(G) + class(B)``.

    Args:
        images: uint8 ``(N, H, W, 1)``.
        labels: their classes (0-9).
        n: how many stacked images to make.
        seed: which images are stacked (each channel draws its own, uniformly).

    Returns:
        ``(stacked, modes)``: uint8 ``(n, H, W, 3)`` and int64 ``(n,)``.

    Example:
        >>> x = np.zeros((5, 2, 2, 1), np.uint8); y = np.arange(5)
        >>> s, modes = stacked(x, y, 3); s.shape, modes.dtype
        ((3, 2, 2, 3), dtype('int64'))
    """
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(images), size=(n, 3))
    out = np.concatenate([images[picks[:, c]] for c in range(3)], axis=-1)
    modes = (100 * labels[picks[:, 0]] + 10 * labels[picks[:, 1]] + labels[picks[:, 2]]).astype(
        np.int64
    )
    return out, modes
