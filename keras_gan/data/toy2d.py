"""2-D toy data: the Gaussian-mixture benchmarks of mode collapse (VEEGAN, Srivastava et al. 2017;
PacGAN, Lin et al. 2018).

- ``ring``: 8 equal-weight Gaussians whose means are evenly spaced on the unit circle
  (angles ``2 pi k / 8``, k = 0..7), standard deviation 0.01.
- ``grid``: 25 equal-weight Gaussians with means on ``{-4, -2, 0, 2, 4}^2``, standard
  deviation 0.05.

The protocol trains on 100,000 points and evaluates 2,500 generated samples with
:func:`keras_gan.metrics.mode_coverage` (modes hit, fraction of high-quality samples within
3 standard deviations of the nearest mean, reverse KL of the mode histogram).

Only numpy is needed, except by :func:`load_points`, which returns a ``tf.data.Dataset``.

Example:
    >>> points = mixture_of_gaussians("ring", n=4, seed=0)
    >>> points.shape, points.dtype
    ((4, 2), dtype('float32'))
    >>> centers, std = mixture_centers("grid")
    >>> centers.shape, std
    ((25, 2), 0.05)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from keras_gan._checks import check_positive_int

KINDS = ("ring", "grid")

_RING_MODES = 8
_RING_RADIUS = 1.0
_RING_STD = 0.01
_GRID_VALUES = (-4.0, -2.0, 0.0, 2.0, 4.0)
_GRID_STD = 0.05


def _check_kind(kind: Any) -> str:
    if not isinstance(kind, str) or kind.strip().lower() not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}. Received: kind={kind!r}")
    return kind.strip().lower()


def mixture_centers(kind: str) -> tuple[np.ndarray, float]:
    """The means and the (shared, isotropic) standard deviation of a benchmark mixture.

    The ring's angles are ``2 pi k / 8`` for k = 0..7: ``linspace(0, 2 pi, 8)`` would repeat
    the first mean at 2 pi and leave 7 distinct modes.

    Args:
        kind: ``"ring"`` (8 modes, std 0.01) or ``"grid"`` (25 modes, std 0.05).

    Returns:
        ``(centers, std)``: float32 ``(K, 2)`` means and the standard deviation as a float.

    Example:
        >>> centers, std = mixture_centers("ring")
        >>> centers.shape, std
        ((8, 2), 0.01)
        >>> np.round(centers[2], 6).tolist()
        [0.0, 1.0]
    """
    kind = _check_kind(kind)
    if kind == "ring":
        angles = 2.0 * np.pi * np.arange(_RING_MODES) / _RING_MODES
        centers = _RING_RADIUS * np.stack([np.cos(angles), np.sin(angles)], axis=1)
        # cos(pi/2) is 6e-17, not 0: snap the rounding noise so the means are exact.
        centers = np.where(np.abs(centers) < 1e-12, 0.0, centers)
        return centers.astype(np.float32), _RING_STD
    xs, ys = np.meshgrid(_GRID_VALUES, _GRID_VALUES, indexing="ij")
    centers = np.stack([xs.ravel(), ys.ravel()], axis=1)
    return centers.astype(np.float32), _GRID_STD


def mixture_of_gaussians(kind: str, n: int = 100_000, seed: int | None = 0) -> np.ndarray:
    """Draw ``n`` points from an equal-weight benchmark mixture.

    Each point picks a mode uniformly at random, then adds isotropic Gaussian noise with the
    mixture's standard deviation. The draw is reproducible for a given ``seed``.

    Args:
        kind: ``"ring"`` or ``"grid"`` (see :func:`mixture_centers`).
        n: number of points (the protocol trains on 100,000).
        seed: numpy seed; None draws fresh randomness.

    Returns:
        float32 array of shape ``(n, 2)``.

    Example:
        >>> a = mixture_of_gaussians("grid", n=1000, seed=1)
        >>> b = mixture_of_gaussians("grid", n=1000, seed=1)
        >>> bool((a == b).all()), a.shape
        (True, (1000, 2))
    """
    centers, std = mixture_centers(kind)
    n = check_positive_int(n, "n")
    rng = np.random.default_rng(seed)
    modes = rng.integers(0, len(centers), size=n)
    points = centers[modes].astype(np.float64) + std * rng.standard_normal((n, 2))
    return points.astype(np.float32)


def load_points(
    kind: str,
    n: int = 100_000,
    batch_size: int = 512,
    seed: int | None = 0,
    shuffle: bool = True,
    drop_remainder: bool = True,
) -> Any:
    """A ``tf.data.Dataset`` of float32 ``(batch, 2)`` batches of mixture points.

    Args:
        kind: ``"ring"`` or ``"grid"``.
        n: number of points drawn once (with ``seed``) and iterated every epoch.
        batch_size: points per batch (for a GAN: batch size x discriminator steps).
        seed: seed of the draw and of the shuffle.
        shuffle: reshuffle every epoch.
        drop_remainder: drop the last partial batch (keeps the GAN's batch split exact).

    Example:
        >>> ds = load_points("ring", n=1024, batch_size=256)  # doctest: +SKIP
        >>> next(iter(ds)).shape  # doctest: +SKIP
        TensorShape([256, 2])
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    points = mixture_of_gaussians(kind, n, seed)
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(points)
    if shuffle:
        dataset = dataset.shuffle(len(points), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(int(batch_size), drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
