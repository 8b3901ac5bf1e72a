"""The bodies of the two exported entry points, shared by the SavedModel and the ONNX writers.

* ``serving_default``: ``z -> {"images": generator(z)}`` (``make_generate_fn``);
* ``sample``: ``(n, seed) -> {"images": ...}`` with ``z`` drawn in-graph by the recipe
  ``keras_gan.latent.v1`` (``keras_gan.export.latent.tf_latent``) and images mapped to uint8 by
  ``to_uint8``, the TensorFlow twin of ``keras_gan.serving.images.to_uint8``
  (``make_sample_fn``).

Example:
    >>> import tensorflow as tf
    >>> to_uint8(tf.constant([-1.0, 0.0, 1.0])).numpy().tolist()
    [0, 128, 255]
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf
from keras_gan.export.latent import tf_latent

__all__ = ["make_generate_fn", "make_sample_fn", "to_uint8"]


def to_uint8(images: tf.Tensor) -> tf.Tensor:
    """``round_half_to_even((clip(images, -1, 1) + 1) * 127.5)`` as uint8, in float32 arithmetic.

    Args:
        images: float32 tensor in [-1, 1].

    Returns:
        uint8 tensor of the same shape.

    Example:
        >>> to_uint8(tf.constant([-1.0, 0.0, 1.0])).numpy().tolist()
        [0, 128, 255]
    """
    clipped = tf.clip_by_value(tf.cast(images, tf.float32), -1.0, 1.0)
    return tf.cast(tf.round((clipped + 1.0) * 127.5), tf.uint8)


def make_generate_fn(generator: Callable) -> Callable:
    """The ``serving_default`` body: ``z -> {"images": generator(z, training=False)}``.

    Args:
        generator: a built Keras model mapping ``[None, latent_dim]`` to images.

    Returns:
        A Python function of ``z`` returning a dict with the float32 ``images``.

    Example:
        >>> fn = make_generate_fn(generator)  # doctest: +SKIP
    """

    def generate(z: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"images": tf.cast(generator(z, training=False), tf.float32)}

    return generate


def make_sample_fn(generator: Callable, latent_dim: int, image_like: bool) -> Callable:
    """The ``sample`` body: ``(n, seed) -> {"images": ...}`` with z from the recipe.

    Args:
        generator: a built Keras model mapping ``[None, latent_dim]`` to outputs.
        latent_dim: the generator's latent size.
        image_like: True when the output has rank >= 3 (``[None, H, W(, C)]``): images are
            returned as uint8 by ``to_uint8``. False for flat outputs ``[None, D]``, returned
            as the float32 values.

    Returns:
        A Python function of ``(n, seed)`` returning a dict with ``images``.

    Example:
        >>> fn = make_sample_fn(generator, 100, image_like=True)  # doctest: +SKIP
    """

    def sample(n: tf.Tensor, seed: tf.Tensor) -> dict[str, tf.Tensor]:
        z = tf_latent(n, seed, latent_dim)
        images = tf.cast(generator(z, training=False), tf.float32)
        return {"images": to_uint8(images) if image_like else images}

    return sample
