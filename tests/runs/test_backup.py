"""Backups are written aside and renamed, a damaged one falls back to the previous, and
non-finite weights are never backed up."""

from __future__ import annotations

import json
import os
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_gan.callbacks import NonFiniteLossError
from keras_gan.cli import main
from keras_gan.models import build
from keras_gan.runs import backup as runs_backup


def _gan():
    return build("dcgan", image_shape=(8, 8, 1), latent_dim=4, width=4, seed=0)


def _data():
    return np.random.default_rng(0).uniform(-1, 1, (16, 8, 8, 1)).astype("float32")


def _backed_up(directory: Path, epochs: int = 2) -> keras.Model:
    gan = _gan()
    backup = runs_backup.StepBackup(directory, delete_checkpoint=False)
    gan.fit(_data(), batch_size=8, epochs=epochs, verbose=0, shuffle=False, callbacks=[backup])
    return gan


def _tear(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_a_torn_latest_backup_falls_back_to_the_previous_one(tmp_path, capsys):
    directory = tmp_path / "backup"
    _backed_up(directory)
    names = sorted(p.name for p in directory.iterdir())
    assert names == [
        "latest.weights.h5",
        "previous.weights.h5",
        "previous_training_metadata.json",
        "training_metadata.json",
    ]  # no temporary file left behind
    _tear(directory / "latest.weights.h5")
    clone = _gan()
    assert runs_backup.restore_step(clone, directory) == 2  # the epoch-1 backup, not a crash
    assert "latest backup" in capsys.readouterr().err
    assert json.loads((directory / "training_metadata.json").read_text())["epoch"] == 1
    assert runs_backup.restore_step(_gan(), directory) == 2  # repaired: latest loads again


def test_when_every_backup_is_damaged_the_error_names_them(tmp_path):
    directory = tmp_path / "backup"
    _backed_up(directory)
    _tear(directory / "latest.weights.h5")
    _tear(directory / "previous.weights.h5")
    with pytest.raises(runs_backup.BackupError, match=r"latest\.weights\.h5.*previous\.weights"):
        runs_backup.restore_step(_gan(), directory)


def test_non_finite_weights_are_never_backed_up(tmp_path):
    directory = tmp_path / "backup"

    class Poison(keras.callbacks.Callback):
        """Makes one generator weight NaN after step 3 (the loss logged for it is finite)."""

        def on_train_batch_end(self, batch, logs=None):
            if int(self.model.g_optimizer.iterations.numpy()) == 3:
                kernel = self.model.generator.trainable_variables[0]
                value = keras.ops.convert_to_numpy(kernel).copy()
                value.flat[0] = np.nan
                kernel.assign(value)

    gan = _gan()
    backup = runs_backup.StepBackup(directory, save_freq=1, delete_checkpoint=False)
    with pytest.raises(NonFiniteLossError, match=r"NaN or infinite .* by step 3.*kept in"):
        gan.fit(
            _data(), batch_size=8, epochs=2, verbose=0, shuffle=False, callbacks=[Poison(), backup]
        )
    clone = _gan()
    assert runs_backup.restore_step(clone, directory) == 2
    assert not runs_backup.non_finite_weights(clone)


def test_cli_resume_survives_a_torn_backup(idx_dir, tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    args = [
        "train",
        "--dataset",
        str(idx_dir),
        "--out",
        str(out),
        "--width",
        "4",
        "--latent-dim",
        "4",
        "--batch-size",
        "16",
        "--epochs",
        "3",
        "--seed",
        "0",
    ]
    original = runs_backup.StepBackup.on_epoch_end

    def killed_after_epoch_2(self, epoch, logs=None):
        original(self, epoch, logs)
        if epoch == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(runs_backup.StepBackup, "on_epoch_end", killed_after_epoch_2)
    assert main(args) == 130
    monkeypatch.undo()
    _tear(out / "backup" / "latest.weights.h5")
    keras.backend.clear_session()
    assert main([*args, "--resume"]) == 0
    captured = capsys.readouterr()
    assert "latest backup" in captured.err and "damaged" in captured.err
    assert "resuming from" in captured.out and "at step 4" in captured.out  # epoch 1's backup
    run = json.loads((out / "run.json").read_text())
    assert run["steps"] == 12 and not (out / "backup").exists()
    assert os.stat(out / "model.keras").st_size > 0
