"""Two worker processes on 127.0.0.1 (free ports, started by scripts/launch_workers.py) train
with ``keras-gan train --strategy multiworker`` and end with identical weights, equal to one
device training on the same global batch.

Each worker runs the real CLI; the only change is that the non-chief worker keeps the model it
saves (normally written to a temporary directory and deleted), so the test can compare it.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np

import keras_gan.models  # noqa: F401  (registers GAN for load_model)
from keras_gan.cli import main

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import launch_workers  # noqa: E402

WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import keras_gan.distribute as d
    import keras_gan.runs.workers as w

    def worker_dir(out, strategy=None):
        if d.is_chief(strategy):
            return Path(out)
        path = Path(out) / f"worker-{d.task()[1]}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    w.worker_dir = worker_dir
    w.remove_worker_dir = lambda path, out: None
    from keras_gan.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


def _args(idx_dir: Path, out: Path) -> list[str]:
    return [
        "train", "--model", "wgan_gp", "--dataset", str(idx_dir), "--epochs", "2",
        "--batch-size", "4", "--width", "4", "--latent-dim", "4", "--seed", "0",
        "--discriminator-steps", "2", "--limit", "32", "--backup-every", "1", "--out", str(out),
    ]  # fmt: skip


def _weights(path: Path) -> list[np.ndarray]:
    return [np.asarray(w) for w in keras.models.load_model(path).get_weights()]


def test_two_workers_end_with_identical_weights(idx_dir, tmp_path, capsys):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    out = tmp_path / "run"
    command = [sys.executable, str(script), *_args(idx_dir, out), "--strategy", "multiworker"]
    status = launch_workers.launch(command, workers=2, timeout=500, env={"PYTHONPATH": str(ROOT)})
    printed = capsys.readouterr().out
    assert status == 0, printed[-4000:]
    assert "[worker 0] training wgan_gp" in printed and "2 replica(s)" in printed
    chief, other = _weights(out / "model.keras"), _weights(out / "worker-1" / "model.keras")
    for a, b in zip(chief, other, strict=True):
        np.testing.assert_array_equal(a, b)
    # Only the chief writes the run's files; every backup is gone after a normal end.
    run = json.loads((out / "run.json").read_text())
    assert run["strategy"] == "multiworker" and run["steps"] == 8
    assert [row["epoch"] for row in json.loads((out / "history.json").read_text())["epochs"]] == [
        1,
        2,
    ]
    assert not (out / "worker-1" / "run.json").exists()
    assert not list(out.glob("backup*"))
    # Two workers compute what one device computes with the same global batch.
    keras.backend.clear_session()
    assert main([*_args(idx_dir, tmp_path / "one"), "--strategy", "default"]) == 0
    single = _weights(tmp_path / "one" / "model.keras")
    diff = max(float(np.abs(a - b).max()) for a, b in zip(single, chief, strict=True))
    assert diff < 1e-5
