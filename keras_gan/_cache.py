"""Where the package caches what it computes once (feature classifiers, decoded image folders).

Example:
    >>> cache_root().name in {"keras_gan", os.environ.get("KERAS_GAN_CACHE", "")[-9:]}
    True
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_root"]


def cache_root() -> Path:
    """``$KERAS_GAN_CACHE`` or ``~/.cache/keras_gan``.

    Example:
        >>> isinstance(cache_root(), Path)
        True
    """
    env = os.environ.get("KERAS_GAN_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "keras_gan"
