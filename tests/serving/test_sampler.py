"""keras_gan.serving.Sampler and `keras-gan sample`: paths, equality with the SavedModel, errors,
and no TensorFlow or Keras on the sampling path."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from keras_gan.serving import Sampler, resolve_model_path
from keras_gan.serving.latent import latent

from keras_gan.cli import main
from tests._serving_export import IMAGE_SHAPE, LATENT_DIM, tiny_exports

VENV_BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"


@pytest.fixture(scope="module")
def exports(pytestconfig, tmp_path_factory) -> Path:
    return tiny_exports(pytestconfig, tmp_path_factory)


@pytest.fixture(scope="module")
def base(exports) -> Path:
    return exports / "base"


def read_png(path: Path) -> tuple[int, int, int, np.ndarray]:
    """Decode the PNGs written by keras_gan.serving.images (8-bit, filter 0, one IDAT)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = {}, 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        tag = data[offset + 4 : offset + 8]
        chunks[tag] = data[offset + 8 : offset + 8 + length]
        offset += 12 + length
    width, height, _, color_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    channels = {0: 1, 2: 3, 6: 4}[color_type]
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8)
    pixels = raw.reshape(height, 1 + width * channels)[:, 1:].reshape(height, width, channels)
    return width, height, channels, pixels


def test_paths_resolve_to_the_same_model(base):
    version_dir = base / "1"
    samplers = [
        Sampler(base),
        Sampler(version_dir),
        Sampler(version_dir / "model.onnx"),
        Sampler(version_dir / "model.sample.onnx"),
    ]
    for sampler in samplers:
        assert sampler.files.onnx == version_dir / "model.onnx"
        assert sampler.version == 1
        assert sampler.latent_dim == LATENT_DIM
        assert sampler.image_shape == IMAGE_SHAPE
        assert sampler.metadata["dataset"] == "noise"
        assert sampler.sample_dtype == np.uint8
    first = samplers[0].sample(5, seed=3)
    for sampler in samplers[1:]:
        np.testing.assert_array_equal(sampler.sample(5, seed=3), first)


def test_base_path_takes_the_highest_version_with_onnx(base, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(base / "1", models / "2")
    shutil.copytree(base / "1", models / "10")
    shutil.copytree(base / "1", models / "11")
    (models / "11" / "model.onnx").unlink()  # SavedModel-only version: not servable here
    shutil.copytree(base / "1", models / ".tmp-12-abc")  # an export in progress
    (models / "notes").mkdir()
    assert resolve_model_path(models).version == 10
    assert Sampler(models).version == 10


def test_sample_equals_the_savedmodel_signatures(base):
    tf = pytest.importorskip("tensorflow")
    loaded = tf.saved_model.load(str(base / "1"))
    sampler = Sampler(base)
    for n, seed in ((1, 0), (7, 123), (16, -1), (3, 2**63 - 1), (5, 2**40 + 3)):
        expected = loaded.signatures["sample"](
            n=tf.constant(n, tf.int32), seed=tf.constant(seed, tf.int64)
        )["images"].numpy()
        got = sampler.sample(n, seed=seed)
        assert got.dtype == np.uint8 and got.shape == (n, *IMAGE_SHAPE)
        # uint8 may differ by one only where the float lies on a rounding boundary.
        difference = np.abs(got.astype(int) - expected.astype(int))
        assert difference.max() <= 1
        assert (difference > 0).mean() < 1e-3
        z = latent(n, seed, LATENT_DIM)
        reference = loaded.signatures["serving_default"](z=tf.constant(z))["images"].numpy()
        np.testing.assert_allclose(sampler.generate(z), reference, atol=1e-5, rtol=0)


def test_sample_equals_the_sample_onnx_graph(base):
    session = ort.InferenceSession(str(base / "1" / "model.sample.onnx"))
    sampler = Sampler(base)
    for n, seed in ((8, 0), (33, 99), (2, -(2**63))):
        graph = session.run(None, {"n": np.array(n, np.int32), "seed": np.array(seed, np.int64)})
        np.testing.assert_array_equal(sampler.sample(n, seed=seed), graph[0])


def test_sample_properties(base):
    sampler = Sampler(base, threads=1)
    many = sampler.sample(20, seed=5)
    np.testing.assert_array_equal(sampler.sample(6, seed=5), many[:6])
    np.testing.assert_array_equal(sampler.sample(20, seed=5, batch_size=7), many)
    assert not np.array_equal(sampler.sample(20, seed=6), many)
    assert not np.array_equal(sampler.sample(20), sampler.sample(20))  # fresh random seeds
    assert sampler.sample(0, seed=1).shape == (0, *IMAGE_SHAPE)
    images = sampler.generate(sampler.latent(20, 5))
    assert images.dtype == np.float32 and images.min() >= -1 and images.max() <= 1
    expected = np.rint((np.clip(images, -1, 1) + 1) * np.float32(127.5)).astype(np.uint8)
    np.testing.assert_array_equal(expected, many)


def test_sample_and_generate_errors(base, tmp_path):
    sampler = Sampler(base)
    with pytest.raises(ValueError, match=r"n must be >= 0. Received: n=-1"):
        sampler.sample(-1, seed=0)
    with pytest.raises(ValueError, match=r"z must have shape \(N, 4\). Received: shape \(2, 3\)"):
        sampler.generate(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN or infinity"):
        sampler.generate(np.full((1, 4), np.nan))
    with pytest.raises(ValueError, match="must hold numbers"):
        sampler.generate(np.array([["a", "b", "c", "d"]]))
    with pytest.raises(FileNotFoundError, match="No model at"):
        Sampler(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="no numeric version directory"):
        Sampler(tmp_path)
    (tmp_path / "3").mkdir()
    with pytest.raises(FileNotFoundError, match=r"Its version directories \['3'\] hold no"):
        Sampler(tmp_path)
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(FileNotFoundError, match="is not an ONNX file"):
        Sampler(tmp_path / "x.txt")
    (tmp_path / "broken.onnx").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="onnxruntime cannot load"):
        Sampler(tmp_path / "broken.onnx")


def test_save_grid_writes_the_tiled_png(base, tmp_path):
    sampler = Sampler(base)
    images = sampler.sample(6, seed=0)
    path = sampler.save_grid(images, tmp_path / "sub" / "grid.png", columns=3, padding=1, scale=1)
    width, height, channels, pixels = read_png(path)
    assert (width, height, channels) == (3 * 9 + 1, 2 * 9 + 1, 1)
    np.testing.assert_array_equal(pixels[1:9, 1:9], images[0])
    np.testing.assert_array_equal(pixels[10:18, 19:27], images[5])
    assert [p.name for p in path.parent.iterdir()] == ["grid.png"]  # no temporary left


def test_save_grid_enlarges_small_images_by_default(base, tmp_path):
    """8x8 images are drawn 12 times larger (96 pixels), each pixel a 12x12 block."""
    images = Sampler(base).sample(2, seed=0)
    width, height, _, pixels = read_png(Sampler.save_grid(images, tmp_path / "g.png", padding=1))
    assert (width, height) == (2 * 97 + 1, 97 + 1)
    first = pixels[1:97, 1:97, 0]
    np.testing.assert_array_equal(first[::12, ::12], images[0][..., 0])
    np.testing.assert_array_equal(first, np.kron(images[0][..., 0], np.ones((12, 12), np.uint8)))


def test_cli_sample_png_and_npy(base, tmp_path, capsys):
    out = tmp_path / "grid.png"
    args = ["sample", str(base), "-n", "9", "--seed", "4", "--out", str(out), "--scale", "1"]
    assert main(args) == 0
    message = capsys.readouterr().out
    assert f"wrote {out}: 9 samples of 8x8x1 from {base / '1' / 'model.onnx'} (seed 4)" in message
    width, height, _, pixels = read_png(out)
    assert (width, height) == (3 * 10 + 2, 3 * 10 + 2)
    np.testing.assert_array_equal(pixels[2:10, 2:10], Sampler(base).sample(9, seed=4)[0])
    npy = tmp_path / "s.npy"
    assert main(["sample", str(base / "1"), "-n", "4", "--seed", "4", "--out", str(npy)]) == 0
    np.testing.assert_array_equal(np.load(npy), Sampler(base).sample(4, seed=4))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["MISSING", "--out", "g.png"], "No model at MISSING"),
        (["BASE", "-n", "0"], "-n must be a positive integer. Received: 0"),
        (["BASE", "--out", "g.jpg"], "--out must end in .png or .npy. Received: g.jpg"),
        (["BASE", "--seed", str(2**63)], "--seed must fit in a signed 64-bit integer"),
    ],
)
def test_cli_sample_errors(base, args, message, capsys):
    args = [str(base) if a == "BASE" else a for a in args]
    assert main(["sample", *args]) == 2
    assert f"keras-gan sample: error: {message}" in capsys.readouterr().err


def test_sampling_path_imports_neither_tensorflow_nor_keras(base, tmp_path):
    code = f"""
import sys
from keras_gan.cli import main
from keras_gan.serving import Sampler
out = {str(tmp_path / "g.png")!r}
assert main(["sample", {str(base)!r}, "-n", "4", "--seed", "0", "--out", out]) == 0
sampler = Sampler({str(base)!r})
sampler.sample(3, seed=1)
sampler.generate(sampler.latent(2, 0))
sampler.save_grid(sampler.sample(4, seed=2), {str(tmp_path / "h.png")!r})
banned = ("tensorflow", "keras", "tf2onnx", "onnx")
heavy = sorted(m for m in sys.modules if m.split(".")[0] in banned)
print("HEAVY", heavy)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout, result.stdout


def test_console_script_sample(base, tmp_path):
    out = tmp_path / "g.png"
    command = [str(VENV_BIN / "keras-gan"), "sample", str(base), "-n", "64", "--seed", "0"]
    command += ["--scale", "1"]
    result = subprocess.run(
        [*command, "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert read_png(out)[:2] == (8 * 10 + 2, 8 * 10 + 2)
    info = json.loads((base / "1" / "assets" / "keras_gan.json").read_text())
    assert info["latent_recipe"] == "keras_gan.latent.v1"
