"""The mixture package's constants that callers read without loading TensorFlow.

Example:
    >>> from keras_gan.mixture.defaults import TRAIN_DEFAULTS
    >>> dict(TRAIN_DEFAULTS)
    {'n_components': 10, 'covariance_type': 'diag', 'max_iter': 100}
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

#: Covariance structures of a :class:`~keras_gan.mixture.GaussianMixture`.
COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")

#: The image baseline that ``keras-gan train --model gmm`` fits unless told otherwise, keyed by
#: :class:`~keras_gan.mixture.GaussianMixture` argument (``GaussianMixture(**TRAIN_DEFAULTS)``):
#: 10 diagonal components, at most 100 EM iterations. Read-only.
TRAIN_DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {"n_components": 10, "covariance_type": "diag", "max_iter": 100}
)
