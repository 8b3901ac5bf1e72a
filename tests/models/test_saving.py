"""Saved ``.keras`` files load in a FRESH process after ``import keras_gan``.

Each check runs a new Python interpreter (the only way to see the registrations a fresh process
gets), in both import orders: ``import keras_gan`` before and after ``import keras``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_gan import losses
from keras_gan.mixture.generator import mixture_generator
from keras_gan.models import build

LOADER = r"""
import json, sys
from pathlib import Path
{imports}
import numpy as np

files = Path(sys.argv[1])
for name in ("wgan_gp.keras", "wgan.keras"):
    gan = keras.models.load_model(files / name)
    assert type(gan).__module__.startswith("keras_gan.models"), type(gan)
    before = int(gan.g_optimizer.iterations.numpy())
    data = np.random.default_rng(0).normal(size=(16 * gan.discriminator_steps, 2))
    data = data.astype("float32")
    gan.fit(data, batch_size=8 * gan.discriminator_steps, epochs=1, verbose=0, shuffle=False)
    assert int(gan.g_optimizer.iterations.numpy()) == before + 2, name
    assert np.isfinite(gan.generate(3, seed=0)).all()
generator = keras.models.load_model(files / "mixture_generator.keras")
assert type(generator.layers[-1]).__name__ == "MixtureSampler" or any(
    type(layer).__name__ == "MixtureSampler" for layer in generator.layers
)
z = np.zeros((2, 3), "float32")
np.testing.assert_allclose(generator(z), np.load(files / "mixture_out.npy"), atol=1e-6)
for entry in json.loads((files / "objects.json").read_text()):
    obj = keras.saving.deserialize_keras_object(entry["config"])
    assert type(obj).__name__ == entry["class"], (obj, entry)
print("LOADED")
"""


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = tmp_path_factory.mktemp("saved")
    data = np.random.default_rng(0).normal(size=(80, 2)).astype("float32")
    for name in ("wgan_gp", "wgan"):
        gan = build(name, image_shape=(2,), latent_dim=2, hidden=(8,), seed=0)
        gan.fit(
            data[: 8 * gan.discriminator_steps],
            batch_size=8 * gan.discriminator_steps,
            epochs=1,
            verbose=0,
        )
        gan.save(files / f"{name}.keras")
    generator = mixture_generator(np.array([0.5, 0.5]), np.zeros((2, 2)), np.ones((2, 2)), "diag")
    generator.save(files / "mixture_generator.keras")
    np.save(files / "mixture_out.npy", np.asarray(generator(np.zeros((2, 3), "float32"))))
    objects = [losses.get(name) for name in losses.available()] + [
        losses.GradientPenalty(5.0),
        losses.R1Penalty(1.0),
        losses.WeightClip(0.02),
    ]
    entries = [
        {"class": type(obj).__name__, "config": keras.saving.serialize_keras_object(obj)}
        for obj in objects
    ]
    (files / "objects.json").write_text(json.dumps(entries))
    return files


@pytest.mark.parametrize(
    "imports",
    [
        "import keras_gan\nimport keras",
        "import keras\nimport keras_gan",
        "import keras_gan\nimport tensorflow\nimport keras",
    ],
    ids=["keras_gan-first", "keras-first", "tensorflow-imports-keras"],
)
def test_saved_files_load_and_train_in_a_fresh_process(saved: Path, imports: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", LOADER.format(imports=imports), str(saved)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0 and "LOADED" in result.stdout, result.stderr[-3000:]


def test_importing_the_serving_package_still_imports_no_tensorflow() -> None:
    code = (
        "import sys, keras_gan, keras_gan.serving, keras_gan.serving.sampler\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
