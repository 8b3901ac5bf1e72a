"""keras_gan.mixture.image_clusters: k-means clusters of images and their frequencies."""

from __future__ import annotations

import numpy as np
import pytest

from keras_gan.mixture import image_clusters


def _three_groups(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    levels = np.array([20, 128, 235])
    truth = np.repeat(np.arange(3), [10, 30, 60])
    noise = rng.integers(-10, 11, (100, 4, 4, 1))
    return np.clip(levels[truth][:, None, None, None] + noise, 0, 255).astype(np.uint8), truth


def test_separated_groups_are_found_with_their_frequencies():
    images, truth = _three_groups(np.random.default_rng(0))
    found = image_clusters(images, 3, seed=0)
    # The same partition whatever the cluster numbering.
    pairs = set(zip(found.labels.tolist(), truth.tolist(), strict=True))
    assert len(pairs) == 3
    assert sorted(found.prior.tolist()) == [0.1, 0.3, 0.6]
    assert found.centers.shape == (3, 16) and found.centers.max() <= 1.0  # uint8 scaled


def test_the_clusters_are_a_function_of_the_images_and_the_seed():
    images, _ = _three_groups(np.random.default_rng(1))
    first, again = image_clusters(images, 5, seed=4), image_clusters(images, 5, seed=4)
    np.testing.assert_array_equal(first.labels, again.labels)


@pytest.mark.parametrize(
    "images, k, message",
    [
        (np.zeros((3, 2, 2), np.uint8), 4, "at most the number of images \\(3\\)"),
        (np.zeros((0, 2, 2), np.uint8), 1, "non-empty numeric array"),
        (np.array(["a", "b"]), 1, "non-empty numeric array"),
        (np.zeros((3, 2), np.uint8), 0, "n_clusters"),
    ],
)
def test_bad_input_is_refused_naming_it(images, k, message):
    with pytest.raises(ValueError, match=message):
        image_clusters(images, k)
