"""Tiny exported generators for the serving tests, built once per test session.

A Dense -> Reshape -> Conv2DTranspose generator (latent_dim 4, 8x8x1 images) is exported by
``keras_gan.export.export`` in a subprocess, so test modules that only serve it never import
TensorFlow. Two models with different weights are written: ``base/1`` (a model base path) and
``spare/1`` (a second model, copied in as a new version by the hot-reload test).

``conditional_exports`` builds, the same way, ``conditional/1``: a class-conditional generator
(inputs ``z`` and ``labels``; Embedding -> Flatten -> Concatenate with ``z`` -> Dense ->
Reshape -> Conv2DTranspose) of ``NUM_CLASSES`` classes named ``CLASS_NAMES``.
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
NUM_CLASSES = 3
CLASS_NAMES = ("top", "Sneaker", "bag")

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


_CONDITIONAL_SCRIPT = """
import sys
import keras
import numpy as np
from keras_gan.export import export

root = sys.argv[1]
z = keras.Input((4,), name="z")
labels = keras.Input((), dtype="int32", name="labels")
embedded = keras.layers.Flatten()(keras.layers.Embedding(3, 4)(labels))
hidden = keras.layers.Concatenate()([z, embedded])
hidden = keras.layers.Reshape((4, 4, 3))(keras.layers.Dense(4 * 4 * 3)(hidden))
images = keras.layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="tanh")(hidden)
model = keras.Model([z, labels], images)
rng = np.random.default_rng(2)
for variable in model.weights:
    variable.assign(rng.normal(0.0, 0.5, variable.shape).astype("float32"))
metadata = {"dataset": "noise", "num_classes": 3, "class_names": ["top", "Sneaker", "bag"]}
export(model, f"{root}/conditional", metadata=metadata)
"""


def _fingerprint(script: str = _SCRIPT) -> str:
    """Hash of everything an export depends on here: a change rebuilds the cached exports."""
    repo = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(script.encode())
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
    return _build(_SCRIPT, pytestconfig, tmp_path_factory)


def conditional_exports(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The directory holding ``conditional/1``, a class-conditional export (``CLASS_NAMES``).

    Built once and cached like ``tiny_exports``.

    Example:
        >>> root = conditional_exports(pytestconfig, tmp_path_factory)  # doctest: +SKIP
        >>> Sampler(root / "conditional").class_names  # doctest: +SKIP
        ('top', 'Sneaker', 'bag')
    """
    return _build(_CONDITIONAL_SCRIPT, pytestconfig, tmp_path_factory)


def _build(
    script: str, pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    cache = tmp_path_factory.getbasetemp()
    if getattr(pytestconfig, "cache", None) is not None:  # absent with -p no:cacheprovider
        cache = pytestconfig.cache.mkdir("serving-exports")
    root = cache / _fingerprint(script)
    if root.is_dir():
        return root
    building = Path(tempfile.mkdtemp(prefix=".build-", dir=cache))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "OMP_NUM_THREADS": "1"}
    try:
        subprocess.run(
            [sys.executable, "-c", script, str(building)], check=True, env=env, capture_output=True
        )
        os.replace(building, root)
    except OSError:
        if not root.is_dir():  # another session finished first otherwise
            raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return root
