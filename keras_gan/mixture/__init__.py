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

import importlib
from typing import Any

from .defaults import COVARIANCE_TYPES, TRAIN_DEFAULTS

_LAZY = {
    "BaseMixture": ".base",
    "ConvergenceWarning": ".base",
    "GaussianMixture": ".gaussian",
    "load": ".gaussian",
}

__all__ = ["COVARIANCE_TYPES", "TRAIN_DEFAULTS", *_LAZY]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'keras_gan.mixture' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
