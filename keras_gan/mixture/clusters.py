"""Clusters of a set of images without labels: what a self-conditioned GAN is conditioned on.

k-means (k-means++ seeding, :func:`keras_gan.mixture.kmeans.kmeans`) on the pixels scaled to
[0, 1]; the ``clustered`` preset (:mod:`keras_gan.models.presets`) trains on the cluster ids
and samples each cluster as often as it occurs in the data (``prior``).

Example:
    >>> x = np.zeros((40, 2, 2, 1), np.uint8); x[30:] = 255
    >>> found = image_clusters(x, 2, seed=0)
    >>> sorted(found.prior.tolist()), found.labels.dtype.name
    ([0.25, 0.75], 'int32')
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from keras_gan._checks import check_non_negative_int, check_positive_int

from .kmeans import kmeans


@dataclass(frozen=True)
class ImageClusters:
    """The cluster of each image, the clusters' frequencies and their centres.

    Attributes:
        labels: ``(N,)`` int32 cluster ids in ``[0, K)``.
        prior: ``(K,)`` float64 frequencies of the clusters (summing to 1).
        centers: ``(K, pixels)`` float32 cluster centres on the [0, 1] pixel scale.

    Example:
        >>> ImageClusters(np.zeros(2, np.int32), np.ones(1), np.zeros((1, 4))).prior.tolist()
        [1.0]
    """

    labels: np.ndarray
    prior: np.ndarray
    centers: np.ndarray


def image_clusters(
    images: np.ndarray, n_clusters: int = 20, seed: int = 0, max_iter: int = 100
) -> ImageClusters:
    """Cluster images by k-means on their pixels.

    Args:
        images: ``(N, ...)`` images: uint8 pixels (scaled to [0, 1]) or floats (used as
            they are).
        n_clusters: number of clusters K, at most N.
        seed: seed of the k-means++ seeding (the result is a function of the images and it).
        max_iter: Lloyd iterations at most.

    Returns:
        :class:`ImageClusters`.

    Raises:
        ValueError: no images, a non-numeric array, or more clusters than images.

    Example:
        >>> x = np.concatenate([np.zeros((5, 3)), np.ones((5, 3))]).astype(np.float32)
        >>> np.bincount(image_clusters(x, 2).labels).tolist()
        [5, 5]
    """
    n_clusters = check_positive_int(n_clusters, "n_clusters")
    seed = check_non_negative_int(seed, "seed")
    max_iter = check_positive_int(max_iter, "max_iter")
    array = np.asarray(images)
    if array.ndim < 2 or len(array) == 0 or not np.issubdtype(array.dtype, np.number):
        raise ValueError(
            "images must be a non-empty numeric array of shape (N, ...). Received: "
            f"shape {array.shape}, dtype {array.dtype}"
        )
    if n_clusters > len(array):
        raise ValueError(
            f"n_clusters must be at most the number of images ({len(array)}). Received: "
            f"n_clusters={n_clusters}"
        )
    flat = array.reshape(len(array), -1).astype(np.float32)
    if array.dtype == np.uint8:
        flat /= 255.0
    centers, labels = kmeans(flat, n_clusters, np.random.RandomState(seed), max_iter=max_iter)
    labels = labels.astype(np.int32)
    prior = np.bincount(labels, minlength=n_clusters) / len(labels)
    return ImageClusters(labels, prior, centers.astype(np.float32))
