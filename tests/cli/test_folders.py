"""``keras-gan train --dataset FOLDER``: a user's folder of images, labelled by sub-folders or not,
grayscale or colour, through training, export and sampling."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from keras_gan.cli import main

SMALL = ["--epochs", "1", "--batch-size", "8", "--width", "4", "--seed", "0"]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_GAN_CACHE", str(tmp_path / "cache"))


def _folder(root: Path, classes: tuple[str, ...] | None, n: int, side: int, rgb: bool) -> Path:
    rng = np.random.default_rng(0)
    for i in range(n):
        shape = (side, side, 3) if rgb else (side, side)
        array = rng.integers(0, 256, shape, dtype=np.uint8)
        sub = root / classes[i % len(classes)] if classes else root
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(array).save(sub / f"{i:03d}.png")
    return root


def test_labelled_folder_trains_a_conditional_preset(tmp_path, capsys):
    data = _folder(tmp_path / "data", ("shoe", "bag", "coat"), 24, 8, rgb=False)
    (data / "bag" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    out = tmp_path / "run"
    assert (
        main(["train", "--model", "cgan", "--dataset", str(data), "--out", str(out), *SMALL]) == 0
    )
    captured = capsys.readouterr()
    assert "decoded 24 images of" in captured.out and "images/s" in captured.out
    assert "skipped 1 file(s) that cannot be decoded, e.g. bag/broken.png" in captured.err
    run = json.loads((out / "run.json").read_text())
    assert run["class_names"] == ["bag", "coat", "shoe"] and run["num_classes"] == 3
    assert run["image_shape"] == [8, 8, 1]
    images = run["images"]
    assert images["count"] == 24 and images["resize"] == "crop"
    assert [s["file"] for s in images["skipped_files"]] == ["bag/broken.png"]
    sample = tmp_path / "s.npy"
    assert main(["export", str(out), "--format", "onnx", "--out", str(tmp_path / "exp")]) == 0
    args = ["sample", str(tmp_path / "exp"), "--label", "shoe", "-n", "3", "--out", str(sample)]
    assert main(args) == 0
    assert np.load(sample).shape == (3, 8, 8, 1)


def test_conditional_preset_on_an_unlabelled_folder_fails_before_decoding(tmp_path, capsys):
    data = _folder(tmp_path / "flat", None, 16, 8, rgb=False)
    out = tmp_path / "run"
    assert main(["train", "--model", "acgan", "--dataset", str(data), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "acgan is class-conditional" in err and "no class sub-folders" in err
    assert not (tmp_path / "cache").exists()  # nothing was decoded


def test_colour_folder_at_another_size_trains_exports_and_samples(tmp_path):
    data = _folder(tmp_path / "rgb", None, 16, 20, rgb=True)
    out = tmp_path / "run"
    args = ["train", "--model", "dcgan", "--dataset", str(data), "--out", str(out), *SMALL]
    assert main([*args, "--image-size", "16", "--resize", "stretch"]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["image_shape"] == [16, 16, 3] and run["images"]["resize"] == "stretch"
    assert main(["export", str(out), "--format", "all", "--out", str(tmp_path / "exp")]) == 0
    sample = tmp_path / "s.npy"
    assert main(["sample", str(tmp_path / "exp"), "-n", "2", "--out", str(sample)]) == 0
    assert np.load(sample).shape == (2, 16, 16, 3)


def test_image_flags_need_a_folder(tmp_path, capsys, idx_dir):
    out = tmp_path / "run"
    assert main(["train", "--dataset", str(idx_dir), "--out", str(out), "--image-size", "32"]) == 2
    assert "--image-size applies to a folder of image files" in capsys.readouterr().err


def test_mixed_sizes_ask_for_an_image_size(tmp_path, capsys):
    data = _folder(tmp_path / "d", None, 8, 8, rgb=False)
    Image.fromarray(np.zeros((9, 12), np.uint8)).save(data / "odd.png")
    assert main(["train", "--dataset", str(data), "--out", str(tmp_path / "r"), *SMALL]) == 2
    assert "choose the side to train at with --image-size N" in capsys.readouterr().err


def test_load_images_reads_a_folder(tmp_path):
    from keras_gan.data import DatasetError, load_images

    data = _folder(tmp_path / "d", ("a", "b"), 8, 8, rgb=True)
    images, labels = next(iter(load_images(data, batch_size=8, with_labels=True, shuffle=False)))
    assert images.shape == (8, 8, 8, 3) and sorted(labels.numpy().tolist()) == [0] * 4 + [1] * 4
    assert float(images.numpy().min()) >= -1.0 and float(images.numpy().max()) <= 1.0
    with pytest.raises(DatasetError, match="has one split, 'train'"):
        load_images(data, split="test")
