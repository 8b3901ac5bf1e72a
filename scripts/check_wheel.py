"""Build the sdist and the wheel, install the wheel as users do, and run every command from it.

``.ci/run`` runs this after the tests. An editable install reads the source tree, so it cannot see
a package or a data file the wheel leaves out; this script can:

1. builds the sdist, then the wheel from the sdist (``python -m build``), from a clean copy of
   the tree (the files git knows) into a temporary folder, and checks that
   the wheel holds every module of ``keras_gan/``, ``export/`` and ``serving/`` and every
   pretrained file;
2. installs the wheel (not editable) with the ``train`` and ``serve`` extras into a fresh virtual
   environment and, from a folder outside the source tree, imports every module, then runs
   ``keras-gan --version``, a one-epoch ``train`` on ``--limit`` images, ``evaluate`` on a few
   hundred samples, ``export``, ``sample`` and one REST request to ``serve``; then evaluates the
   pretrained generator with 10,000 samples and compares it with its stored evaluation;
3. installs the bare wheel (numpy + onnxruntime) into a second environment, checks that neither
   TensorFlow nor Keras can be imported, samples the pretrained generator and the export of
   step 2 (the same pixels as the first environment), then adds the ``serve`` extra (waitress)
   and serves both, one REST request each.

Example:
    $ .venv/bin/python scripts/check_wheel.py
    $ .venv/bin/python scripts/check_wheel.py --skip-pretrained-evaluation  # about 3 min less
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
#: Source folder -> installed package.
SOURCES = {"keras_gan": "keras_gan", "export": "keras_gan/export", "serving": "keras_gan/serving"}
#: Largest allowed differences between a fresh evaluation of the pretrained generator and its
#: record (the classifier is trained again where it is not cached, so its weights may differ in
#: the last bits between CPUs).
TOLERANCE = {"fid": 0.02, "precision": 0.01, "recall": 0.01, "density": 0.02, "coverage": 0.01}


class CheckError(Exception):
    """A check failed: the message says which and what was found."""


def step(message: str) -> None:
    """Print one progress line."""
    print(f"[check_wheel {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run ``command``; a failure raises ``CheckError`` with its output."""
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise CheckError(
            f"{' '.join(map(str, command))} exited with {result.returncode}:\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result


def expected_files() -> set[str]:
    """Every module and pretrained file the wheel must hold, by its path inside the wheel."""
    files = set()
    for source, installed in SOURCES.items():
        root = ROOT / source
        for path in root.rglob("*"):
            relative = path.relative_to(root)
            if "__pycache__" in relative.parts or not path.is_file():
                continue
            if path.suffix == ".py" or "pretrained" in relative.parts:
                files.add(f"{installed}/{relative.as_posix()}")
    return files


def clean_copy(target: Path) -> Path:
    """Copy the files git knows (tracked, and untracked but not ignored) to ``target``.

    The build then sees what a fresh clone holds: no ``*.egg-info`` of an editable install (its
    SOURCES.txt would put modules the package list leaves out into the sdist) and no stale
    ``build/`` folder.
    """
    listed = run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT
    ).stdout.split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def build(dist: Path) -> Path:
    """Build the sdist and the wheel; check the wheel's contents; return the wheel."""
    step("building the sdist and the wheel from a clean copy of the tree")
    source = clean_copy(dist.parent / "source")
    # No --sdist/--wheel: the wheel is built from the unpacked sdist, as pip builds it.
    run([sys.executable, "-m", "build", "--outdir", str(dist)], cwd=source)
    wheels, sdists = list(dist.glob("*.whl")), list(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        raise CheckError(f"expected one wheel and one sdist in {dist}: {os.listdir(dist)}")
    with zipfile.ZipFile(wheels[0]) as archive:
        held = set(archive.namelist())
    missing = sorted(expected_files() - held)
    if missing:
        raise CheckError(
            f"the wheel {wheels[0].name} lacks {len(missing)} files of the source tree, e.g. "
            f"{missing[:5]} (is a package missing from [tool.setuptools] packages, or a data "
            "file from package-data?)"
        )
    step(f"{wheels[0].name}: {len(held)} files, every module and pretrained file present")
    return wheels[0]


def venv(path: Path, requirement: str) -> Path:
    """A fresh virtual environment with ``requirement`` installed; returns its bin folder."""
    step(f"installing {Path(requirement).name} into a fresh environment {path.name}")
    run([sys.executable, "-m", "venv", str(path)])
    bin_dir = path / "bin"
    run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", requirement])
    return bin_dir


def keras_gan(bin_dir: Path, *args: str, cwd: Path) -> str:
    """Run ``keras-gan ARGS`` from ``bin_dir`` in ``cwd``; return its output."""
    step("keras-gan " + " ".join(args))
    result = run([str(bin_dir / "keras-gan"), *args], cwd=cwd)
    return result.stdout + result.stderr


def serve_once(bin_dir: Path, cwd: Path, *args: str) -> dict:
    """Start ``keras-gan serve ARGS --port 0``, send one ``sample`` request, stop it."""
    step("keras-gan serve " + " ".join(args))
    process = subprocess.Popen(
        [str(bin_dir / "keras-gan"), "serve", *args, "--port", "0"],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines, url, names = [], None, []
        deadline = time.time() + 120
        while url is None and time.time() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            names += re.findall(r"serving model '([^']+)'", line)
            found = re.search(r"listening on (http://\S+)", line)
            url = found.group(1) if found else None
        if url is None or not names:
            raise CheckError("the server did not start:\n" + "".join(lines))
        body = json.dumps({"signature_name": "sample", "inputs": {"n": 2, "seed": 0}}).encode()
        request = urllib.request.Request(
            f"{url}/v1/models/{names[0]}:predict",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            reply = json.loads(response.read())
        images = np.asarray(reply["outputs"])
        if images.shape[0] != 2:
            raise CheckError(f"the REST reply has shape {images.shape}, expected 2 images")
        return reply
    finally:
        process.terminate()
        process.wait(timeout=30)


def check_absent(bin_dir: Path, modules: tuple[str, ...]) -> None:
    """Fail unless importing each of ``modules`` fails in that environment."""
    for module in modules:
        result = subprocess.run(
            [str(bin_dir / "python"), "-c", f"import {module}"], capture_output=True
        )
        if result.returncode == 0:
            raise CheckError(f"{module} is importable in the base environment")
    step(f"not importable in the base environment: {', '.join(modules)}")


def main() -> int:
    """Run every check; print the failure and return 1 on the first that fails."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--skip-pretrained-evaluation",
        action="store_true",
        help="do not evaluate the pretrained generator with 10,000 samples",
    )
    parser.add_argument("--keep", help="work in this folder and keep it (default: a temporary one)")
    args = parser.parse_args()
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="keras-gan-wheel-") as tmp:
        work = Path(args.keep) if args.keep else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        try:
            check(work, evaluate_pretrained=not args.skip_pretrained_evaluation)
        except CheckError as error:
            print(f"check_wheel: FAILED: {error}", file=sys.stderr)
            return 1
    step(f"every check passed in {time.time() - started:.0f} s")
    return 0


def check(work: Path, evaluate_pretrained: bool) -> None:
    """The checks of the module docstring, in ``work``."""
    sys.path.insert(0, str(ROOT))
    from keras_gan import __version__

    wheel = build(work / "dist")
    cwd = work / "user"
    cwd.mkdir(exist_ok=True)
    cache = {"KERAS_GAN_CACHE": str(work / "cache")}

    # The training install.
    train_bin = venv(work / "train-env", f"{wheel}[train,serve]")
    modules = sorted(
        f[: -len(".py")].replace("/", ".").removesuffix(".__init__")
        for f in expected_files()
        if f.endswith(".py") and not f.endswith("/__main__.py")
    )
    code = f"import importlib\nfor m in {modules!r}:\n    importlib.import_module(m)\n"
    run([str(train_bin / "python"), "-c", code], cwd=cwd)
    step(f"imported all {len(modules)} modules from the installed wheel")
    version = keras_gan(train_bin, "--version", cwd=cwd).strip()
    if version != f"keras-gan {__version__}":
        raise CheckError(f"keras-gan --version printed {version!r}")
    keras_gan(
        train_bin,
        *("train", "--dataset", "fashion_mnist", "--limit", "512", "--epochs", "1"),
        *("--batch-size", "64", "--seed", "0", "--out", "run"),
        cwd=cwd,
    )
    os.environ.update(cache)
    keras_gan(
        train_bin,
        *("evaluate", "run", "--num-samples", "300", "--classifier-epochs", "1"),
        cwd=cwd,
    )
    if not (cwd / "run" / "evaluation.json").is_file():
        raise CheckError("keras-gan evaluate wrote no run/evaluation.json")
    keras_gan(train_bin, "export", "run", "--format", "all", "--out", "exported", cwd=cwd)
    keras_gan(train_bin, "sample", "exported", "-n", "16", "--seed", "0", "--out", "a.npy", cwd=cwd)
    keras_gan(train_bin, "sample", "exported", "-n", "16", "--out", "grid.png", cwd=cwd)
    serve_once(train_bin, cwd, "--model-base-path", "exported", "--model-name", "run")

    # The base install: numpy + onnxruntime, then waitress.
    base_bin = venv(work / "base-env", str(wheel))
    check_absent(base_bin, ("tensorflow", "keras"))
    keras_gan(base_bin, "--version", cwd=cwd)
    keras_gan(base_bin, "sample", "exported", "-n", "16", "--seed", "0", "--out", "b.npy", cwd=cwd)
    if not np.array_equal(np.load(cwd / "a.npy"), np.load(cwd / "b.npy")):
        raise CheckError("the base install samples other pixels than the training install")
    keras_gan(
        base_bin,
        *("sample", "--pretrained", "fashion-mnist", "-n", "64", "--seed", "0"),
        *("--out", "pretrained.png"),
        cwd=cwd,
    )
    keras_gan(
        base_bin,
        *("sample", "--pretrained", "fashion-mnist", "-n", "10000", "--seed", "0"),
        *("--out", "pretrained.npy"),
        cwd=cwd,
    )
    run([str(base_bin / "python"), "-m", "pip", "install", "--quiet", f"{wheel}[serve]"])
    check_absent(base_bin, ("tensorflow", "keras"))
    serve_once(base_bin, cwd, "--model-base-path", "exported")
    serve_once(base_bin, cwd, "--pretrained", "fashion-mnist")

    if evaluate_pretrained:
        evaluate_pretrained_generator(train_bin, base_bin, cwd)


def evaluate_pretrained_generator(train_bin: Path, base_bin: Path, cwd: Path) -> None:
    """Evaluate the installed pretrained generator with its record's settings and compare."""
    code = (
        "from keras_gan.serving import pretrained; import json; "
        "print(json.dumps({'path': str(pretrained.path('fashion-mnist')), "
        "'record': pretrained.record('fashion-mnist')}))"
    )
    found = json.loads(run([str(base_bin / "python"), "-c", code], cwd=cwd).stdout)
    record = found["record"]["evaluation"]
    onnx = Path(found["path"]) / "1" / "model.onnx"
    keras_gan(
        train_bin,
        *("evaluate", str(onnx), "--num-samples", str(record["num_samples"])),
        *("--seed", str(record["seed"]), "--out", "pretrained-evaluation"),
        cwd=cwd,
    )
    fresh = json.loads((cwd / "pretrained-evaluation" / "evaluation.json").read_text())
    lines = []
    for key, tolerance in TOLERANCE.items():
        stored, measured = record["metrics"][key], fresh["metrics"][key]
        lines.append(f"{key}: stored {stored:.4f}, measured {measured:.4f}")
        if abs(stored - measured) > tolerance:
            raise CheckError(f"the pretrained evaluation differs: {lines[-1]} (> {tolerance})")
    for key in ("classes_hit",):
        if record["metrics"][key] != fresh["metrics"][key]:
            raise CheckError(f"{key}: stored {record['metrics'][key]}, measured {fresh[key]}")
    step("pretrained evaluation matches its record: " + "; ".join(lines))


if __name__ == "__main__":
    sys.exit(main())
