"""Sample-quality and mode-collapse metrics.

The metric functions are numpy (float64) on arrays of features or samples and import no
TensorFlow: :func:`frechet_distance` (FID in a classifier's feature space),
:func:`kernel_inception_distance` (KID), :func:`prdc` (precision, recall, density, coverage),
:func:`class_coverage` and :func:`mode_coverage` (2-D mixtures). The feature classifier
(:func:`load_classifier`), the Keras callback (:class:`QualityCallback`) and the evaluation
pipeline (:func:`evaluate`) import TensorFlow and are loaded on first access.

Example:
    >>> import numpy as np
    >>> from keras_gan.metrics import frechet_distance
    >>> x = np.random.default_rng(0).normal(size=(1000, 4))
    >>> frechet_distance(x, x) < 1e-9
    True
"""

from __future__ import annotations

import importlib
from typing import Any

from .classes import ClassCoverage, class_coverage, class_histogram
from .frechet import feature_moments, frechet_distance, frechet_distance_from_moments
from .kid import KIDResult, kernel_inception_distance, polynomial_mmd2
from .manifold import PRDC, density_coverage, prdc, precision_recall
from .modes import ModeCoverage, mode_coverage

_LAZY = {
    "FeatureClassifier": ".classifier",
    "load_classifier": ".classifier",
    "train_classifier": ".classifier",
    "classifier_dir": ".classifier",
    "QualityCallback": ".callback",
    "compute_metrics": ".evaluation",
    "evaluate": ".evaluation",
    "load_sampler": ".evaluation",
}

__all__ = [
    "PRDC",
    "ClassCoverage",
    "KIDResult",
    "ModeCoverage",
    "class_coverage",
    "class_histogram",
    "density_coverage",
    "feature_moments",
    "frechet_distance",
    "frechet_distance_from_moments",
    "kernel_inception_distance",
    "mode_coverage",
    "polynomial_mmd2",
    "prdc",
    "precision_recall",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'keras_gan.metrics' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
