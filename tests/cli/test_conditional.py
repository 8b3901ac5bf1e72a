"""A class-conditional preset end to end through the command line: train on labelled
Fashion-MNIST, export (SavedModel and ONNX verified against each other), sample one class."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from keras_gan.cli import main
from tests.conftest import requires_fashion_mnist

SMALL = ["--limit", "128", "--batch-size", "32", "--width", "4", "--latent-dim", "8"]


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cgan") / "run"
    status = main(
        ["train", "--model", "cgan", "--epochs", "1", "--seed", "0", "--out", str(out), *SMALL]
    )
    assert status == 0
    return out


@requires_fashion_mnist
def test_train_records_the_classes_and_draws_a_row_per_class(conditional_run):
    from keras_gan.serving.images import tile_images

    from keras_gan.data.classes import CLASS_NAMES
    from keras_gan.runs import load_generator

    run = json.loads((conditional_run / "run.json").read_text())
    assert run["num_classes"] == 10 and run["class_names"] == list(CLASS_NAMES["fashion_mnist"])
    png = (conditional_run / "samples" / "epoch_001.png").read_bytes()
    width, height = struct.unpack(">II", png[16:24])  # the PNG header's size
    names = list(CLASS_NAMES["fashion_mnist"])  # 64 // 10 = 6 a row, each row named
    rows = tile_images(np.zeros((60, 28, 28, 1), np.uint8), columns=6, scale=4, row_labels=names)
    assert (height, width) == rows.shape[:2]  # ten rows, one per class
    generator = load_generator(conditional_run)
    assert generator.num_classes == 10 and generator.class_names[7] == "Sneaker"
    a, b = generator.sample(4, seed=1, labels=7), generator.sample(4, seed=1, labels=0)
    assert a.shape == (4, 28, 28, 1) and not np.allclose(a, b)  # the label reaches the images


@requires_fashion_mnist
def test_export_then_sample_a_class_by_name(conditional_run, tmp_path, capsys):
    export = tmp_path / "export"
    assert main(["export", str(conditional_run), "--format", "all", "--out", str(export)]) == 0
    printed = capsys.readouterr().out
    assert "onnx" in printed
    grid = tmp_path / "sneakers.npy"
    command = ["sample", str(export), "--label", "sneaker", "-n", "4", "--seed", "0"]
    assert main([*command, "--out", str(grid)]) == 0
    images = np.load(grid)
    assert images.shape == (4, 28, 28, 1) and images.dtype == np.uint8
    assert (
        main([*command[:2], "--label", "dragon", "-n", "4", "--out", str(tmp_path / "x.npy")]) == 2
    )
    err = capsys.readouterr().err
    assert "dragon" in err and "Sneaker" in err and "Traceback" not in err
