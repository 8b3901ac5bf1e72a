"""Mode coverage of stacked images (Metz et al. 2017; Srivastava et al. 2017; Lin et al. 2018).

A stacked image holds one image of a 10-class set in each of its three channels, so it falls in
one of 1000 modes, ``100 * class(R) + 10 * class(G) + class(B)``. A classifier of the one-channel
set labels each channel of each generated image; the number of modes hit at least once and the
KL divergence of the mode histogram from the uniform distribution say how much of the 1000 the
generator covers (the papers use 26,000 samples: a uniform generator then hits about 1000).

Example:
    >>> codes = np.array([[0, 0, 0], [1, 2, 3], [1, 2, 3]])
    >>> result = stacked_modes(codes)
    >>> result.modes, round(result.kl, 3)
    (2, 6.271)
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np


@dataclasses.dataclass(frozen=True)
class StackedModes:
    """Result of :func:`stacked_modes`.

    Attributes:
        modes: the number of modes hit by at least one sample.
        kl: ``KL(p || uniform) = sum_m p_m log(M p_m)`` of the mode histogram ``p`` over the
            ``M = classes ** channels`` modes (0: every mode equally often).
        samples: how many samples were counted.
        total_modes: ``M``.
    """

    modes: int
    kl: float
    samples: int
    total_modes: int


def stacked_modes(channel_classes: Any, num_classes: int = 10) -> StackedModes:
    """Count the modes of stacked samples from the class of each of their channels.

    Args:
        channel_classes: integer array ``(n, channels)``: the class of each channel.
        num_classes: classes of the one-channel set.

    Returns:
        The :class:`StackedModes`.

    Raises:
        ValueError: not a 2-D integer array of classes in ``[0, num_classes)``.

    Example:
        >>> stacked_modes(np.array([[0, 0, 0]])).total_modes
        1000
    """
    codes = np.asarray(channel_classes)
    if codes.ndim != 2 or codes.shape[0] == 0 or not np.issubdtype(codes.dtype, np.integer):
        raise ValueError(
            "channel_classes must be a non-empty integer array (n, channels). Received: "
            f"dtype={codes.dtype}, shape={codes.shape}"
        )
    if codes.min() < 0 or codes.max() >= num_classes:
        raise ValueError(
            f"channel classes must lie in [0, {num_classes}). Received: min={codes.min()}, "
            f"max={codes.max()}"
        )
    channels = codes.shape[1]
    weights = num_classes ** np.arange(channels - 1, -1, -1)
    modes = codes.astype(np.int64) @ weights
    total = num_classes**channels
    p = np.bincount(modes, minlength=total) / len(modes)
    hit = p > 0
    kl = float(np.sum(p[hit] * np.log(total * p[hit])))
    return StackedModes(int(hit.sum()), kl, len(modes), total)


def expected_modes(samples: int, total_modes: int = 1000) -> float:
    """The modes a uniform generator hits on average with ``samples`` samples.

    Example:
        >>> round(expected_modes(26_000), 1)
        1000.0
    """
    return total_modes * (1.0 - math.exp(samples * math.log1p(-1.0 / total_modes)))
