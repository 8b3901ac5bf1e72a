"""resumable_dataset with labels: each label stays with its sample, in the unlabelled order."""

from __future__ import annotations

import numpy as np
import pytest

from keras_gan.data.resumable import resumable_dataset


def _pairs(ds):
    return [(np.asarray(x), np.asarray(y)) for x, y in ds]


def test_labels_stay_with_their_samples_in_the_same_order():
    samples = np.arange(40, dtype=np.float32).reshape(20, 2)
    labels = (np.arange(20) * 7) % 10
    pairs = _pairs(resumable_dataset((samples, labels), 4, seed=3, total_steps=10))
    plain = [np.asarray(b) for b in resumable_dataset(samples, 4, seed=3, total_steps=10)]
    assert len(pairs) == 10
    for (x, y), alone in zip(pairs, plain, strict=True):
        assert y.dtype == np.int32 and x.shape == (4, 2)
        np.testing.assert_array_equal(x, alone)  # the order does not depend on the labels
        rows = (x[:, 0] / 2).astype(int)
        np.testing.assert_array_equal(y, labels[rows])


def test_fused_steps_stack_labels_like_samples():
    samples = np.arange(24, dtype=np.float32)[:, None]
    labels = np.arange(24) % 5
    fused = _pairs(resumable_dataset((samples, labels), 3, seed=0, total_steps=8, steps_per_call=4))
    single = _pairs(resumable_dataset((samples, labels), 3, seed=0, total_steps=8))
    assert [x.shape for x, _ in fused] == [(3, 4, 1), (3, 4, 1)]
    assert [y.shape for _, y in fused] == [(3, 4), (3, 4)]
    for call, (x, y) in enumerate(fused):
        for step in range(4):
            np.testing.assert_array_equal(x[:, step], single[call * 4 + step][0])
            np.testing.assert_array_equal(y[:, step], single[call * 4 + step][1])


def test_the_transform_applies_to_samples_only():
    samples = np.full((6, 2), 255, np.uint8)
    ds = resumable_dataset(
        (samples, np.arange(6)), 3, seed=0, total_steps=1, transform=lambda x: x // 255
    )
    ((x, y),) = _pairs(ds)
    assert x.max() == 1 and y.sum() > 0  # labels 0..5 untouched (x // 255 would zero them)


def test_samples_and_labels_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match=r"same length.*lengths \[4, 3\]"):
        resumable_dataset((np.zeros(4), np.zeros(3)), 2, seed=0)
