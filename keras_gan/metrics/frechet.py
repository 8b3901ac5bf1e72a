"""Frechet distance between Gaussians fitted to two feature sets (FID in a classifier's space).

Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
Equilibrium": ``d^2 = |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2)``.

The trace of the matrix square root is computed as the sum of the square roots of the
eigenvalues of the symmetric positive semi-definite matrix ``S1^1/2 S2 S1^1/2`` (with
``S1^1/2`` the symmetric square root from ``eigh``), so no complex parts arise and tiny negative
round-off eigenvalues are clipped to zero.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._arrays import as_features, same_width


def feature_moments(features: Any) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased, ``ddof=1``) covariance of a feature matrix, in float64.

    Args:
        features: array ``(n, d)`` with ``n >= 2``.

    Returns:
        ``(mean (d,), covariance (d, d))``.

    Example:
        >>> mu, sigma = feature_moments(np.array([[0.0, 1.0], [2.0, 3.0]]))
        >>> mu.tolist(), sigma.tolist()
        ([1.0, 2.0], [[2.0, 2.0], [2.0, 2.0]])
    """
    x = as_features(features, "features", min_rows=2)
    return x.mean(axis=0), np.cov(x, rowvar=False, ddof=1).reshape(x.shape[1], x.shape[1])


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance_from_moments(mu1: Any, sigma1: Any, mu2: Any, sigma2: Any) -> float:
    """Squared Frechet distance between ``N(mu1, sigma1)`` and ``N(mu2, sigma2)``.

    Args:
        mu1, mu2: means ``(d,)``.
        sigma1, sigma2: covariance matrices ``(d, d)`` (symmetric positive semi-definite).

    Returns:
        A non-negative float.

    Example:
        >>> frechet_distance_from_moments([0.0], [[1.0]], [3.0], [[4.0]])
        10.0
    """
    mu1, mu2 = (
        np.atleast_1d(np.asarray(mu1, np.float64)),
        np.atleast_1d(np.asarray(mu2, np.float64)),
    )
    s1, s2 = (
        np.atleast_2d(np.asarray(sigma1, np.float64)),
        np.atleast_2d(np.asarray(sigma2, np.float64)),
    )
    d = mu1.shape[0]
    for name, value, shape in (
        ("mu1", mu1, (d,)),
        ("mu2", mu2, (d,)),
        ("sigma1", s1, (d, d)),
        ("sigma2", s2, (d, d)),
    ):
        if value.shape != shape:
            raise ValueError(
                f"{name} must have shape {shape}. Received: {name}.shape={value.shape}"
            )
    root1 = _sqrt_psd(s1)
    inner = root1 @ ((s2 + s2.T) / 2.0) @ root1
    eigenvalues = np.linalg.eigvalsh((inner + inner.T) / 2.0)
    trace_sqrt = float(np.sqrt(np.clip(eigenvalues, 0.0, None)).sum())
    diff = mu1 - mu2
    value = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * trace_sqrt)
    return max(value, 0.0)


def frechet_distance(features_a: Any, features_b: Any) -> float:
    """Frechet distance (FID when the features come from a classifier) between two sets.

    Args:
        features_a: array ``(n, d)``, e.g. classifier features of real images.
        features_b: array ``(m, d)``, e.g. features of generated images.

    Returns:
        The squared Frechet distance of the Gaussians fitted to each set (>= 0; ~0 for a set
        with itself).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a, b = rng.normal(size=(4000, 2)), rng.normal(2.0, size=(4000, 2))
        >>> abs(frechet_distance(a, b) - 8.0) < 0.3  # |mu1 - mu2|^2 = 8, equal covariances
        True
    """
    a = as_features(features_a, "features_a", min_rows=2)
    b = as_features(features_b, "features_b", min_rows=2)
    same_width(a, b, ("features_a", "features_b"))
    return frechet_distance_from_moments(*feature_moments(a), *feature_moments(b))
