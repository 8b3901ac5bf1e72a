"""Stacked mode counting: golden values and the behaviour of a uniform and a collapsed generator."""

from __future__ import annotations

import math

import numpy as np
import pytest

from keras_gan.metrics.stacked import expected_modes, stacked_modes


def test_golden_values():
    result = stacked_modes(np.array([[0, 0, 0], [1, 2, 3], [1, 2, 3], [9, 9, 9]]))
    assert result.modes == 3 and result.samples == 4 and result.total_modes == 1000
    p = np.array([0.25, 0.5, 0.25])
    assert result.kl == pytest.approx(float(np.sum(p * np.log(1000 * p))))


def test_uniform_generator_covers_the_modes_and_a_collapsed_one_does_not():
    rng = np.random.default_rng(0)
    uniform = stacked_modes(rng.integers(0, 10, (26_000, 3)))
    assert uniform.modes >= 995 and uniform.kl < 0.03
    assert expected_modes(26_000) == pytest.approx(1000 * (1 - (1 - 1e-3) ** 26_000))
    collapsed = stacked_modes(np.repeat(rng.integers(0, 10, (50, 3)), 520, axis=0))
    assert collapsed.modes <= 50 and collapsed.kl > math.log(1000 / 50) - 0.01


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"must lie in \[0, 10\). Received: min=0, max=10"):
        stacked_modes(np.array([[0, 10, 1]]))
    with pytest.raises(ValueError, match="non-empty integer array"):
        stacked_modes(np.zeros((3, 3)))
