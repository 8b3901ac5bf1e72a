"""Generator and discriminator factories: plain functional ``keras.Model`` builders.

Example:
    >>> from keras_gan.networks import dcgan_generator, dcgan_discriminator
    >>> g = dcgan_generator(latent_dim=100, image_shape=(28, 28, 1))
"""

from .clustered import LatentClass, clustered_generator, latent_class_layer
from .common import BatchStatNormalization
from .conditional import acgan_discriminator, conditional_generator, projection_discriminator
from .dcgan import dcgan_discriminator, dcgan_generator
from .mlp import mlp_discriminator, mlp_generator
from .resize_conv import resize_conv_generator, strided_discriminator

__all__ = [
    "BatchStatNormalization",
    "LatentClass",
    "acgan_discriminator",
    "clustered_generator",
    "conditional_generator",
    "dcgan_discriminator",
    "dcgan_generator",
    "latent_class_layer",
    "mlp_discriminator",
    "mlp_generator",
    "projection_discriminator",
    "resize_conv_generator",
    "strided_discriminator",
]
