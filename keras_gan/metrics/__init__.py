"""Sample-quality and mode-collapse measures: numpy (float64) only, leaf code.

:func:`frechet_distance` (FID in a classifier's feature space),
:func:`kernel_inception_distance` (KID), :func:`prdc` (precision, recall, density, coverage),
:func:`class_coverage` and :func:`mode_coverage` (2-D mixtures), and :func:`compute_metrics`
(all of them at once). Nothing here imports TensorFlow or the rest of the package; the feature
classifier, the evaluation pipeline and the quality callback live in
:mod:`keras_gan.evaluation`.

Example:
    >>> import numpy as np
    >>> from keras_gan.metrics import frechet_distance
    >>> x = np.random.default_rng(0).normal(size=(1000, 4))
    >>> frechet_distance(x, x) < 1e-9
    True
"""

from .class_coverage import ClassCoverage, class_coverage, class_histogram
from .combined import METRIC_NAMES, compute_metrics
from .frechet import feature_moments, frechet_distance, frechet_distance_from_moments
from .kid import KIDResult, kernel_inception_distance, polynomial_mmd2
from .manifold import PRDC, density_coverage, prdc, precision_recall
from .modes import ModeCoverage, mode_coverage

__all__ = [
    "METRIC_NAMES",
    "PRDC",
    "ClassCoverage",
    "KIDResult",
    "ModeCoverage",
    "class_coverage",
    "class_histogram",
    "compute_metrics",
    "density_coverage",
    "feature_moments",
    "frechet_distance",
    "frechet_distance_from_moments",
    "kernel_inception_distance",
    "mode_coverage",
    "polynomial_mmd2",
    "prdc",
    "precision_recall",
]
