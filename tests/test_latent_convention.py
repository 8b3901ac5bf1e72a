"""One seed gives one picture everywhere: ``GAN.generate``, the sample grids, the loader behind
``keras-gan evaluate`` and the exported onnxruntime ``Sampler`` draw latents by one recipe."""

from __future__ import annotations

import numpy as np
import pytest
from keras_gan.serving.images import save_grid, to_uint8
from keras_gan.serving.latent import latent

N, SEED = 9, 1234


@pytest.fixture(scope="module")
def gan():
    import keras

    from keras_gan.models import build

    keras.utils.set_random_seed(3)
    model = build("gan", image_shape=(8, 8, 1), latent_dim=4, width=8, seed=3)
    model.generate(1, seed=0)  # builds the networks
    return model


def test_generate_draws_the_recipes_latents(gan) -> None:
    assert np.array_equal(gan.latent(N, SEED), latent(N, SEED, 4))
    assert not np.array_equal(gan.latent(N, SEED), gan.latent(N, SEED + 1))
    z = latent(N, SEED, 4)
    expected = np.asarray(gan.sampling_generator(z, training=False))
    np.testing.assert_allclose(gan.generate(N, seed=SEED), expected, rtol=0, atol=1e-6)


def test_sample_grid_evaluate_and_export_show_the_same_images(gan, tmp_path) -> None:
    from keras_gan.export import export
    from keras_gan.serving import Sampler

    from keras_gan.callbacks import SampleGrid
    from keras_gan.runs.loading import load_generator

    images = gan.generate(N, seed=SEED)

    grid = SampleGrid(tmp_path / "samples", n=N, seed=SEED)
    grid.set_model(gan)
    written = grid.write(0)
    expected_grid = save_grid(images, tmp_path / "expected.png")
    assert written.read_bytes() == expected_grid.read_bytes()

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    gan.sampling_generator.save(run_dir / "generator.keras")
    loaded = load_generator(run_dir)  # what keras-gan evaluate samples
    np.testing.assert_allclose(loaded.sample(N, seed=SEED), images, rtol=0, atol=1e-6)

    export(gan, tmp_path / "export", formats=("onnx",))
    served = Sampler(tmp_path / "export").sample(N, seed=SEED)
    # The same latents through onnxruntime: equal up to the rounding of float differences.
    difference = np.abs(served.astype(int) - to_uint8(images).astype(int))
    assert difference.max() <= 1 and (difference == 0).mean() > 0.99
    other_seed = Sampler(tmp_path / "export").sample(N, seed=SEED + 1)
    assert np.abs(other_seed.astype(int) - to_uint8(images).astype(int)).max() > 1
