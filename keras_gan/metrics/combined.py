"""Every sample-quality measure at once, from classifier features and class probabilities.

numpy only (like the rest of :mod:`keras_gan.metrics`): FID, KID, precision/recall,
density/coverage and class coverage of generated against real outputs of one classifier.

Example:
    >>> rng = np.random.default_rng(0)
    >>> f, p = rng.normal(size=(200, 4)), rng.dirichlet(np.ones(3), 200)
    >>> sorted(compute_metrics(f, p, f, p, names=["fid", "coverage"]))
    ['coverage', 'fid']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from .class_coverage import class_coverage
from .frechet import frechet_distance
from .kid import kernel_inception_distance
from .manifold import prdc

#: Metric names in table order.
METRIC_NAMES = (
    "fid",
    "kid",
    "kid_std",
    "precision",
    "recall",
    "density",
    "coverage",
    "classes_hit",
    "class_kl",
    "confidence",
)


def compute_metrics(
    real_features: Any,
    real_probs: Any,
    fake_features: Any,
    fake_probs: Any,
    *,
    names: Sequence[str] | None = None,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    """Every metric of generated against real features, as a flat ``{name: float}`` dict.

    Args:
        real_features, fake_features: classifier features ``(n, d)`` and ``(m, d)``.
        real_probs, fake_probs: class probabilities ``(n, C)`` and ``(m, C)``.
        names: a subset of :data:`METRIC_NAMES` to return (all when None); ``kid`` brings
            ``kid_std``.
        kid_subsets, kid_subset_size: KID subsets and their size.
        seed: seed of the KID subsets.

    Returns:
        ``{"fid": ..., "kid": ..., "kid_std": ..., "precision": ..., ...}``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> f, p = rng.normal(size=(300, 8)), rng.dirichlet(np.ones(3), 300)
        >>> m = compute_metrics(f, p, f, p, kid_subset_size=100, kid_subsets=5)
        >>> round(m["fid"], 6), m["coverage"], m["classes_hit"]
        (0.0, 1.0, 3.0)
    """
    wanted = set(METRIC_NAMES if names is None else names)
    unknown = wanted - set(METRIC_NAMES)
    if unknown:
        raise ValueError(f"unknown metrics {sorted(unknown)}; expected names from {METRIC_NAMES}")
    out: dict[str, float] = {}
    if "fid" in wanted:
        out["fid"] = frechet_distance(real_features, fake_features)
    if wanted & {"kid", "kid_std"}:
        kid = kernel_inception_distance(
            real_features, fake_features, kid_subsets, kid_subset_size, seed=seed
        )
        out["kid"], out["kid_std"] = kid.mean, kid.std
    if wanted & {"precision", "recall", "density", "coverage"}:
        out.update(dataclasses.asdict(prdc(real_features, fake_features, k_pr=3, k_dc=5)))
    if wanted & {"classes_hit", "class_kl", "confidence"}:
        cc = class_coverage(fake_probs, np.asarray(real_probs).argmax(axis=1))
        out.update(classes_hit=float(cc.classes_hit), class_kl=cc.kl, confidence=cc.confidence)
    if "kid" in wanted:
        wanted.add("kid_std")
    return {name: float(out[name]) for name in METRIC_NAMES if name in wanted}
