"""Mode coverage of samples from a known 2-D Gaussian mixture (VEEGAN / PacGAN protocol).

Srivastava et al. 2017 (VEEGAN) and Lin et al. 2018 (PacGAN) score 2,500 generated samples of
the ring (8 modes) and grid (25 modes) mixtures: a sample is *high quality* when it lies within
3 standard deviations of its nearest mean; a mode is *captured* when it is the nearest mean of
at least one high-quality sample; the *reverse KL* compares the histogram of high-quality
samples over modes with the uniform mixture weights.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from ._arrays import positive_int


@dataclasses.dataclass(frozen=True)
class ModeCoverage:
    """Result of :func:`mode_coverage`.

    Attributes:
        modes: number of mixture components that are the nearest mean of at least
            ``min_count`` high-quality samples.
        high_quality: fraction of all samples within ``threshold`` standard deviations of
            their nearest mean.
        reverse_kl: ``KL(p || uniform) = sum_k p_k log(K p_k)`` of the histogram ``p`` of
            high-quality samples over the ``K`` modes (0 = all modes equally hit, ``log K`` =
            one mode); ``inf`` when no sample is high quality.

    ``dataclasses.asdict(result)`` gives a plain dict for JSON.

    Example:
        >>> ModeCoverage(modes=8, high_quality=1.0, reverse_kl=0.0).modes
        8
    """

    modes: int
    high_quality: float
    reverse_kl: float


def mode_coverage(
    samples: Any,
    centers: Any,
    std: float,
    threshold: float = 3.0,
    min_count: int = 1,
) -> ModeCoverage:
    """Modes captured, high-quality fraction and reverse KL of samples from a 2-D mixture.

    Args:
        samples: generated points ``(n, d)`` (the protocol uses n = 2,500).
        centers: the mixture means ``(K, d)`` (equal weights).
        std: the components' standard deviation.
        threshold: a sample is high quality within ``threshold * std`` of its nearest mean.
        min_count: high-quality samples a mode needs to count as captured.

    Returns:
        A frozen :class:`ModeCoverage`.

    Example:
        >>> from keras_gan.data import mixture_centers
        >>> centers, std = mixture_centers("ring")
        >>> result = mode_coverage(np.repeat(centers, 10, axis=0), centers, std)
        >>> result.modes, result.high_quality, result.reverse_kl
        (8, 1.0, 0.0)
    """
    x = np.asarray(samples, dtype=np.float64)
    c = np.asarray(centers, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] < 1:
        raise ValueError(f"centers must be (K, d) with K >= 1. Received: centers.shape={c.shape}")
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] != c.shape[1]:
        raise ValueError(
            f"samples must be (n, {c.shape[1]}) with n >= 1. Received: samples.shape={x.shape}"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError("samples contain NaN or infinite values")
    if not (isinstance(std, (int, float, np.floating)) and std > 0):
        raise ValueError(f"std must be a positive number. Received: std={std!r}")
    if not threshold > 0:
        raise ValueError(f"threshold must be positive. Received: threshold={threshold!r}")
    positive_int(min_count, "min_count")
    distances = np.sqrt(((x[:, None, :] - c[None, :, :]) ** 2).sum(axis=-1))
    nearest = distances.argmin(axis=1)
    good = distances[np.arange(x.shape[0]), nearest] <= threshold * float(std)
    counts = np.bincount(nearest[good], minlength=c.shape[0])
    if counts.sum() == 0:
        reverse_kl = math.inf
    else:
        p = counts / counts.sum()
        hit = p > 0
        reverse_kl = float(np.sum(p[hit] * np.log(p[hit] * c.shape[0])))
    return ModeCoverage(
        modes=int(np.count_nonzero(counts >= min_count)),
        high_quality=float(good.mean()),
        reverse_kl=max(reverse_kl, 0.0),
    )
