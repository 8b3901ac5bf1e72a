"""ACGAN's classification terms against values computed by hand on fixed logits."""

from __future__ import annotations

import math

import numpy as np

from keras_gan.losses import (
    acgan_discriminator_loss,
    acgan_generator_loss,
    auxiliary_classifier_loss,
)


def test_cross_entropy_golden_values():
    # -log softmax([1, 2, 3])[2] = log(e + e^2 + e^3) - 3
    expected = math.log(math.e + math.e**2 + math.e**3) - 3.0
    loss = auxiliary_classifier_loss([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], [2, 1])
    np.testing.assert_allclose(loss.numpy(), [expected, math.log(3.0)], rtol=1e-6)
    assert loss.dtype == "float32"


def test_discriminator_term_adds_the_real_and_the_fake_rows():
    # logits [0, log 3]: p = (1/4, 3/4). Real labelled 1: -log 3/4; fake labelled 0: log 4.
    logits = [[0.0, math.log(3.0)]]
    loss = acgan_discriminator_loss(logits, [1], logits, [0])
    np.testing.assert_allclose(loss.numpy(), [math.log(4.0 / 3.0) + math.log(4.0)], rtol=1e-6)


def test_generator_term_is_the_cross_entropy_on_the_fakes():
    loss = acgan_generator_loss([[0.0, math.log(3.0)], [5.0, 5.0]], [1, 0])
    np.testing.assert_allclose(loss.numpy(), [math.log(4.0 / 3.0), math.log(2.0)], rtol=1e-6)
