"""Tiny exported generators for the serving tests, built once per test session.

A Dense -> Reshape -> Conv2DTranspose generator (latent_dim 4, 8x8x1 images) is exported by
``keras_gan.export.export`` in a subprocess, so test modules that only serve it never import
TensorFlow. Two models with different weights are written: ``base/1`` (a model base path) and
``spare/1`` (a second model, copied in as a new version by the hot-reload test).
"""

from __future__ import annotations

import os
import subprocess
import sys
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


def tiny_exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory holding ``base/1`` and ``spare/1`` (built on first use in the session).

    Example:
        >>> root = tiny_exports(tmp_path_factory)  # doctest: +SKIP
        >>> sorted(p.name for p in (root / "base" / "1").iterdir())  # doctest: +SKIP
        ['assets', 'fingerprint.pb', 'model.onnx', 'model.sample.onnx', ...]
    """
    root = tmp_path_factory.getbasetemp() / "serving-tiny-exports"
    if (root / "done").is_file():
        return root
    root.mkdir(exist_ok=True)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "OMP_NUM_THREADS": "1"}
    subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(root)], check=True, env=env, capture_output=True
    )
    (root / "done").write_text("ok")
    return root
