"""Small building blocks shared by the network factories.

Example:
    >>> layer = normalization("layer")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

NORMS = (None, "batch", "layer", "spectral")


def check_norm(norm: str | None) -> str | None:
    """Validate a normalisation option.

    Example:
        >>> check_norm("batch")
        'batch'
    """
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}. Received: norm={norm!r}")
    return norm


def check_shape(shape: Sequence[int], name: str, rank: int | None = None) -> tuple[int, ...]:
    """Validate a shape of positive integers (of a given rank when given).

    Example:
        >>> check_shape([28, 28, 1], "image_shape", rank=3)
        (28, 28, 1)
    """
    try:
        out = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a sequence of positive integers. Received: {name}={shape!r}"
        ) from None
    if not out or any(d < 1 for d in out) or (rank is not None and len(out) != rank):
        what = f"{rank} positive integers" if rank else "positive integers"
        raise ValueError(f"{name} must be {what}. Received: {name}={shape!r}")
    return out


def maybe_spectral(layer: keras.layers.Layer, norm: str | None) -> keras.layers.Layer:
    """Wrap a weight layer in spectral normalisation when ``norm == "spectral"``.

    Example:
        >>> maybe_spectral(keras.layers.Dense(1), None).__class__.__name__
        'Dense'
    """
    if norm == "spectral":
        return keras.layers.SpectralNormalization(layer)
    return layer


def normalization(norm: str | None, name: str | None = None) -> keras.layers.Layer | None:
    """The activation-normalisation layer for ``norm`` (None for none or spectral).

    Layer norm normalises each sample over all its features, so it is safe in a WGAN-GP critic,
    where batch norm is not (the penalty is per sample).

    Example:
        >>> normalization("batch").__class__.__name__
        'BatchNormalization'
    """
    if norm == "batch":
        return keras.layers.BatchNormalization(name=name)
    if norm == "layer":
        return keras.layers.LayerNormalization(axis=-1, name=name)
    return None
