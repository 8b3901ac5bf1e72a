"""The IDX reader, dataset resolution and the tf.data pipeline."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from keras_gan.data import DatasetError, find_idx_files, load_arrays, read_idx, sources, write_idx
from tests.conftest import FASHION_DIR, requires_fashion_mnist


def _header(code: int, shape: tuple[int, ...]) -> bytes:
    return bytes([0, 0, code, len(shape)]) + np.asarray(shape, ">u4").tobytes()


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32])
def test_idx_round_trip(tmp_path, compress, dtype):
    array = (np.arange(60).reshape(3, 4, 5) - 7).astype(dtype)
    if dtype == np.uint8:
        array = np.arange(60, dtype=np.uint8).reshape(3, 4, 5)
    path = tmp_path / ("a.gz" if compress else "a")
    write_idx(path, array, compress=compress)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == compress
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == (3, 4, 5)
    np.testing.assert_array_equal(back, array)


def test_idx_big_endian_values(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(_header(0x0B, (2,)) + bytes([1, 2, 255, 255]))
    assert read_idx(path).tolist() == [258, -1]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"\x00\x00", "too short"),
        (b"\x01\x00\x08\x01" + bytes(8), "bad IDX magic number"),
        (
            b"\x00\x00\x07\x01" + np.asarray([4], ">u4").tobytes() + bytes(4),
            "unknown IDX type code 0x07",
        ),
        (b"\x00\x00\x08\x00", "0 dimensions"),
        (b"\x00\x00\x08\x03" + bytes(4), "truncated header"),
        (_header(0x08, (2, 3)) + bytes(5), "truncated: header declares shape (2, 3)"),
        (_header(0x08, (2, 3)) + bytes(7), "has trailing bytes"),
        (_header(0x0C, (2,)) + bytes(4), "int32 (8 data bytes), the file holds 4"),
    ],
)
def test_idx_corrupt_files_name_file_and_problem(tmp_path, payload, message):
    path = tmp_path / "bad-idx"
    path.write_bytes(payload)
    with pytest.raises(DatasetError) as info:
        read_idx(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_idx_truncated_gzip(tmp_path):
    path = tmp_path / "cut.gz"
    full = gzip.compress(_header(0x08, (100,)) + bytes(100))
    path.write_bytes(full[: len(full) // 2])
    with pytest.raises(DatasetError, match="corrupt or truncated gzip"):
        read_idx(path)


def test_idx_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="no such file"):
        read_idx(tmp_path / "nope.gz")


def test_write_idx_rejects_unknown_dtype(tmp_path):
    with pytest.raises(ValueError, match="int64 has no IDX type code"):
        write_idx(tmp_path / "x", np.zeros(3, np.int64))
    assert list(tmp_path.iterdir()) == []


def test_load_arrays_from_directory(idx_dir):
    images, labels = load_arrays(idx_dir, "train")
    assert images.shape == (64, 8, 8, 1) and images.dtype == np.uint8
    assert labels.shape == (64,) and labels.dtype == np.int64
    test_images, _ = load_arrays(str(idx_dir), "test")
    assert test_images.shape == (16, 8, 8, 1)
    np.testing.assert_array_equal(images[..., 0], read_idx(idx_dir / "train-images-idx3-ubyte.gz"))


def test_count_mismatch_is_reported(idx_dir):
    write_idx(idx_dir / "train-labels-idx1-ubyte.gz", np.zeros(63, np.uint8))
    with pytest.raises(DatasetError, match=r"holds 64 images but .* holds 63 labels"):
        load_arrays(idx_dir, "train")


def test_images_must_be_three_dimensional(idx_dir):
    write_idx(idx_dir / "train-images-idx3-ubyte.gz", np.zeros((64, 64), np.uint8))
    with pytest.raises(DatasetError, match=r"expected uint8 images of shape \(N, H, W\)"):
        load_arrays(idx_dir, "train")


def test_bad_split_and_missing_directory(idx_dir, tmp_path):
    with pytest.raises(ValueError, match="split='validation'"):
        load_arrays(idx_dir, "validation")
    with pytest.raises(DatasetError, match="no such directory"):
        load_arrays(tmp_path / "absent" / "dir")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DatasetError, match="no IDX files for split 'train'"):
        load_arrays(empty)


def test_resolution_order_explicit_then_env(idx_dir, tmp_path, monkeypatch):
    other = tmp_path / "env" / "fashion-mnist"
    other.mkdir(parents=True)
    for prefix, n in (("train", 32), ("t10k", 8)):
        write_idx(other / f"{prefix}-images-idx3-ubyte.gz", np.zeros((n, 8, 8), np.uint8))
        write_idx(other / f"{prefix}-labels-idx1-ubyte.gz", np.zeros(n, np.uint8))
    monkeypatch.setenv("KERAS_GAN_DATA_DIR", str(tmp_path / "env"))
    assert len(load_arrays("fashion_mnist", "train")[0]) == 32  # env, sub-directory by name
    assert len(load_arrays("fashion_mnist", "train", data_dir=idx_dir)[0]) == 64  # explicit first


def test_missing_everywhere_lists_places(tmp_path, monkeypatch):
    from keras_gan.data import tfds_source

    monkeypatch.setattr(sources, "DEBIAN_ROOT", tmp_path / "debian")
    monkeypatch.setenv("KERAS_GAN_DATA_DIR", str(tmp_path / "envdir"))
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    monkeypatch.setattr(tfds_source, "_network_reachable", lambda *a, **k: False)
    with pytest.raises(DatasetError) as info:
        load_arrays("fashion_mnist", "train", data_dir=tmp_path / "given")
    text = str(info.value)
    for place in ("given", "envdir", "debian/fashion-mnist", "not prepared", "no network access"):
        assert place in text
    assert "apt-get install dataset-fashion-mnist" in text


def test_find_idx_files_accepts_raw_and_test_prefix(tmp_path):
    write_idx(tmp_path / "test-images-idx3-ubyte", np.zeros((2, 3, 3), np.uint8), compress=False)
    write_idx(tmp_path / "test-labels-idx1-ubyte", np.zeros(2, np.uint8), compress=False)
    files = find_idx_files(tmp_path, "test")
    assert files is not None and files.images.name == "test-images-idx3-ubyte"
    assert find_idx_files(tmp_path, "train") is None


@requires_fashion_mnist
def test_fashion_mnist_from_debian_package():
    images, labels = load_arrays("fashion_mnist", "test")
    assert images.shape == (10000, 28, 28, 1)
    assert sorted(set(labels.tolist())) == list(range(10))


@requires_fashion_mnist
def test_load_images_range_shape_and_labels():
    from keras_gan.data import load_images

    ds = load_images("fashion_mnist", batch_size=32, limit=100, seed=1, with_labels=True)
    batches = list(ds)
    assert len(batches) == 3  # 100 // 32, remainder dropped
    images, labels = batches[0]
    assert images.shape == (32, 28, 28, 1) and images.dtype.name == "float32"
    values = np.concatenate([b[0].numpy().ravel() for b in batches])
    assert values.min() >= -1.0 and values.max() <= 1.0
    assert values.min() == -1.0 and values.max() == 1.0
    assert labels.dtype.name == "int64"
    plain = next(iter(load_images("fashion_mnist", batch_size=8, limit=16, shuffle=False)))
    first = load_arrays("fashion_mnist")[0][:8].astype(np.float32) / 127.5 - 1
    np.testing.assert_allclose(plain.numpy(), first, atol=1e-6)


def test_load_images_validates_arguments(idx_dir):
    from keras_gan.data import load_images

    with pytest.raises(ValueError, match="batch_size=0"):
        load_images(idx_dir, batch_size=0)
    with pytest.raises(ValueError, match="limit=-3"):
        load_images(idx_dir, limit=-3)
    with pytest.raises(ValueError, match="make no full batch of 128"):
        load_images(idx_dir, batch_size=128)


@requires_fashion_mnist
def test_tfds_prepare_offline_then_load(tmp_path):
    """Builds the TFDS copy from the Debian files, then loads it with download=False."""
    import tensorflow_datasets as tfds

    from keras_gan.data import prepare

    path = prepare("fashion_mnist", source=FASHION_DIR, data_dir=tmp_path)
    assert Path(path, "dataset_info.json").is_file()
    test = tfds.load(
        "fashion_mnist", split="test", data_dir=str(tmp_path), download=False, batch_size=-1
    )
    images = tfds.as_numpy(test)["image"]
    assert images.shape == (10000, 28, 28, 1)
    ours, _ = load_arrays("fashion_mnist", "test")
    # The same images as the IDX files (TFDS shuffles the order).
    assert sorted(map(bytes, images)) == sorted(map(bytes, ours))


def _peak_bytes_of(function) -> int:
    import tracemalloc

    tracemalloc.start()
    try:
        function()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (b"\x00\x00\x08\xff" + np.ones(255, ">u4").tobytes(), "255 dimensions (expected 1 to 16)"),
        (_header(0x08, (0, 28, 28)), "zero-length dimension"),
        (_header(0x0E, (2**32 - 1,) * 4), "data bytes, more than"),  # overflows np.prod int64
        (_header(0x08, (65536, 4096)), "more than its compressed size can hold"),
        (b"\x00\x00\x07\x01" + bytes(4), "unknown IDX type code 0x07"),
    ],
    ids=["255-dims", "zero-dim", "prod-overflow", "bomb", "bad-type"],
)
def test_hostile_gzip_headers_fail_before_the_data_is_decompressed(tmp_path, header, message):
    # 64 MiB of zeros compress to about 65 KB: decompressing it first would cost 64 MiB.
    path = tmp_path / "hostile-idx.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(header)
        for _ in range(64):
            handle.write(bytes(2**20))
    assert path.stat().st_size < 100_000

    def read():
        with pytest.raises(DatasetError) as info:
            read_idx(path)
        assert str(path) in str(info.value) and message in str(info.value), info.value

    assert _peak_bytes_of(read) < 2**20  # nothing near the declared or decompressed size


def test_huge_declared_size_in_a_raw_file_is_refused_without_allocating(tmp_path):
    path = tmp_path / "huge-idx"
    path.write_bytes(_header(0x08, (2**31, 2**31)) + bytes(16))

    def read():
        with pytest.raises(DatasetError, match=r"declares shape \(2147483648, 2147483648\)"):
            read_idx(path)

    assert _peak_bytes_of(read) < 2**20
