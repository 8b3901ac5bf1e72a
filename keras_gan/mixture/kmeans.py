"""k-means with greedy k-means++ seeding, used to initialise the mixture (numpy, vectorised).

Example:
    >>> import numpy as np
    >>> x = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> centers, labels = kmeans(x, 2, np.random.RandomState(0))
    >>> sorted(np.round(centers[:, 0], 2).tolist())
    [0.05, 5.05]
"""

from __future__ import annotations

import math

import numpy as np


def _squared_distances(x: np.ndarray, centers: np.ndarray, x_norms: np.ndarray) -> np.ndarray:
    d2 = x_norms[:, None] - 2.0 * x @ centers.T + np.einsum("kd,kd->k", centers, centers)[None, :]
    return np.maximum(d2, 0.0)


def kmeans_plusplus(x: np.ndarray, n_clusters: int, rng: np.random.RandomState) -> np.ndarray:
    """Greedy k-means++ seeding (Arthur and Vassilvitskii, 2007): returns ``(n_clusters, d)``.

    Each new centre is the best, by the resulting potential, of ``2 + log(k)`` candidates drawn
    with probability proportional to the squared distance to the nearest chosen centre. When
    every remaining point coincides with a chosen centre (duplicate points), candidates are drawn
    uniformly.

    Example:
        >>> x = np.array([[0.0], [10.0]])
        >>> sorted(kmeans_plusplus(x, 2, np.random.RandomState(0))[:, 0].tolist())
        [0.0, 10.0]
    """
    n = x.shape[0]
    trials = 2 + int(math.log(n_clusters))
    x_norms = np.einsum("nd,nd->n", x, x)
    centers = np.empty((n_clusters, x.shape[1]), x.dtype)
    centers[0] = x[rng.randint(n)]
    closest = _squared_distances(x, centers[:1], x_norms)[:, 0]
    for c in range(1, n_clusters):
        potential = closest.sum()
        if potential > 0:
            draws = rng.uniform(size=trials) * potential
            candidates = np.searchsorted(np.cumsum(closest), draws)
            candidates = np.minimum(candidates, n - 1)
        else:
            candidates = rng.randint(n, size=trials)
        distances = _squared_distances(x, x[candidates], x_norms)  # (n, trials)
        distances = np.minimum(distances, closest[:, None])
        best = int(np.argmin(distances.sum(axis=0)))
        centers[c] = x[candidates[best]]
        closest = distances[:, best]
    return centers


def kmeans(
    x: np.ndarray,
    n_clusters: int,
    rng: np.random.RandomState,
    max_iter: int = 300,
    tol: float = 1e-4,
) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means from a k-means++ seeding: ``(centers, labels)``.

    Stops when the centres move by less than ``tol`` times the data's mean variance (squared,
    summed over centres), as scikit-learn's ``KMeans`` does. An empty cluster keeps its centre.

    Args:
        x: ``(n, d)`` float array.
        n_clusters: number of clusters, at most ``n``.
        rng: the random state used for seeding.
        max_iter: Lloyd iterations at most.
        tol: relative tolerance on the centres' movement.

    Returns:
        ``centers`` ``(n_clusters, d)`` and ``labels`` ``(n,)``.

    Example:
        >>> _, labels = kmeans(np.array([[0.0], [0.2], [9.0]]), 2, np.random.RandomState(1))
        >>> int(labels[0] == labels[1]), int(labels[0] == labels[2])
        (1, 0)
    """
    if not 1 <= n_clusters <= x.shape[0]:
        raise ValueError(
            f"kmeans needs 1 <= n_clusters <= n_samples. Received: n_clusters={n_clusters}, "
            f"n_samples={x.shape[0]}"
        )
    threshold = tol * float(np.mean(np.var(x, axis=0)))
    x_norms = np.einsum("nd,nd->n", x, x)
    centers = kmeans_plusplus(x, n_clusters, rng)
    labels = np.zeros(x.shape[0], np.int64)
    for _ in range(max_iter):
        labels = np.argmin(_squared_distances(x, centers, x_norms), axis=1)
        counts = np.bincount(labels, minlength=n_clusters)
        onehot = np.zeros((x.shape[0], n_clusters), x.dtype)
        onehot[np.arange(x.shape[0]), labels] = 1.0
        sums = onehot.T @ x
        new = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], centers)
        shift = float(np.sum((new - centers) ** 2))
        centers = new
        if shift <= threshold:
            break
    labels = np.argmin(_squared_distances(x, centers, x_norms), axis=1)
    return centers, labels
