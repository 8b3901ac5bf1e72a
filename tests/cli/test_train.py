"""``keras-gan train`` end to end on a small slice of Fashion-MNIST, and its errors."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from keras_gan.cli import main
from keras_gan.runs import directory as rundir
from tests.conftest import requires_fashion_mnist

SMALL = ["--limit", "96", "--batch-size", "32", "--width", "4", "--seed", "0"]


@requires_fashion_mnist
def test_train_writes_a_complete_run_directory(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--model", "dcgan", "--epochs", "2", "--out", str(out), *SMALL]) == 0
    for name in ("model.keras", "generator.keras", "history.json", "loss.png", "run.json"):
        assert (out / name).is_file(), name
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["epoch_001.png", "epoch_002.png"]
    assert (out / "samples" / "epoch_002.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (out / "backup").exists()  # removed when training completes
    history = json.loads((out / "history.json").read_text())["epochs"]
    assert [row["epoch"] for row in history] == [1, 2]
    assert {"d_loss", "g_loss", "d_real", "d_fake"} <= set(history[0])
    run = json.loads((out / "run.json").read_text())
    assert run["model"] == "dcgan" and run["epochs"] == 2 and run["latent_dim"] == 100
    assert run["image_shape"] == [28, 28, 1] and run["seed"] == 0
    generator = keras.models.load_model(out / "generator.keras")
    images = np.asarray(generator(np.zeros((2, 100), "float32")))
    assert images.shape == (2, 28, 28, 1) and np.abs(images).max() <= 1.0
    assert "sample grids:" in capsys.readouterr().out


@requires_fashion_mnist
def test_wgan_gp_from_the_cli(tmp_path):
    out = tmp_path / "wgp"
    args = ["train", "--model", "wgan_gp", "--epochs", "1", "--out", str(out)]
    assert main([*args, "--limit", "64", "--batch-size", "8", "--width", "4", "--seed", "1"]) == 0
    history = json.loads((out / "history.json").read_text())["epochs"][0]
    assert {"w_distance", "penalty"} <= set(history)
    assert json.loads((out / "run.json").read_text())["discriminator_steps"] == 5


def test_interrupted_run_needs_resume_or_overwrite(tmp_path, capsys):
    rundir.claim(tmp_path, files=["model.keras"], dirs=["backup"], settings={"seed": 0})
    (tmp_path / "backup").mkdir()
    assert main(["train", "--out", str(tmp_path), *SMALL]) == 2
    err = capsys.readouterr().err
    assert "holds an interrupted run; pass --resume" in err and "Traceback" not in err


def test_missing_dataset_is_one_clear_line(tmp_path, capsys):
    code = main(["train", "--dataset", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r")])
    assert code == 2
    err = capsys.readouterr().err
    assert "no such directory" in err and "nowhere" in err and "Traceback" not in err


def test_bad_numbers_are_rejected_by_the_parser(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--epochs", "0"])
    assert info.value.code == 2
    assert "expected a positive integer, got '0'" in capsys.readouterr().err


def test_divergence_guard_names_the_value(tmp_path):
    from keras_gan.callbacks import DivergenceGuard, NonFiniteLossError
    from keras_gan.models import build

    gan = build("dcgan", image_shape=(8, 8, 1), latent_dim=4, width=4, seed=0)
    data = np.full((16, 8, 8, 1), np.nan, "float32")
    guard = DivergenceGuard(backup_dir=str(tmp_path / "backup"))
    with pytest.raises(NonFiniteLossError, match=r"d_loss became nan at epoch 1, batch 1.*kept in"):
        gan.fit(data, batch_size=8, epochs=1, verbose=0, callbacks=[guard])


@requires_fashion_mnist
def test_tensorboard_gets_scalars_and_the_sample_grid(tmp_path):
    import tensorflow as tf

    out = tmp_path / "tb"
    args = ["train", "--epochs", "1", "--out", str(out), "--tensorboard", *SMALL]
    assert main(args) == 0
    tags = set()
    for event_file in (out / "tensorboard").rglob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            tags.update(value.tag for value in event.summary.value)
    assert "samples" in tags
    assert any("d_loss" in tag for tag in tags)


def test_points_is_the_default_for_the_2d_mixtures_with_its_training(tmp_path, capsys):
    out = tmp_path / "ring"
    assert main(["train", "--dataset", "ring", "--limit", "2048", "--epochs", "1",
                 "--seed", "0", "--out", str(out)]) == 0  # fmt: skip
    run = json.loads((out / "run.json").read_text())
    assert run["model"] == "points" and run["batch_size"] == 512 and run["ema_decay"] == 0.99
    assert run["steps"] == 4  # 2048 // 512 steps, fused into one call
    assert "4 steps, 4 step(s) per call" in capsys.readouterr().out
    assert set(run["mode_coverage"]) == {"modes", "high_quality", "reverse_kl"}
    generator = keras.models.load_model(out / "generator.keras")
    # The ring's root-mean-square coordinate is 1/sqrt(2): the networks work at unit scale.
    scale = generator.get_layer("scale").scale
    assert scale == pytest.approx(2**-0.5, rel=0.02)
    assert (out / "scatter.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_other_presets_keep_their_point_defaults(tmp_path):
    out = tmp_path / "gan"
    assert main(["train", "--model", "gan", "--dataset", "grid", "--limit", "256", "--epochs",
                 "1", "--seed", "0", "--out", str(out)]) == 0  # fmt: skip
    run = json.loads((out / "run.json").read_text())
    assert run["model"] == "gan" and run["batch_size"] == 128 and run["ema_decay"] is None
    assert run["steps"] == 2
