"""The DCGAN pair (Radford et al. 2016) for small images such as 28x28x1 MNIST-like data.

Generator: a latent vector (100-d by default) through a dense layer to an (H/4, W/4, 4w) tensor
for 28 or 32 pixels (one more 2x stage, with twice the channels at the start, for each doubling
beyond: :func:`~keras_gan.networks.common.upsampling_stages`), then transposed convolutions with
batch norm and ReLU up to (H, W, C) with tanh.
Discriminator: strided convolutions with LeakyReLU(0.2) and no pooling, ending in ONE unit that
is a logit: the probability ``sigmoid(logit)`` is the paper's output, and the losses take the
logit so they are numerically stable (``log(sigmoid(x))`` computed as ``-softplus(-x)``).
A WGAN critic is the same network, read as an unbounded score.

Example:
    >>> g = dcgan_generator(latent_dim=100, image_shape=(28, 28, 1))
    >>> d = dcgan_discriminator(image_shape=(28, 28, 1))
    >>> g.output_shape, d.output_shape
    ((None, 28, 28, 1), (None, 1))
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from keras_gan._checks import check_in_interval, check_positive_int

from .common import check_norm, check_shape, maybe_spectral, normalization, upsampling_stages


def dcgan_generator(
    latent_dim: int = 100,
    image_shape: Sequence[int] = (28, 28, 1),
    width: int = 64,
    name: str = "generator",
) -> keras.Model:
    """Build the DCGAN generator: z -> Dense -> (H/4, W/4, 4w) -> ConvT stack -> tanh image.

    Args:
        latent_dim: size of the latent vector z.
        image_shape: ``(H, W, C)``; H and W must be multiples of 4. The number of 2x stages
            follows the size (:func:`~keras_gan.networks.common.upsampling_stages`: 2 for 28
            and 32, 3 for 64, 4 for 128).
        width: channels of the last hidden layer (each layer before has twice its successor's;
            the projection ``width * 2**stages``).
        name: model name.

    Returns:
        A functional ``keras.Model`` from ``(None, latent_dim)`` to ``(None, H, W, C)`` in [-1, 1].

    Example:
        >>> dcgan_generator(latent_dim=8, image_shape=(8, 8, 1), width=4).output_shape
        (None, 8, 8, 1)
    """
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    width = check_positive_int(width, "width")
    height, wide, channels = check_shape(image_shape, "image_shape", rank=3)
    stages = upsampling_stages(height, wide)
    start_h, start_w, start_c = height >> stages, wide >> stages, width << stages
    z = keras.Input((latent_dim,), name="z")
    x = keras.layers.Dense(start_h * start_w * start_c, use_bias=False, name="project")(z)
    x = keras.layers.BatchNormalization(name="project_bn")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.Reshape((start_h, start_w, start_c))(x)
    # The first transposed convolution keeps the size; each later one and the output double it.
    for i in range(stages):
        filters, stride = width << (stages - 1 - i), 1 if i == 0 else 2
        x = keras.layers.Conv2DTranspose(
            filters, 5, strides=stride, padding="same", use_bias=False, name=f"deconv{i}"
        )(x)
        x = keras.layers.BatchNormalization(name=f"deconv{i}_bn")(x)
        x = keras.layers.ReLU()(x)
    images = keras.layers.Conv2DTranspose(
        channels, 5, strides=2, padding="same", activation="tanh", dtype="float32", name="to_image"
    )(x)
    return keras.Model(z, images, name=name)


def dcgan_discriminator(
    image_shape: Sequence[int] = (28, 28, 1),
    width: int = 64,
    norm: str | None = "batch",
    dropout: float = 0.0,
    name: str = "discriminator",
    kernel_size: int = 5,
) -> keras.Model:
    """Build the DCGAN discriminator (or WGAN critic): strided convs, LeakyReLU(0.2), one logit.

    Args:
        image_shape: ``(H, W, C)`` of the input images; as many stride-2 convolutions as the
            generator has 2x stages (two for 28 and 32, three for 64, four for 128).
        width: filters of the first convolution (each next one has 2x).
        norm: normalisation after the second convolution: ``"batch"`` (DCGAN),
            ``"batch_stats"`` (batch norm that keeps using the batch's statistics when the
            critic is frozen, :class:`~keras_gan.networks.common.BatchStatNormalization`),
            ``"layer"`` (safe with a gradient penalty), ``"spectral"`` (on every weight layer)
            or None.
            The first layer is never normalised, as in the paper.
        dropout: dropout rate after each LeakyReLU (0 disables).
        name: model name.
        kernel_size: the convolutions' kernel (5 in the paper; 4 keeps it a multiple of the
            stride).

    Returns:
        A functional ``keras.Model`` from ``(None, H, W, C)`` to ``(None, 1)`` logits.

    Example:
        >>> dcgan_discriminator((8, 8, 1), width=4, norm="layer").output_shape
        (None, 1)
    """
    shape = check_shape(image_shape, "image_shape", rank=3)
    width = check_positive_int(width, "width")
    norm = check_norm(norm)
    dropout = check_in_interval(dropout, "dropout", 0.0, 1.0)
    stages = upsampling_stages(shape[0], shape[1]) if len(shape) == 3 else 2
    images = keras.Input(shape, name="images")
    x = images
    for i in range(stages):
        filters = width << i
        conv = keras.layers.Conv2D(filters, kernel_size, strides=2, padding="same", name=f"conv{i}")
        x = maybe_spectral(conv, norm)(x)
        layer = normalization(norm, name=f"conv{i}_norm") if i > 0 else None
        if layer is not None:
            x = layer(x)
        x = keras.layers.LeakyReLU(negative_slope=0.2)(x)
        if dropout:
            x = keras.layers.Dropout(dropout)(x)
    x = keras.layers.Flatten()(x)
    logits = maybe_spectral(keras.layers.Dense(1, dtype="float32", name="logit"), norm)(x)
    return keras.Model(images, logits, name=name)
