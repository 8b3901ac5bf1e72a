"""Make the pretrained generators in ``keras_gan/serving/pretrained/`` (``make pretrained``).

For each name: train its preset on Fashion-MNIST with a fixed seed (``keras-gan train
--resume``: a killed run continues where it stopped), export the generator to ONNX, evaluate the
export with 10,000 samples (latent seed 0) against the test split, and write the model base
path ``<name>/1/model.onnx`` (its metadata inside) with ``evaluation.json``: the commands, the
commit, the machine (CPU, AVX-512 flags, load), the library versions, the ONNX file's SHA-256
and the evaluation. The folder is built aside and renamed into place; an existing one is
replaced only with ``--replace``.

Training is seeded and runs on the CPU, so the same command gives the same weights on the same
software (the ONNX bytes differ from run to run in the converter's names for folded constants and
the metadata's timestamp, so the record also hashes the uint8 pixels of 64 samples of seed 0);
``tests/serving/test_pretrained.py`` checks that the shipped file samples what its record says.

Example:
    $ python scripts/pretrained.py fashion-mnist --replace
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from keras_gan.serving.layout import ONNX_NAME  # noqa: E402
from keras_gan.serving.pretrained import PRETRAINED_DIR, RECORD_NAME  # noqa: E402
from keras_gan.serving.sampler import Sampler  # noqa: E402

from benchmarks._machine import cpu_description, load_average  # noqa: E402
from keras_gan._atomic import atomic_directory, write_json  # noqa: E402

#: Name -> how it is trained (``keras-gan train`` flags). The epochs are the demo's.
SPECS: dict[str, dict[str, object]] = {
    "fashion-mnist": {"model": "clustered", "epochs": 12, "batch_size": 128, "seed": 0},
    "fashion-mnist-cgan": {"model": "cgan", "epochs": 12, "batch_size": 128, "seed": 0},
}
DATASET = "fashion_mnist"
NUM_SAMPLES = 10_000
EVAL_SEED = 0
#: Samples whose uint8 pixels are hashed into the record.
SAMPLES_CHECK = 64
#: What the dirty flag ignores: the folder this script writes.
EXCLUDED = ":(exclude)serving/pretrained"


def _keras_gan(*args: str) -> list[str]:
    command = [sys.executable, "-m", "keras_gan.cli", *args]
    print("$ keras-gan " + " ".join(args), flush=True)
    subprocess.run(command, check=True, cwd=ROOT)
    return ["keras-gan", *args]


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.strip()


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for package in ("tensorflow", "keras", "tf2onnx", "onnx", "onnxruntime", "numpy"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "absent"
    return found


def _complete(run_dir: Path, spec: dict[str, object]) -> bool:
    """Whether ``run_dir`` holds a finished run of ``spec`` (its run.json, no backup left)."""
    try:
        run = json.loads((run_dir / "run.json").read_text())
    except (OSError, ValueError):
        return False
    same = all(run.get(key) == spec[key] for key in ("model", "epochs", "seed"))
    return same and (run_dir / "generator.keras").is_file() and not (run_dir / "backup").exists()


def make(name: str, runs_root: Path, replace: bool) -> Path:
    """Train, export, evaluate and install the pretrained generator ``name``.

    Returns:
        The installed model base path.
    """
    spec = SPECS[name]
    final = PRETRAINED_DIR / name
    if final.exists() and not replace:
        raise SystemExit(f"{final} exists; pass --replace to make it again")
    run_dir = runs_root / name  # relative to ROOT, where every command runs
    started = time.time()
    load_before = load_average()
    train = [
        "train",
        "--model",
        str(spec["model"]),
        "--dataset",
        DATASET,
        "--epochs",
        str(spec["epochs"]),
        "--batch-size",
        str(spec["batch_size"]),
        "--seed",
        str(spec["seed"]),
        "--out",
        str(run_dir),
        "--resume",
    ]
    if _complete(ROOT / run_dir, spec):
        print(f"{run_dir} holds the finished run; exporting it", flush=True)
        commands = [["keras-gan", *train]]
    else:
        commands = [_keras_gan(*train)]
    with tempfile.TemporaryDirectory(prefix="keras-gan-pretrained-") as tmp:
        # The temporary folder's name is replaced by $TMP in the recorded commands.
        export = Path(tmp) / "export"
        commands.append(
            _keras_gan("export", str(run_dir), "--format", "onnx", "--out", str(export))
        )
        version_dir = export / "1"
        commands.append(
            _keras_gan(
                "evaluate",
                str(version_dir / ONNX_NAME),
                "--dataset",
                DATASET,
                "--num-samples",
                str(NUM_SAMPLES),
                "--seed",
                str(EVAL_SEED),
                "--out",
                str(Path(tmp) / "evaluation"),
            )
        )
        report = json.loads((Path(tmp) / "evaluation" / "evaluation.json").read_text())
        onnx_bytes = (version_dir / ONNX_NAME).read_bytes()
        sampler = Sampler(version_dir)
        label = 0 if sampler.conditional else None
        pixels = sampler.sample(SAMPLES_CHECK, seed=EVAL_SEED, label=label).tobytes()
        record = {
            "name": name,
            "model": spec["model"],
            "dataset": DATASET,
            "epochs": spec["epochs"],
            "batch_size": spec["batch_size"],
            "training_seed": spec["seed"],
            "commands": [" ".join(c).replace(tmp, "$TMP") for c in commands],
            "script": "python scripts/pretrained.py " + name,
            "commit": _git("rev-parse", "HEAD"),
            # Changes to the shipped generators themselves (written by this script) aside.
            "dirty": bool(
                _git("status", "--porcelain", "--untracked-files=no", "--", ".", EXCLUDED)
            ),
            "cpu": cpu_description(),
            "load_average_before": load_before,
            "load_average_after": load_average(),
            "versions": _versions(),
            "seconds": round(time.time() - started, 1),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "onnx_sha256": hashlib.sha256(onnx_bytes).hexdigest(),
            "onnx_bytes": len(onnx_bytes),
            # The pictures, not the file, identify the model: the converter names its folded
            # constants differently from run to run, and the metadata carries a timestamp.
            "samples_sha256": {
                "n": SAMPLES_CHECK,
                "seed": EVAL_SEED,
                "label": label,
                "sha256": hashlib.sha256(pixels).hexdigest(),
            },
            "evaluation": {
                "num_samples": report["num_samples"],
                "seed": EVAL_SEED,
                "metrics": report["metrics"],
                "floor": report["floor"],
                "classifier": report["classifier"],
                "per_class": report.get("per_class"),
            },
        }
        staged = final.with_name(f".{name}-new")
        shutil.rmtree(staged, ignore_errors=True)
        with atomic_directory(staged) as build:
            # model.onnx carries the export's metadata (its metadata_props): nothing else needed.
            (build / "1").mkdir()
            shutil.copyfile(version_dir / ONNX_NAME, build / "1" / ONNX_NAME)
            write_json(build / RECORD_NAME, record)
    if final.exists():
        old = final.with_name(f".{name}-old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
        os.replace(staged, final)
        shutil.rmtree(old)
    else:
        os.replace(staged, final)
    print(f"wrote {final}: {len(onnx_bytes):,} bytes of ONNX, FID {report['metrics']['fid']:.3f}")
    return final


def main() -> None:
    """Make the named pretrained generators (all of them when none is named)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"of {sorted(SPECS)} (default: all)")
    parser.add_argument("--runs", default="runs/pretrained", help="run dirs (from the root)")
    parser.add_argument("--replace", action="store_true", help="replace an existing folder")
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(SPECS))
    if unknown:
        parser.error(f"unknown names {unknown}; expected some of {sorted(SPECS)}")
    for name in args.names or list(SPECS):
        make(name, Path(args.runs), args.replace)


if __name__ == "__main__":
    main()
