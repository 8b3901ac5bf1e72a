"""keras_gan: GANs for Keras 3, trained with ``model.fit`` and shipped as SavedModel or ONNX.

The top-level package is cheap to import: names are handed on lazily (PEP 562), so that
``import keras_gan.serving`` never pulls TensorFlow or Keras in. Lazy does not mean
unregistered: the package's Keras classes (the GAN models, loss pairs, penalties, constraints
and the mixture sampler layer) are registered as soon as Keras is in the process, whichever of
``keras`` and ``keras_gan`` is imported first, so ``keras.models.load_model`` reloads a saved
``.keras`` file in a fresh process.

Example:
    >>> import keras_gan
    >>> gan = keras_gan.models.build("dcgan", image_shape=(28, 28, 1))  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
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
    "evaluation",
    "export",
    "losses",
    "metrics",
    "mixture",
    "models",
    "networks",
    "plotting",
    "runs",
    "serving",
}

__all__ = sorted([*_LAZY_NAMES, *_SUBMODULES, "__version__"])


# The modules that register Keras classes with ``keras.saving.register_keras_serializable``.
_KERAS_OBJECT_MODULES = ("keras_gan.losses", "keras_gan.models", "keras_gan.mixture.generator")


def _loading(name: str) -> bool:
    spec = getattr(sys.modules.get(name), "__spec__", None)
    return bool(getattr(spec, "_initializing", False))


def _watched(name: str) -> bool:
    return name in ("keras", "tensorflow") or name.startswith("keras_gan.")


class _RegisterAfterKeras(importlib.abc.MetaPathFinder):
    """Registers the package's Keras classes as soon as Keras is fully loaded.

    Finds nothing itself: for ``keras``, ``tensorflow`` and ``keras_gan.*`` it asks the other
    finders and makes the loader call :meth:`maybe_register` when the module has run. The
    classes are imported once Keras is in ``sys.modules`` and none of those modules is still
    loading (TensorFlow imports Keras half way through its own import, and a ``keras_gan``
    module may be the one importing Keras); then the finder removes itself. Until Keras is
    imported for some other reason nothing heavy is loaded, which keeps ``import
    keras_gan.serving`` free of TensorFlow.
    """

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if not _watched(fullname):
            return None
        spec = None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                break
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module") or hasattr(loader, "_keras_gan"):
            return spec
        base = type(loader)
        finder = self

        class _Loader(base):  # type: ignore[misc, valid-type]
            _keras_gan = True

            def exec_module(self, module: Any) -> None:
                base.exec_module(self, module)
                finder.maybe_register(module.__name__)

        try:
            loader.__class__ = _Loader
        except TypeError:  # a loader of a built-in type: the next watched module registers
            pass
        return spec

    def maybe_register(self, finished: str) -> None:
        """Import the registering modules if Keras is loaded and nothing else is loading."""
        if "keras" not in sys.modules or self not in sys.meta_path:
            return
        if any(_loading(name) for name in list(sys.modules) if _watched(name) and name != finished):
            return
        sys.meta_path.remove(self)
        for name in _KERAS_OBJECT_MODULES:
            importlib.import_module(name)


if "keras" in sys.modules and not _loading("keras") and not _loading("tensorflow"):
    for _name in _KERAS_OBJECT_MODULES:
        importlib.import_module(_name)
elif not any(type(finder).__name__ == "_RegisterAfterKeras" for finder in sys.meta_path):
    sys.meta_path.insert(0, _RegisterAfterKeras())


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
