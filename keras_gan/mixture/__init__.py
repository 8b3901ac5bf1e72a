"""Gaussian mixture fitted by EM: the tractable generative baseline beside the GANs.

Example:
    >>> import numpy as np
    >>> from keras_gan.mixture import GaussianMixture
    >>> gmm = GaussianMixture(n_components=2, covariance_type="diag", random_state=0)
    >>> gmm.fit(np.random.default_rng(0).normal(size=(100, 2))).n_iter_ > 0
    True
"""

from __future__ import annotations

from .base import BaseMixture, ConvergenceWarning
from .gaussian import GaussianMixture, load

__all__ = ["BaseMixture", "ConvergenceWarning", "GaussianMixture", "load"]
