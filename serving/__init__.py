"""keras_gan.serving: sample and serve exported generators with numpy + onnxruntime alone.

Nothing in this package imports TensorFlow or Keras. Names are handed on lazily (PEP 562):
``import keras_gan.serving`` costs nothing until a name is used, and the server's WSGI
dependency (``waitress``, the ``[serve]`` extra) is imported only by ``serve``.

* ``Sampler(path)``: ``sample(n, seed)``, ``generate(z)``, ``save_grid(images, path)``;
  ``Sampler.pretrained("fashion-mnist")`` samples a generator shipped in the package.
* ``ServingApp`` / ``make_app(base_path, name)``: a WSGI application with TF Serving's REST API;
  ``serve(app, host, port)`` runs it under waitress.
* ``Client(url, model)``: a REST client for this server and for TF Serving.
* ``write_models_config(...)``: a TF Serving ``models.config``.

Example:
    >>> from keras_gan.serving import Sampler
    >>> Sampler("runs/demo/export").sample(16, seed=0).shape  # doctest: +SKIP
    (16, 28, 28, 1)
"""

from __future__ import annotations

import importlib
from typing import Any

# Public name -> module (relative to this package) that defines it.
_LAZY_NAMES = {
    "Sampler": ".sampler",
    "ModelFiles": ".sampler",
    "find_versions": ".sampler",
    "resolve_model_path": ".sampler",
    "Limits": ".limits",
    "ModelSource": ".versions",
    "ServingApp": ".app",
    "make_app": ".app",
    "serve": ".server",
    "Client": ".client",
    "ServingError": ".client",
    "format_models_config": ".config",
    "parse_models_config": ".config",
    "write_models_config": ".config",
    "save_grid": ".images",
}

__all__ = sorted(_LAZY_NAMES)


def __getattr__(name: str) -> Any:
    if name not in _LAZY_NAMES:
        raise AttributeError(f"module 'keras_gan.serving' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY_NAMES[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    modules = ("app", "client", "config", "images", "latent", "layout", "limits", "predict")
    modules += ("pretrained",)
    return sorted({*__all__, *modules, "sampler", "server", "versions"})
