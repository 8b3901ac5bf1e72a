"""A ``keras-gan train`` process SIGKILLed mid-epoch and restarted with ``--resume`` ends with the
same weights as an uninterrupted run (deterministic ops on).

A driver subprocess (so ``--deterministic`` does not leak into the test process) runs the
uninterrupted reference while a child process trains the same command and SIGKILLs itself in
the middle of epoch 2, after a backup inside that epoch exists but before the next one; the
driver then restarts the killed run with ``--resume`` and reports. The DCGAN preset is used on
purpose: its discriminator's dropout draws from ``SeedGenerator`` states that must come back
with the backup. The ``points`` preset runs 16 steps per call under XLA with a learning-rate
schedule and an EMA generator: its backups fall on call boundaries.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

DRIVER = textwrap.dedent(
    """
    import json, os, signal, subprocess, sys
    from pathlib import Path

    ARGS = json.loads(Path(sys.argv[1]).read_text())
    work, kill_at = Path(sys.argv[2]), int(sys.argv[3])
    if len(sys.argv) > 4:  # the child: SIGKILL itself after generator step `kill_at`
        import keras_gan.runs.backup as d

        original = d.StepBackup.on_train_batch_end

        def on_train_batch_end(self, batch, logs=None):
            original(self, batch, logs)
            if int(self.model.g_optimizer.iterations.numpy()) == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

        d.StepBackup.on_train_batch_end = on_train_batch_end
        from keras_gan.cli import main

        sys.exit(main([*ARGS, "--out", str(work / "killed")]))

    child = subprocess.Popen([sys.executable, __file__, *sys.argv[1:], "child"])
    import keras
    import numpy as np
    from keras_gan.cli import main

    assert main([*ARGS, "--out", str(work / "reference")]) == 0
    report = {"child_status": child.wait()}
    backup = work / "killed" / "backup"
    report["backup_files"] = sorted(p.name for p in backup.iterdir())
    report["backup_metadata"] = json.loads((backup / "training_metadata.json").read_text())
    keras.backend.clear_session()
    report["resume_status"] = main([*ARGS, "--out", str(work / "killed"), "--resume"])
    a = keras.models.load_model(work / "reference" / "model.keras")
    b = keras.models.load_model(work / "killed" / "model.keras")
    report["steps"] = [int(a.g_optimizer.iterations.numpy()), int(b.g_optimizer.iterations.numpy())]
    report["weight_diff"] = max(
        float(np.abs(np.asarray(x) - np.asarray(y)).max())
        for x, y in zip(a.get_weights(), b.get_weights())
    )
    report["backup_left"] = backup.exists()
    print("REPORT " + json.dumps(report))
    """
)


def _dcgan_case(idx_dir: Path) -> tuple[list[str], int, int, int]:
    """8 steps per epoch, backups every 3: killed at step 11, resumed from step 9."""
    args = [
        "train", "--model", "dcgan", "--dataset", str(idx_dir), "--epochs", "2",
        "--batch-size", "8", "--width", "4", "--latent-dim", "4", "--seed", "0",
        "--backup-every", "3", "--deterministic",
    ]  # fmt: skip
    return args, 11, 9, 16


def _clustered_case(idx_dir: Path) -> tuple[list[str], int, int, int]:
    """The default image preset (k-means clusters recomputed on resume), as for dcgan."""
    args = [
        "train", "--model", "clustered", "--dataset", str(idx_dir), "--epochs", "2",
        "--batch-size", "8", "--width", "4", "--latent-dim", "4", "--seed", "0",
        "--backup-every", "3", "--deterministic",
    ]  # fmt: skip
    return args, 11, 9, 16


def _points_case(idx_dir: Path) -> tuple[list[str], int, int, int]:
    """48 steps per epoch fused 16 per call, backups every 32 steps (2 calls): killed after the
    call ending at step 80, resumed from the backup at step 64 (both inside epoch 2)."""
    args = [
        "train", "--dataset", "ring", "--limit", "3072", "--batch-size", "64", "--epochs", "2",
        "--seed", "0", "--backup-every", "32", "--deterministic",
    ]  # fmt: skip
    return args, 80, 64, 96


@pytest.mark.parametrize(
    "case", [_dcgan_case, _clustered_case, _points_case], ids=["dcgan", "clustered", "points"]
)
def test_sigkill_mid_epoch_then_resume_equals_an_uninterrupted_run(case, idx_dir, tmp_path):
    args, kill_at, resumed_at, total = case(idx_dir)
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps(args))
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, str(driver), str(args_file), str(work), str(kill_at)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("REPORT ")]
    assert result.returncode == 0 and lines, (result.stdout[-2000:], result.stderr[-3000:])
    report = json.loads(lines[-1][len("REPORT ") :])
    assert report["child_status"] == -9  # really SIGKILLed
    assert "latest.weights.h5" in report["backup_files"] and "seed.json" in report["backup_files"]
    assert report["backup_metadata"]["epoch"] == 1  # killed inside epoch 2
    assert "resuming from" in result.stdout and f"at step {resumed_at}" in result.stdout
    assert report["resume_status"] == 0
    assert report["steps"] == [total, total]
    assert report["weight_diff"] == 0.0
    assert not report["backup_left"]
