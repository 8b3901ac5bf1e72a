"""Gaussian mixture fitted by EM: the tractable generative baseline beside the GANs.

Names are imported lazily: :data:`TRAIN_DEFAULTS` and :data:`COVARIANCE_TYPES` need the
standard library only, :class:`GaussianMixture` imports TensorFlow.

Example:
    >>> import numpy as np
    >>> from keras_gan.mixture import GaussianMixture
    >>> gmm = GaussianMixture(n_components=2, covariance_type="diag", random_state=0)
    >>> gmm.fit(np.random.default_rng(0).normal(size=(100, 2))).n_iter_ > 0
    True
"""

from __future__ import annotations

from keras_gan._lazy import lazy_exports

from .defaults import COVARIANCE_TYPES, TRAIN_DEFAULTS

_LAZY = {
    "BaseMixture": ".base",
    "ConvergenceWarning": ".base",
    "GaussianMixture": ".gaussian",
    "ImageClusters": ".clusters",
    "image_clusters": ".clusters",
    "load": ".gaussian",
}

__all__ = ["COVARIANCE_TYPES", "TRAIN_DEFAULTS", *_LAZY]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, extra=__all__)
