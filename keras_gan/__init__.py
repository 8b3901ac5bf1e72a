"""keras_gan: GANs for Keras 3, trained with ``model.fit`` and shipped as SavedModel or ONNX.

The top-level package is cheap to import: names are handed on lazily (PEP 562), so that
``import keras_gan.serving`` never pulls TensorFlow or Keras in.

Example:
    >>> import keras_gan
    >>> gan = keras_gan.models.build("dcgan", image_shape=(28, 28, 1))  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# Public name -> module that defines it. Modules are imported on first access only.
_LAZY_NAMES = {
    "GAN": "keras_gan.models",
    "WGAN": "keras_gan.models",
    "GaussianMixture": "keras_gan.mixture",
    "load_images": "keras_gan.data",
}
_SUBMODULES = {
    "callbacks",
    "cli",
    "data",
    "distribute",
    "export",
    "losses",
    "metrics",
    "mixture",
    "models",
    "networks",
    "serving",
}

__all__ = sorted([*_LAZY_NAMES, *_SUBMODULES, "__version__"])


def __getattr__(name: str) -> Any:
    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module(_LAZY_NAMES[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"keras_gan.{name}")
    else:
        raise AttributeError(f"module 'keras_gan' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
