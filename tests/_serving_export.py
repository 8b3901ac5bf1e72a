"""Tiny exported generators for the serving tests, built once per test session.

A Dense -> Reshape -> Conv2DTranspose generator (latent_dim 4, 8x8x1 images) is exported by
``keras_gan.export.export`` in a subprocess, so test modules that only serve it never import
TensorFlow. Two models with different weights are written: ``base/1`` (a model base path) and
``spare/1`` (a second model, copied in as a new version by the hot-reload test).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

LATENT_DIM = 4
IMAGE_SHAPE = (8, 8, 1)

_SCRIPT = """
import sys
import keras
import numpy as np
from keras_gan.export import export

root = sys.argv[1]
for name, seed in (("base", 0), ("spare", 1)):
    model = keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(4 * 4 * 3),
        keras.layers.Reshape((4, 4, 3)),
        keras.layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="tanh"),
    ])
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        variable.assign(rng.normal(0.0, 0.5, variable.shape).astype("float32"))
    export(model, f"{root}/{name}", metadata={"dataset": "noise"})
"""


def _fingerprint() -> str:
    """Hash of everything an export depends on here: a change rebuilds the cached exports."""
    repo = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(_SCRIPT.encode())
    serving = [repo / "serving" / name for name in ("latent.py", "layout.py")]
    for path in sorted([*(repo / "export").glob("*.py"), *serving]):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def tiny_exports(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory holding ``base/1`` and ``spare/1``.

    Built once and kept in pytest's cache directory under a hash of the export code (a few
    seconds of TensorFlow start-up saved per test module and run); built into a temporary
    sibling and renamed, so an interrupted build is never reused. Tests copy what they modify.

    Example:
        >>> root = tiny_exports(pytestconfig, tmp_path_factory)  # doctest: +SKIP
        >>> sorted(p.name for p in (root / "base" / "1").iterdir())  # doctest: +SKIP
        ['assets', 'fingerprint.pb', 'model.onnx', 'model.sample.onnx', ...]
    """
    cache = tmp_path_factory.getbasetemp()
    if getattr(pytestconfig, "cache", None) is not None:  # absent with -p no:cacheprovider
        cache = pytestconfig.cache.mkdir("serving-exports")
    root = cache / _fingerprint()
    if root.is_dir():
        return root
    building = Path(tempfile.mkdtemp(prefix=".build-", dir=cache))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "OMP_NUM_THREADS": "1"}
    try:
        subprocess.run(
            [sys.executable, "-c", _SCRIPT, str(building)], check=True, env=env, capture_output=True
        )
        os.replace(building, root)
    except OSError:
        if not root.is_dir():  # another session finished first otherwise
            raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return root
