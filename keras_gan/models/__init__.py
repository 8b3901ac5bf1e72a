"""The ``GAN`` model, its ``WGAN`` defaults, and the variant presets.

Example:
    >>> from keras_gan.models import build
    >>> gan = build("dcgan", image_shape=(28, 28, 1))  # doctest: +SKIP
"""

from .gan import GAN
from .presets import PRESETS, Preset, available, build
from .wgan import WGAN

__all__ = ["GAN", "PRESETS", "WGAN", "Preset", "available", "build"]
