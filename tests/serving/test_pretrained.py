"""The generators shipped in the package: what their records say, sampled with numpy +
onnxruntime, from Python and from the command line."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from keras_gan.serving import Sampler, pretrained

from keras_gan.cli import main
from tests.conftest import requires_fashion_mnist


def test_the_default_preset_is_shipped():
    assert "fashion-mnist" in pretrained.names()
    assert pretrained.record("fashion-mnist")["model"] == "clustered"


@pytest.mark.parametrize("name", pretrained.names())
def test_each_file_is_the_one_its_record_describes(name):
    record = pretrained.record(name)
    onnx = (pretrained.path(name) / "1" / "model.onnx").read_bytes()
    assert hashlib.sha256(onnx).hexdigest() == record["onnx_sha256"]
    assert len(onnx) == record["onnx_bytes"] < 4 * 2**20  # a few MB at most
    evaluation = record["evaluation"]
    assert evaluation["num_samples"] == 10_000 and evaluation["seed"] == 0
    assert evaluation["metrics"]["classes_hit"] == 10
    assert record["commit"] and record["cpu"] and record["commands"][0].startswith("keras-gan")
    sampler = Sampler.pretrained(name)
    assert sampler.image_shape == (28, 28, 1) and sampler.version == 1
    assert sampler.metadata["model_kind"] == record["model"]
    check = record["samples_sha256"]
    pixels = sampler.sample(check["n"], seed=check["seed"], label=check["label"]).tobytes()
    assert hashlib.sha256(pixels).hexdigest() == check["sha256"]  # the recorded pictures
    label = 7 if sampler.conditional else None
    first = sampler.sample(8, seed=0, label=label)
    assert first.dtype == np.uint8 and first.shape == (8, 28, 28, 1)
    np.testing.assert_array_equal(first, sampler.sample(8, seed=0, label=label))
    assert first.std() > 20  # pictures, not a flat field


def test_unknown_name_lists_the_names():
    with pytest.raises(ValueError, match=r"No pretrained generator named 'cifar'; .*fashion-mnist"):
        Sampler.pretrained("cifar")


def test_cli_sample_pretrained(tmp_path, capsys):
    out = tmp_path / "grid.png"
    assert main(["sample", "--pretrained", "fashion-mnist", "-n", "4", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "4 samples of 28x28x1" in capsys.readouterr().out
    assert main(["sample", "--pretrained", "nope", "--out", str(out)]) == 2
    assert "No pretrained generator named 'nope'" in capsys.readouterr().err
    assert main(["sample", str(tmp_path), "--pretrained", "fashion-mnist"]) == 2
    assert main(["sample"]) == 2
    assert "give either MODEL or --pretrained NAME" in capsys.readouterr().err


@pytest.mark.skipif(
    "fashion-mnist-cgan" not in pretrained.names(), reason="no conditional generator shipped"
)
def test_conditional_pretrained_takes_a_class_name(tmp_path):
    sampler = Sampler.pretrained("fashion-mnist-cgan")
    assert sampler.class_names[7].casefold() == "sneaker"
    sneakers = sampler.sample(4, seed=0, label="sneaker")
    np.testing.assert_array_equal(sneakers, sampler.sample(4, seed=0, label=7))
    assert not np.array_equal(sneakers, sampler.sample(4, seed=0, label="trouser"))
    out = tmp_path / "s.png"
    args = ["sample", "--pretrained", "fashion-mnist-cgan", "--label", "sneaker", "--out", str(out)]
    assert main(args) == 0
    rows = tmp_path / "rows.npy"
    args = ["sample", "--pretrained", "fashion-mnist-cgan", "--label", "all", "-n", "20"]
    assert main([*args, "--seed", "3", "--out", str(rows)]) == 0
    grid = np.load(rows)  # two of each class, each row from the same two latents
    assert grid.shape == (20, 28, 28, 1)
    np.testing.assert_array_equal(grid[14:16], sampler.sample(2, seed=3, label="sneaker"))
    png = tmp_path / "rows.png"
    assert main([*args, "--seed", "3", "--out", str(png), "--scale", "1"]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
@requires_fashion_mnist
@pytest.mark.parametrize("name", pretrained.names())
def test_evaluation_matches_the_record(name, tmp_path):
    """10,000 samples scored again with the project's classifier give the recorded figures."""
    import json

    record = pretrained.record(name)["evaluation"]
    onnx = pretrained.path(name) / "1" / "model.onnx"
    args = ["evaluate", str(onnx), "--num-samples", str(record["num_samples"])]
    assert main([*args, "--seed", str(record["seed"]), "--out", str(tmp_path)]) == 0
    fresh = json.loads((tmp_path / "evaluation.json").read_text())
    assert fresh["classifier"]["key"] == record["classifier"]["key"]
    for key, value in record["metrics"].items():
        assert fresh["metrics"][key] == pytest.approx(value, abs=1e-3), key
