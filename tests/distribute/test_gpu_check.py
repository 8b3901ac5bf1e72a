"""``benchmarks/gpu_check.py`` runs on a CPU-only machine (two logical CPU devices) and checks
what it says it checks; on a GPU machine the same script uses every GPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_gpu_check_on_logical_cpus(tmp_path):
    record_path = tmp_path / "record.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "gpu_check.py")]
    command += ["--batch-size", "32", "--steps", "2", "--rounds", "1", "--check-steps", "2"]
    result = subprocess.run(
        [*command, "--record", str(record_path)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads(record_path.read_text())
    assert record["replicas"] == 2 and not record["on_gpu"]
    rows = {(r["precision"], r["xla"]): r for r in record["throughput"]}
    assert set(rows) == {
        (p, x) for p in ("float32", "mixed_float16", "mixed_bfloat16") for x in (False, True)
    }
    base = rows[("float32", False)]
    assert base["images_per_s"] > 0 and base["finite"] and base["vs_float32"] == 1.0
    for row in rows.values():  # measured, or the reason it could not run
        assert ("images_per_s" in row) != ("error" in row), row
    equality = record["replicas_vs_one_device"]
    assert equality["start_difference"] == 0.0
    assert equality["moved"] > 1e-3  # the steps moved the weights far beyond the tolerance
    assert equality["max_weight_difference"] < 1e-4 and equality["equal"]
    assert record["export"]["max_abs_difference"] < 1e-5
    assert record["export"]["formats"] == ["saved_model", "onnx"]
    for key in ("command", "commit", "cpu", "load_average_before", "versions", "seeds"):
        assert record[key], key
    table = result.stdout
    assert "| precision | XLA | images/s | vs float32 |" in table and "2 replicas vs one" in table
