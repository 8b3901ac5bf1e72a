"""Lazy package exports: a package hands on names from its modules on first access.

A package whose modules import TensorFlow (or onnxruntime) lists its public names here
instead of importing them, so that importing the package itself stays cheap and
``keras_gan.serving`` never pulls TensorFlow in. Standard library only.

Example:
    >>> getattr_, dir_ = lazy_exports("json", {"JSONDecoder": ".decoder"})
    >>> getattr_("JSONDecoder").__name__
    'JSONDecoder'
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_exports(
    package: str, names: Mapping[str, str], extra: Iterable[str] = ()
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module-level ``__getattr__`` and ``__dir__`` of a package with lazy names.

    Args:
        package: the package's ``__name__``.
        names: public name -> the module (relative to ``package``) that defines it.
        extra: names ``dir()`` lists besides them (eagerly imported names, submodules).

    Returns:
        ``(__getattr__, __dir__)``: the first imports the defining module on first access and
        caches the value in the package; an unknown name raises ``AttributeError``.

    Example:
        >>> __getattr__, __dir__ = lazy_exports(__name__, {"load": ".gaussian"})  # doctest: +SKIP
    """
    table = dict(names)
    listed = sorted({*table, *extra})

    def __getattr__(name: str) -> Any:
        if name not in table:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(table[name], package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return list(listed)

    return __getattr__, __dir__
