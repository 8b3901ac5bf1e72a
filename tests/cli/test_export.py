"""`keras-gan export` on run directories, .keras files and bad input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from keras_gan.cli import main
from keras_gan.networks import dcgan_generator

VENV_BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"


@pytest.fixture
def run_dir(tmp_path):
    """A run directory as `keras-gan train` writes it: generator.keras, run.json, evaluation."""
    run = tmp_path / "run"
    run.mkdir()
    generator = dcgan_generator(latent_dim=4, image_shape=(8, 8, 1), width=4)
    rng = np.random.default_rng(0)
    for variable in generator.weights:
        if "variance" not in variable.path:
            variable.assign(rng.normal(0, 0.3, variable.shape).astype("float32"))
    generator.save(run / "generator.keras")
    info = {
        "model": "dcgan",
        "dataset": "fashion_mnist",
        "epochs": 3,
        "latent_dim": 4,
        "image_shape": [8, 8, 1],
        "seed": 1,
    }
    (run / "run.json").write_text(json.dumps(info))
    (run / "evaluation.json").write_text(json.dumps({"fid": 12.5, "modes": 10}))
    return run


def test_export_run_dir_all_formats(run_dir, capsys):
    assert main(["export", str(run_dir)]) == 0
    out = capsys.readouterr().out
    version = run_dir / "export" / "1"
    assert f"wrote {version} (saved_model, onnx)" in out
    assert "SavedModel vs ONNX max abs difference:" in out
    difference = float(out.split("SavedModel vs ONNX max abs difference: ")[1].split(";")[0])
    assert 0 <= difference <= 1e-5
    names = {p.name for p in version.iterdir()}
    assert {"saved_model.pb", "variables", "assets", "model.onnx", "model.sample.onnx"} <= names
    meta = json.loads((version / "assets" / "keras_gan.json").read_text())
    assert meta["model_kind"] == "dcgan" and meta["dataset"] == "fashion_mnist"
    assert meta["epochs"] == 3 and meta["training_seed"] == 1
    assert meta["evaluation"] == {"fid": 12.5, "modes": 10}

    assert main(["export", str(run_dir), "--format", "onnx", "--no-verify"]) == 0
    second = run_dir / "export" / "2"
    assert {p.name for p in second.iterdir()} == {"model.onnx", "model.sample.onnx"}
    assert "not verified" in capsys.readouterr().out


def test_export_keras_file_with_version_and_out(run_dir, tmp_path, capsys):
    out = tmp_path / "models" / "dcgan"
    args = ["export", str(run_dir / "generator.keras"), "--format", "saved_model"]
    assert main([*args, "--out", str(out), "--version", "5"]) == 0
    assert (out / "5" / "saved_model.pb").is_file()
    assert not (out / "5" / "model.onnx").exists()
    # The version is taken now: a user error, one line, exit status 2.
    assert main([*args, "--out", str(out), "--version", "5"]) == 2
    assert "already exists" in capsys.readouterr().err


def test_export_bad_sources(tmp_path, capsys):
    assert main(["export", str(tmp_path / "missing")]) == 2
    assert "No run directory or model file" in capsys.readouterr().err
    assert main(["export", str(tmp_path)]) == 2
    assert "generator.keras" in capsys.readouterr().err
    (tmp_path / "notes.txt").write_text("x")
    assert main(["export", str(tmp_path / "notes.txt")]) == 2
    assert "Received" in capsys.readouterr().err


def test_export_console_script(run_dir):
    result = subprocess.run(
        [
            str(VENV_BIN / "keras-gan"),
            "export",
            str(run_dir / "generator.keras"),
            "--format",
            "onnx",
            "--out",
            str(run_dir / "onnx"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"wrote {run_dir / 'onnx' / '1'} (onnx)" in result.stdout
    assert "onnx sample(n, seed): uint8 (8, 8, 8, 1), repeatable" in result.stdout
