"""Precision/recall (Kynkaanniemi et al. 2019) and density/coverage (Naeem et al. 2020).

Each real (generated) sample gets a ball whose radius is the distance to its k-th nearest
neighbour among the other real (generated) samples, with squared Euclidean distances.

- precision: fraction of generated samples inside at least one real ball (``<=``);
- recall: fraction of real samples inside at least one generated ball (``<=``);
- density: mean over generated samples of (number of real balls containing it) / k (``<``);
- coverage: fraction of real samples whose own ball contains at least one generated sample
  (``<``).

The comparisons follow each paper's reference code. Distances are computed block by block
(:data:`keras_gan.metrics._arrays.BLOCK_ELEMENTS` float64 elements at a time), so 10,000 x
10,000 sets need about 128 MiB, not 800 MiB.

Papers: Kynkaanniemi et al., "Improved Precision and Recall Metric for Assessing Generative
Models" (NeurIPS 2019); Naeem et al., "Reliable Fidelity and Diversity Metrics for Generative
Models" (ICML 2020).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ._arrays import (
    as_features,
    check_k,
    kth_neighbour_distances,
    row_chunks,
    same_width,
    squared_distances,
)


@dataclasses.dataclass(frozen=True)
class PRDC:
    """Precision, recall, density and coverage of generated against real samples.

    Attributes:
        precision: in [0, 1]; fidelity (generated samples on the real manifold).
        recall: in [0, 1]; diversity (real samples on the generated manifold).
        density: >= 0, ~1 for matching distributions; fidelity robust to real outliers.
        coverage: in [0, 1]; diversity robust to generated outliers.

    Example:
        >>> PRDC(precision=1.0, recall=0.5, density=1.0, coverage=0.9).recall
        0.5
    """

    precision: float
    recall: float
    density: float
    coverage: float


def _prdc(real: np.ndarray, fake: np.ndarray, k_pr: int, k_dc: int) -> dict[str, float]:
    real_norms = np.einsum("ij,ij->i", real, real)
    fake_norms = np.einsum("ij,ij->i", fake, fake)
    real_radius = {k: r for k, r in _radii(real, {k_pr, k_dc}).items()}
    fake_radius = kth_neighbour_distances(fake, k_pr)
    in_real_ball = np.zeros(fake.shape[0], dtype=bool)
    density_counts = np.zeros(fake.shape[0])
    in_fake_ball = np.zeros(real.shape[0], dtype=bool)
    nearest_fake = np.full(real.shape[0], np.inf)
    for rows in row_chunks(fake.shape[0], real.shape[0]):
        d = squared_distances(fake[rows], real, fake_norms[rows], real_norms)
        in_real_ball[rows] = (d <= real_radius[k_pr][None, :]).any(axis=1)
        density_counts[rows] = (d < real_radius[k_dc][None, :]).sum(axis=1)
        in_fake_ball |= (d <= fake_radius[rows, None]).any(axis=0)
        np.minimum(nearest_fake, d.min(axis=0), out=nearest_fake)
    return {
        "precision": float(in_real_ball.mean()),
        "recall": float(in_fake_ball.mean()),
        "density": float(density_counts.mean() / k_dc),
        "coverage": float((nearest_fake < real_radius[k_dc]).mean()),
    }


def _radii(x: np.ndarray, ks: set[int]) -> dict[int, np.ndarray]:
    if len(ks) == 1:
        (k,) = ks
        return {k: kth_neighbour_distances(x, k)}
    norms = np.einsum("ij,ij->i", x, x)
    out = {k: np.empty(x.shape[0]) for k in ks}
    order = sorted(ks)
    for rows in row_chunks(x.shape[0], x.shape[0]):
        d = squared_distances(x[rows], x, norms[rows], norms)
        local = np.arange(rows.stop - rows.start)
        d[local, local + rows.start] = np.inf
        part = np.partition(d, [k - 1 for k in order], axis=1)
        for k in order:
            out[k][rows] = part[:, k - 1]
    return out


def _check(real: Any, fake: Any, ks: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    r = as_features(real, "real", min_rows=2)
    f = as_features(fake, "fake", min_rows=2)
    same_width(r, f, ("real", "fake"))
    for k in ks:
        check_k(k, r.shape[0], "real")
        check_k(k, f.shape[0], "fake")
    return r, f


def prdc(real: Any, fake: Any, k_pr: int = 3, k_dc: int = 5) -> PRDC:
    """Precision and recall with ``k_pr`` neighbours, density and coverage with ``k_dc``.

    Args:
        real: real features ``(n, d)``.
        fake: generated features ``(m, d)``.
        k_pr: neighbours of the precision/recall balls (3 in Kynkaanniemi et al.).
        k_dc: neighbours of the density/coverage balls (5 in Naeem et al.).

    Returns:
        A :class:`PRDC`.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(200, 4))
        >>> prdc(x, x).coverage
        1.0
    """
    r, f = _check(real, fake, (k_pr, k_dc))
    return PRDC(**_prdc(r, f, int(k_pr), int(k_dc)))


def precision_recall(real: Any, fake: Any, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019), ``k`` nearest neighbours.

    Example:
        >>> x = np.random.default_rng(0).normal(size=(100, 3))
        >>> precision_recall(x, x + 100.0)
        (0.0, 0.0)
    """
    result = prdc(real, fake, k_pr=k, k_dc=k)
    return result.precision, result.recall


def density_coverage(real: Any, fake: Any, k: int = 5) -> tuple[float, float]:
    """Density and coverage (Naeem et al. 2020), ``k`` nearest neighbours.

    Example:
        >>> x = np.random.default_rng(0).normal(size=(100, 3))
        >>> density_coverage(x, x + 100.0)
        (0.0, 0.0)
    """
    result = prdc(real, fake, k_pr=k, k_dc=k)
    return result.density, result.coverage
