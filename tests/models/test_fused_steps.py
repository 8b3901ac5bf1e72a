"""Fused steps: a ``(rows, steps, ...)`` batch runs ``steps`` generator steps in one call, with
the same maths as one call per step, in graph mode and under XLA.

Both sides of each comparison use the same ``jit_compile``: XLA draws the stateless noise with
its own implementation of the generator, so the same seed gives other noise under XLA.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan.models import GAN
from keras_gan.networks import (
    dcgan_discriminator,
    dcgan_generator,
    mlp_discriminator,
    mlp_generator,
)


def _points_gan(jit_compile: bool = False, **kwargs) -> GAN:
    keras.utils.set_random_seed(0)
    gan = GAN(
        mlp_generator(2, (2,), hidden=(8, 8), output_activation=None),
        mlp_discriminator((2,), hidden=(8, 8)),
        seed=3,
        **kwargs,
    )
    gan.compile(
        keras.optimizers.Adam(1e-2, beta_1=0.5),
        keras.optimizers.Adam(1e-2, beta_1=0.5),
        jit_compile=jit_compile,
    )
    return gan


def _steps(n_steps: int = 6, rows: int = 8, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n_steps, rows, 2)).astype("float32")


def _weights(gan: GAN) -> list[np.ndarray]:
    return [np.array(v) for v in gan.weights]


def _one_per_call(gan: GAN, steps: np.ndarray) -> None:
    gan.fit(tf.data.Dataset.from_tensor_slices(steps), epochs=1, verbose=0, shuffle=False)


def _fused(gan: GAN, steps: np.ndarray, per_call: int) -> None:
    stacked = steps.reshape(-1, per_call, *steps.shape[1:]).transpose(0, 2, 1, 3)
    gan.fit(tf.data.Dataset.from_tensor_slices(stacked), epochs=1, verbose=0, shuffle=False)


@pytest.mark.parametrize("jit_compile", [False, True])
@pytest.mark.parametrize("kwargs", [{}, {"ema_decay": 0.9, "discriminator_steps": 2}])
def test_fused_steps_equal_one_step_per_call(jit_compile, kwargs):
    steps = _steps()
    reference = _points_gan(jit_compile=jit_compile, **kwargs)
    _one_per_call(reference, steps)
    fused = _points_gan(jit_compile=jit_compile, **kwargs)
    _fused(fused, steps, per_call=3)
    assert int(fused.g_optimizer.iterations.numpy()) == 6
    assert int(fused.d_optimizer.iterations.numpy()) == 6 * fused.discriminator_steps
    for a, b in zip(_weights(reference), _weights(fused), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    # The epoch's logs average every step, as with one step per call.
    assert set(reference.history.history) == set(fused.history.history)
    for key, values in reference.history.history.items():
        np.testing.assert_allclose(values, fused.history.history[key], rtol=1e-4, atol=1e-5)


def test_fused_steps_differ_from_one_step_on_the_concatenated_rows():
    """A stacked batch is NOT read as one large batch: that would give other weights."""
    steps = _steps(n_steps=2)
    fused = _points_gan()
    _fused(fused, steps, per_call=2)
    large = _points_gan()
    _one_per_call(large, steps.reshape(1, -1, 2))
    assert int(large.g_optimizer.iterations.numpy()) == 1
    assert not np.allclose(_weights(fused)[0], _weights(large)[0])


def test_fused_steps_with_images_and_batch_norm():
    def build() -> GAN:
        keras.utils.set_random_seed(0)
        gan = GAN(
            dcgan_generator(4, (8, 8, 1), width=4),
            dcgan_discriminator((8, 8, 1), width=4, norm="batch"),
            seed=1,
        )
        gan.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2))
        return gan

    images = np.random.default_rng(0).uniform(-1, 1, (4, 4, 8, 8, 1)).astype("float32")
    reference = build()
    reference.fit(tf.data.Dataset.from_tensor_slices(images), epochs=1, verbose=0)
    fused = build()
    stacked = images.reshape(2, 2, 4, 8, 8, 1).transpose(0, 2, 1, 3, 4, 5)
    fused.fit(tf.data.Dataset.from_tensor_slices(stacked), epochs=1, verbose=0)
    for a, b in zip(_weights(reference), _weights(fused), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_batch_of_the_wrong_rank_names_the_expected_shapes():
    gan = _points_gan()
    with pytest.raises(ValueError, match=r"\(rows, steps, 2\).*Received: shape \(2,\)"):
        gan.train_step(tf.zeros((2,)))


def test_a_trailing_axis_of_size_one_is_one_step_not_fused_steps():
    """(rows, 2, 1) ends in (1,), not the sample shape (2,): one step, as Keras reads it."""
    gan = _points_gan()
    gan.train_step(tf.zeros((4, 2, 1)))
    assert int(gan.g_optimizer.iterations.numpy()) == 1
