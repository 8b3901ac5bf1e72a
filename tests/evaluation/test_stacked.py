"""Stacked Fashion-MNIST evaluation: the classifier reads each channel, and the count tells a
generator that copies varied real stacked images from one that collapsed to a single image."""

from __future__ import annotations

import numpy as np

from keras_gan.data import load_arrays
from keras_gan.data.folders import stacked
from keras_gan.evaluation.classifier import train_classifier
from keras_gan.evaluation.stacked import evaluate_stacked
from keras_gan.runs.loading import LoadedGenerator
from tests.conftest import requires_fashion_mnist


@requires_fashion_mnist
def test_varied_and_collapsed_generators(tmp_path):
    classifier = train_classifier(
        "fashion_mnist", epochs=1, limit=3000, cache_dir=tmp_path / "cache"
    )
    images, labels = load_arrays("fashion_mnist", "train")
    real, _ = stacked(images[:5000], labels[:5000], 3000, seed=1)
    scaled = real.astype(np.float32) / 127.5 - 1.0

    def varied(z):  # a real stacked image chosen by each latent vector
        return scaled[(np.abs(z[:, 0]) * 1e6).astype(np.int64) % len(scaled)]

    def collapsed(z):
        return np.repeat(scaled[:1], len(z), axis=0)

    report = evaluate_stacked(
        LoadedGenerator(varied, 4, "test", "varied"), classifier, num_samples=2000, seed=0
    )
    one = evaluate_stacked(
        LoadedGenerator(collapsed, 4, "test", "collapsed"),
        classifier,
        num_samples=2000,
        floor=False,
    )
    # A small classifier misreads some channels, which moves modes around; real stacked
    # images of the train and the test split still come out alike, far from one mode.
    generated, floor = report["generated"]["modes"], report["floor"]["modes"]
    assert generated > 150 and abs(generated - floor) < 0.25 * floor
    assert one["generated"]["modes"] == 1 and one["generated"]["kl"] > 6.9  # log(1000) = 6.91
    assert one["floor"] is None and report["uniform_expected_modes"] > 860


def test_grayscale_generator_is_refused(tmp_path):
    import pytest

    gray = LoadedGenerator(lambda z: np.zeros((len(z), 28, 28, 1), np.float32), 4, "t", "gray")
    with pytest.raises(ValueError, match=r"needs a generator of \(H, W, 3\) images"):
        evaluate_stacked(gray, classifier=None, num_samples=10)
