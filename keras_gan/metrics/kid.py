"""Kernel Inception Distance (KID) in a classifier's feature space.

Binkowski et al. 2018, "Demystifying MMD GANs": the unbiased estimate of the squared maximum
mean discrepancy with the cubic polynomial kernel ``k(x, y) = (x . y / d + 1)^3``, averaged over
random subsets of both sets; the standard deviation over subsets is reported beside the mean.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ._arrays import as_features, positive_int, same_width


@dataclasses.dataclass(frozen=True)
class KIDResult:
    """KID over subsets.

    Attributes:
        mean: mean of the unbiased MMD^2 estimates (can be slightly negative for equal sets).
        std: their standard deviation over subsets.
        num_subsets: number of subsets drawn.
        subset_size: rows per subset from each set.

    Example:
        >>> KIDResult(mean=0.01, std=0.001, num_subsets=10, subset_size=100).mean
        0.01
    """

    mean: float
    std: float
    num_subsets: int
    subset_size: int


def polynomial_mmd2(
    x: Any, y: Any, degree: int = 3, gamma: float | None = None, coef0: float = 1.0
) -> float:
    """Unbiased MMD^2 between two samples with the kernel ``(gamma x . y + coef0)^degree``.

    Args:
        x: array ``(n, d)`` with ``n >= 2``.
        y: array ``(m, d)`` with ``m >= 2``.
        degree, gamma, coef0: kernel parameters; ``gamma`` defaults to ``1 / d``.

    Example:
        >>> x = np.eye(3)
        >>> round(polynomial_mmd2(x, x), 6)
        -0.91358
    """
    x = as_features(x, "x", min_rows=2)
    y = as_features(y, "y", min_rows=2)
    same_width(x, y, ("x", "y"))
    g = 1.0 / x.shape[1] if gamma is None else float(gamma)
    k_xx = (g * (x @ x.T) + coef0) ** degree
    k_yy = (g * (y @ y.T) + coef0) ** degree
    k_xy = (g * (x @ y.T) + coef0) ** degree
    n, m = x.shape[0], y.shape[0]
    sum_xx = (k_xx.sum() - np.trace(k_xx)) / (n * (n - 1))
    sum_yy = (k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(sum_xx + sum_yy - 2.0 * k_xy.mean())


def kernel_inception_distance(
    features_a: Any,
    features_b: Any,
    num_subsets: int = 100,
    subset_size: int = 1000,
    seed: int | None = 0,
) -> KIDResult:
    """KID: mean and std of the unbiased polynomial-kernel MMD^2 over random subsets.

    Each subset draws ``subset_size`` rows without replacement from each set (fewer when a set
    is smaller), as in the reference implementation.

    Args:
        features_a: array ``(n, d)``, e.g. features of real images.
        features_b: array ``(m, d)``, e.g. features of generated images.
        num_subsets: number of subsets.
        subset_size: rows per subset from each set (capped at the smaller set's size).
        seed: seed of the subset draws.

    Returns:
        A :class:`KIDResult`.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a, b = rng.normal(size=(500, 8)), rng.normal(1.0, size=(500, 8))
        >>> kernel_inception_distance(a, b, num_subsets=10, subset_size=200).mean > 1.0
        True
    """
    a = as_features(features_a, "features_a", min_rows=2)
    b = as_features(features_b, "features_b", min_rows=2)
    same_width(a, b, ("features_a", "features_b"))
    positive_int(num_subsets, "num_subsets")
    positive_int(subset_size, "subset_size")
    size = max(2, min(int(subset_size), a.shape[0], b.shape[0]))
    rng = np.random.default_rng(seed)
    values = np.array(
        [
            polynomial_mmd2(
                a[rng.choice(a.shape[0], size, replace=False)],
                b[rng.choice(b.shape[0], size, replace=False)],
            )
            for _ in range(int(num_subsets))
        ]
    )
    return KIDResult(
        mean=float(values.mean()),
        std=float(values.std()),
        num_subsets=int(num_subsets),
        subset_size=size,
    )
