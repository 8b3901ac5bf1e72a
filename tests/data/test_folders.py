"""Folders of image files: labels from sub-folders, decoding of every kind of file a user has,
bad files skipped or refused with a clear message, and the decode cache."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from keras_gan.data import DatasetError
from keras_gan.data.folders import MAX_PIXELS, decode_image, load_folder, scan_folder


def _png(path: Path, array: np.ndarray, mode: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode=mode).save(path)
    return path


def _tree(root: Path, classes=("sneaker", "bag"), per_class=3, side=8) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    written = {}
    for name in classes:
        for i in range(per_class):
            array = rng.integers(0, 256, (side, side), dtype=np.uint8)
            _png(root / name / f"{i}.png", array)
            written[f"{name}/{i}.png"] = array
    return written


def _listing(root: Path) -> dict[str, tuple[int, int]]:
    return {
        p.relative_to(root).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
    }


def test_class_subfolders_are_sorted_labels_and_pixels_survive(tmp_path):
    written = _tree(tmp_path / "data")
    before = _listing(tmp_path / "data")
    folder = load_folder(tmp_path / "data", cache_dir=tmp_path / "cache")
    assert folder.class_names == ("bag", "sneaker")  # sorted, as Keras does
    assert folder.image_shape == (8, 8, 1)  # the images' own size; grayscale -> 1 channel
    assert folder.files[0] == "bag/0.png" and folder.labels.tolist() == [0, 0, 0, 1, 1, 1]
    for name, image in zip(folder.files, folder.images, strict=True):
        np.testing.assert_array_equal(image[..., 0], written[name])
    assert _listing(tmp_path / "data") == before  # the user's folder is never written to


def test_loose_files_have_no_labels_and_hidden_or_other_files_are_ignored(tmp_path):
    root = tmp_path / "data"
    _png(root / "a.png", np.zeros((4, 4), np.uint8))
    _png(root / "deep" / "b.png", np.zeros((4, 4), np.uint8))
    _png(root / ".hidden.png", np.zeros((4, 4), np.uint8))
    _png(root / ".thumbs" / "c.png", np.zeros((4, 4), np.uint8))
    (root / "notes.txt").write_text("not an image")
    files, classes = scan_folder(root)
    assert [f.as_posix() for f in files] == ["a.png", "deep/b.png"] and classes is None
    assert load_folder(root, cache_dir=tmp_path / "c").labels is None


def test_one_class_folder_is_unlabelled(tmp_path):
    _tree(tmp_path / "d", classes=("only",))
    assert scan_folder(tmp_path / "d")[1] is None


def test_sizes_that_differ_need_an_image_size(tmp_path):
    _png(tmp_path / "d" / "a.png", np.zeros((8, 8), np.uint8))
    _png(tmp_path / "d" / "b.png", np.zeros((6, 9), np.uint8))
    with pytest.raises(DatasetError, match=r"not all square and of one size .* --image-size N"):
        load_folder(tmp_path / "d", cache_dir=tmp_path / "c")
    folder = load_folder(tmp_path / "d", size=4, cache_dir=tmp_path / "c")
    assert folder.image_shape == (4, 4, 1)


def test_channels_default_to_three_when_any_image_has_colour(tmp_path):
    _png(tmp_path / "d" / "a.png", np.zeros((4, 4), np.uint8))
    _png(tmp_path / "d" / "b.png", np.zeros((4, 4, 3), np.uint8))
    assert load_folder(tmp_path / "d", cache_dir=tmp_path / "c").image_shape == (4, 4, 3)
    gray = load_folder(tmp_path / "d", channels=1, cache_dir=tmp_path / "c")
    assert gray.image_shape == (4, 4, 1)


def test_resize_modes_on_a_wide_image(tmp_path):
    array = np.zeros((10, 20), np.uint8)
    array[:, 5:15] = 200  # a grey square in the middle of a black band
    path = _png(tmp_path / "wide.png", array)
    crop = decode_image(path, 10, 1, "crop")[..., 0]
    assert (crop == 200).all()  # the centred square is the grey part
    pad = decode_image(path, 20, 1, "pad")[..., 0]
    assert (pad[:4] == 255).all() and (pad[6:14, 10] == 200).all()  # white bands above
    stretch = decode_image(path, 10, 1, "stretch")[..., 0]
    assert stretch[:, 0].max() < 50 and stretch[:, 5].min() > 150  # squeezed, black edges kept
    with pytest.raises(ValueError, match=r"resize must be one of .* Received: resize='fit'"):
        load_folder(tmp_path, resize="fit")
    with pytest.raises(ValueError, match=r"channels must be 1 or 3\. Received: channels=2"):
        load_folder(tmp_path, channels=2)


def test_transparency_is_composited_on_white(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 255  # red
    rgba[:2, :, 3] = 255  # top half opaque, bottom half fully transparent
    image = decode_image(_png(tmp_path / "a.png", rgba, "RGBA"), 4, 3)
    assert image[0, 0].tolist() == [255, 0, 0] and image[3, 3].tolist() == [255, 255, 255]


def test_sixteen_bit_png_is_scaled_to_eight_bits(tmp_path):
    array = np.array([[0, 32896, 65535, 257]], np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(array).save(path)
    assert Image.open(path).mode.startswith("I")
    assert decode_image(path, 1, 1, "stretch").shape == (1, 1, 1)
    assert decode_image(path, 4, 1, "pad")[..., 0].max() == 255
    values = decode_image(path, 4, 1, "stretch")[0, :, 0].tolist()
    assert values[0] == 0 and values[2] == 255 and 120 < values[1] < 136


def test_palette_png_and_its_transparency(tmp_path):
    image = Image.new("P", (2, 1))
    image.putpalette([10, 20, 30, 200, 100, 50] + [0] * 762)
    image.putpixel((0, 0), 0)
    image.putpixel((1, 0), 1)
    image.save(tmp_path / "p.png")
    decoded = decode_image(tmp_path / "p.png", 2, 3, "stretch")
    assert decoded.shape == (2, 2, 3) and decoded[0, 0].tolist() == [10, 20, 30]
    image.info["transparency"] = 1
    image.save(tmp_path / "t.png", transparency=1)
    assert decode_image(tmp_path / "t.png", 2, 3, "stretch")[0, 1].tolist() == [255, 255, 255]


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    cmyk = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # no cyan/black, full magenta+yellow
    cmyk.save(tmp_path / "c.jpg", quality=95)
    assert Image.open(tmp_path / "c.jpg").mode == "CMYK"
    red = decode_image(tmp_path / "c.jpg", 8, 3)[4, 4]
    assert red[0] > 200 and red[1] < 60 and red[2] < 60


def test_exif_orientation_is_applied(tmp_path):
    array = np.zeros((8, 16, 3), np.uint8)
    array[:, 8:] = 255  # right half white
    exif = Image.Exif()
    exif[0x0112] = 3  # rotated 180 degrees
    Image.fromarray(array).save(tmp_path / "r.jpg", exif=exif.tobytes(), quality=95)
    upright = decode_image(tmp_path / "r.jpg", 16, 1, "stretch")[..., 0]
    assert upright[:, :6].mean() > 200 and upright[:, 10:].mean() < 50  # white on the left now


def test_gif_first_frame(tmp_path):
    frames = [Image.new("L", (4, 4), v) for v in (40, 200)]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
    assert decode_image(tmp_path / "a.gif", 4, 1).max() < 60


def test_one_pixel_image_is_enlarged(tmp_path):
    decoded = decode_image(_png(tmp_path / "dot.png", np.full((1, 1), 77, np.uint8)), 8, 1)
    assert decoded.shape == (8, 8, 1) and (decoded == 77).all()


def _bomb_png(path: Path, side: int = 20_000) -> Path:
    """A PNG whose header says side x side pixels; its pixel data is never reached."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    body = zlib.compress(b"\0" * 1024)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )
    return path


def test_decompression_bomb_is_refused_from_its_header(tmp_path):
    assert 20_000 * 20_000 > MAX_PIXELS
    with pytest.raises(DatasetError, match=r"400000000 pixels.* More than the .* accepted"):
        decode_image(_bomb_png(tmp_path / "bomb.png"), 8, 1)
    with pytest.raises(DatasetError, match=r"9000x9000 pixels, more than the .* accepted"):
        decode_image(_bomb_png(tmp_path / "big.png", 9000), 8, 1)  # under Pillow's own limit


def test_bad_files_are_skipped_counted_and_listed(tmp_path, capsys):
    root = tmp_path / "d"
    _tree(root, per_class=20)
    (root / "bag" / "empty.png").write_bytes(b"")
    good = io.BytesIO()
    noise = np.random.default_rng(1).integers(0, 256, (8, 8), dtype=np.uint8)
    Image.fromarray(noise).save(good, format="PNG")
    folder = load_folder(root, cache_dir=tmp_path / "c", verbose=True)
    assert len(folder.images) == 40 and len(folder.labels) == 40
    assert [name for name, _ in folder.skipped] == ["bag/empty.png"]
    err = capsys.readouterr().err
    assert "skipped 1 file(s) that cannot be decoded, e.g. bag/empty.png" in err
    (root / "bag" / "cut.png").write_bytes(good.getvalue()[:-30])  # IDAT cut short
    _bomb_png(root / "bag" / "bomb.png")
    folder = load_folder(root, cache_dir=tmp_path / "c")
    reasons = dict(folder.skipped)
    assert sorted(reasons) == ["bag/bomb.png", "bag/cut.png", "bag/empty.png"]
    assert "truncated" in reasons["bag/cut.png"] and "decompression bomb" in reasons["bag/bomb.png"]
    assert len(folder.images) == 40 and folder.labels.tolist() == [0] * 20 + [1] * 20


def test_too_many_bad_files_or_none_decodable_is_an_error(tmp_path):
    root = tmp_path / "d"
    _tree(root, per_class=3)
    for i in range(3):
        (root / "bag" / f"broken{i}.png").write_bytes(b"not a png at all")
    with pytest.raises(DatasetError, match=r"3 of 9 image files cannot be decoded .*broken0.png"):
        load_folder(root, cache_dir=tmp_path / "c")
    only_bad = tmp_path / "bad"
    only_bad.mkdir()
    (only_bad / "x.jpg").write_bytes(b"")
    with pytest.raises(DatasetError, match=r"1 of 1 image files cannot be decoded"):
        load_folder(only_bad, cache_dir=tmp_path / "c")
    assert not list((tmp_path / "c" / "images").glob("*/images.npy"))  # nothing half-written


def test_empty_or_missing_folder_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.md").write_text("x")
    with pytest.raises(DatasetError, match="no image files"):
        load_folder(tmp_path / "empty", cache_dir=tmp_path / "c")
    with pytest.raises(DatasetError, match="no such folder"):
        load_folder(tmp_path / "missing", cache_dir=tmp_path / "c")


def test_the_cache_is_read_back_and_follows_changes(tmp_path):
    root = tmp_path / "d"
    written = _tree(root)
    first = load_folder(root, cache_dir=tmp_path / "c")
    second = load_folder(root, cache_dir=tmp_path / "c")
    assert first.decoded and not second.decoded
    assert isinstance(second.images, np.memmap) and second.cache_dir == first.cache_dir
    np.testing.assert_array_equal(first.images, second.images)
    changed = written["bag/0.png"].copy()
    changed[0, 0] ^= 255
    path = _png(root / "bag" / "0.png", changed)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    third = load_folder(root, cache_dir=tmp_path / "c")
    assert third.decoded and third.cache_dir != first.cache_dir
    assert third.images[0, 0, 0, 0] == changed[0, 0]
