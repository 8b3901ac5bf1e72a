"""The MLP pair of the original GAN (Goodfellow et al. 2014), for flat data, 2-D points or images.

Example:
    >>> g = mlp_generator(latent_dim=2, output_shape=(2,), output_activation=None)
    >>> d = mlp_discriminator(input_shape=(2,))
    >>> g.output_shape, d.output_shape
    ((None, 2), (None, 1))
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras

from keras_gan._checks import check_in_interval, check_positive_float, check_positive_int

from .common import check_norm, check_shape, maybe_spectral, normalization


def _check_hidden(hidden: Sequence[int]) -> tuple[int, ...]:
    return check_shape(hidden, "hidden")


def mlp_generator(
    latent_dim: int = 100,
    output_shape: Sequence[int] = (28, 28, 1),
    hidden: Sequence[int] = (256, 512),
    output_activation: str | None = "tanh",
    batch_norm: bool = False,
    scale: float = 1.0,
    name: str = "generator",
) -> keras.Model:
    """Build an MLP generator: z -> Dense+ReLU (xN) -> Dense -> reshape to ``output_shape``.

    Args:
        latent_dim: size of z.
        output_shape: shape of one sample, e.g. ``(28, 28, 1)`` or ``(2,)``.
        hidden: units of each hidden layer.
        output_activation: ``"tanh"`` for data scaled to [-1, 1], None for unbounded data
            such as 2-D mixture points.
        batch_norm: batch-normalise hidden layers.
        scale: multiply the output by this (a ``Rescaling`` layer when not 1): the network
            works at unit scale and produces samples at the data's (e.g. the grid mixture's
            coordinates of +-4).
        name: model name.

    Returns:
        A functional ``keras.Model`` from ``(None, latent_dim)`` to ``(None, *output_shape)``.

    Example:
        >>> mlp_generator(4, (8, 8, 1), hidden=(16,)).output_shape
        (None, 8, 8, 1)
    """
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    shape = check_shape(output_shape, "output_shape")
    z = keras.Input((latent_dim,), name="z")
    x = z
    for i, units in enumerate(_check_hidden(hidden)):
        x = keras.layers.Dense(units, use_bias=not batch_norm, name=f"dense{i}")(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"dense{i}_bn")(x)
        x = keras.layers.ReLU()(x)
    x = keras.layers.Dense(
        math.prod(shape), activation=output_activation, dtype="float32", name="to_output"
    )(x)
    if check_positive_float(scale, "scale") != 1.0:
        x = keras.layers.Rescaling(scale, dtype="float32", name="scale")(x)
    if len(shape) > 1:
        x = keras.layers.Reshape(shape, dtype="float32")(x)
    return keras.Model(z, x, name=name)


def mlp_discriminator(
    input_shape: Sequence[int] = (28, 28, 1),
    hidden: Sequence[int] = (512, 256),
    norm: str | None = None,
    dropout: float = 0.0,
    scale: float = 1.0,
    name: str = "discriminator",
) -> keras.Model:
    """Build an MLP discriminator (or critic): flatten -> Dense+LeakyReLU(0.2) (xN) -> one logit.

    Args:
        input_shape: shape of one sample.
        hidden: units of each hidden layer.
        norm: None, ``"batch"``, ``"batch_stats"``, ``"layer"`` or ``"spectral"``.
        dropout: dropout rate after each hidden layer.
        scale: divide the input by this first (a ``Rescaling`` layer when not 1), the
            counterpart of :func:`mlp_generator`'s ``scale``.
        name: model name.

    Returns:
        A functional ``keras.Model`` from ``(None, *input_shape)`` to ``(None, 1)`` logits.

    Example:
        >>> mlp_discriminator((2,), hidden=(8, 8), norm="spectral").output_shape
        (None, 1)
    """
    shape = check_shape(input_shape, "input_shape")
    norm = check_norm(norm)
    dropout = check_in_interval(dropout, "dropout", 0.0, 1.0)
    inputs = keras.Input(shape, name="images" if len(shape) == 3 else "x")
    x = keras.layers.Flatten()(inputs) if len(shape) > 1 else inputs
    if check_positive_float(scale, "scale") != 1.0:
        x = keras.layers.Rescaling(1.0 / scale, name="unscale")(x)
    for i, units in enumerate(_check_hidden(hidden)):
        x = maybe_spectral(keras.layers.Dense(units, name=f"dense{i}"), norm)(x)
        layer = normalization(norm, name=f"dense{i}_norm")
        if layer is not None:
            x = layer(x)
        x = keras.layers.LeakyReLU(negative_slope=0.2)(x)
        if dropout:
            x = keras.layers.Dropout(dropout)(x)
    logits = maybe_spectral(keras.layers.Dense(1, dtype="float32", name="logit"), norm)(x)
    return keras.Model(inputs, logits, name=name)
