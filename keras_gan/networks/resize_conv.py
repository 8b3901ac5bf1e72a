"""A cheap, artefact-free image pair: resize-then-convolve generator, 4x4 strided discriminator.

Transposed convolutions whose kernel size is not a multiple of their stride (DCGAN's 5x5 with
stride 2) overlap unevenly and paint checkerboard patterns (Odena et al. 2016, "Deconvolution
and Checkerboard Artifacts"). This generator upsamples by nearest-neighbour resizing and then
applies a 3x3 convolution, which covers every output pixel the same way. It also drops the
DCGAN generator's stride-1 5x5 layer at the lowest resolution, where the tutorial spends most of
its multiply-adds, so one image costs about a quarter of the DCGAN generator's.

Generator: z -> Dense -> (H/4, W/4, 4w) -> [resize x2 -> conv 3x3 -> BN -> ReLU] x2 with
2w and w filters -> conv 3x3 -> tanh.
Discriminator: conv 4x4 stride 2 (w, then 2w filters; kernel divisible by the stride) with
LeakyReLU(0.2), then one logit. No batch norm by default (see :mod:`keras_gan.models.presets`).

Example:
    >>> g = resize_conv_generator(latent_dim=64, image_shape=(28, 28, 1))
    >>> d = strided_discriminator(image_shape=(28, 28, 1))
    >>> g.output_shape, d.output_shape
    ((None, 28, 28, 1), (None, 1))
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from keras_gan._checks import check_positive_int

from .common import check_shape, upsampling_stages
from .dcgan import dcgan_discriminator

INTERPOLATIONS = ("nearest", "bilinear")


def resize_conv_generator(
    latent_dim: int = 64,
    image_shape: Sequence[int] = (28, 28, 1),
    width: int = 32,
    interpolation: str = "nearest",
    name: str = "generator",
) -> keras.Model:
    """Build the resize-convolution generator.

    Args:
        latent_dim: size of the latent vector z.
        image_shape: ``(H, W, C)``; H and W must be multiples of 4. The number of 2x stages
            follows the size (:func:`~keras_gan.networks.common.upsampling_stages`: 2 for 28
            and 32, 3 for 64, 4 for 128).
        width: filters of the last hidden convolution (each stage before doubles them; the
            projection has ``width * 2**stages``).
        interpolation: ``"nearest"`` or ``"bilinear"`` upsampling.
        name: model name.

    Returns:
        A functional ``keras.Model`` from ``(None, latent_dim)`` to ``(None, H, W, C)`` in
        [-1, 1]. The output layer computes in float32 whatever the dtype policy.

    Example:
        >>> resize_conv_generator(latent_dim=4, image_shape=(8, 8, 1), width=4).output_shape
        (None, 8, 8, 1)
    """
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    width = check_positive_int(width, "width")
    height, wide, channels = check_shape(image_shape, "image_shape", rank=3)
    stages = upsampling_stages(height, wide)
    if interpolation not in INTERPOLATIONS:
        raise ValueError(
            f"interpolation must be one of {INTERPOLATIONS}. Received: "
            f"interpolation={interpolation!r}"
        )
    start_h, start_w, start_c = height >> stages, wide >> stages, width << stages
    z = keras.Input((latent_dim,), name="z")
    x = keras.layers.Dense(start_h * start_w * start_c, use_bias=False, name="project")(z)
    x = keras.layers.BatchNormalization(name="project_bn")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.Reshape((start_h, start_w, start_c))(x)
    for i in range(stages):
        filters = width << (stages - 1 - i)
        x = keras.layers.UpSampling2D(2, interpolation=interpolation, name=f"up{i}")(x)
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{i}")(x)
        x = keras.layers.BatchNormalization(name=f"conv{i}_bn")(x)
        x = keras.layers.ReLU()(x)
    images = keras.layers.Conv2D(
        channels, 3, padding="same", activation="tanh", dtype="float32", name="to_image"
    )(x)
    return keras.Model(z, images, name=name)


def strided_discriminator(
    image_shape: Sequence[int] = (28, 28, 1),
    width: int = 64,
    norm: str | None = None,
    dropout: float = 0.0,
    name: str = "discriminator",
) -> keras.Model:
    """Build a discriminator of 4x4 stride-2 convolutions, LeakyReLU(0.2) and one logit.

    Args:
        image_shape: ``(H, W, C)`` of the input images.
        width: filters of the first convolution (the second has 2x).
        norm: None, ``"batch"``, ``"batch_stats"``, ``"layer"`` or ``"spectral"`` (as in
            :func:`~keras_gan.networks.dcgan_discriminator`).
        dropout: dropout rate after each LeakyReLU (0 disables).
        name: model name.

    Returns:
        A functional ``keras.Model`` from ``(None, H, W, C)`` to ``(None, 1)`` float32 logits.

    Example:
        >>> strided_discriminator((8, 8, 1), width=4).output_shape
        (None, 1)
    """
    # The DCGAN discriminator's layers with 4x4 kernels: a multiple of the stride.
    return dcgan_discriminator(
        image_shape, width=width, norm=norm, dropout=dropout, name=name, kernel_size=4
    )
