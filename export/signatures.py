"""The bodies of the two exported entry points, shared by the SavedModel and the ONNX writers.

* ``serving_default``: ``z -> {"images": generator(z)}`` (``make_generate_fn``);
* ``sample``: ``(n, seed) -> {"images": ...}`` with ``z`` drawn in-graph by the recipe
  ``keras_gan.latent.v1`` (``keras_gan.export.latent.tf_latent``) and images mapped to uint8 by
  ``to_uint8``, the TensorFlow twin of ``keras_gan.serving.images.to_uint8``
  (``make_sample_fn``).

For a class-conditional generator (inputs ``[z, labels]``) the entry points take the labels
too: ``serving_default(z, labels)`` with int32 ``labels [N]``, and ``sample(n, seed, label)``
with one int32 ``label`` for all ``n`` rows (the ``z`` are the recipe's, whatever the label).

Example:
    >>> import tensorflow as tf
    >>> to_uint8(tf.constant([-1.0, 0.0, 1.0])).numpy().tolist()
    [0, 128, 255]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import tensorflow as tf
from keras_gan.export.latent import tf_latent

if TYPE_CHECKING:
    from keras_gan.export.source import ExportSource

__all__ = ["input_signatures", "make_generate_fn", "make_sample_fn", "to_uint8"]


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


def input_signatures(
    source: ExportSource,
) -> tuple[list[tf.TensorSpec], list[tf.TensorSpec]]:
    """The inputs of ``serving_default`` and of ``sample``, as named ``tf.TensorSpec`` lists.

    ``serving_default``: ``z`` float32 ``[None, latent_dim]`` (and ``labels`` int32 ``[None]``
    for a conditional generator); ``sample``: ``n`` int32 and ``seed`` int64 scalars (and
    ``label`` int32 scalar).

    Args:
        source: the resolved generator.

    Returns:
        ``(generate_spec, sample_spec)``.

    Example:
        >>> [spec.name for spec in input_signatures(source)[1]]  # doctest: +SKIP
        ['n', 'seed', 'label']
    """
    generate = [tf.TensorSpec([None, source.latent_dim], tf.float32, name="z")]
    sample = [tf.TensorSpec([], tf.int32, name="n"), tf.TensorSpec([], tf.int64, name="seed")]
    if source.conditional:
        generate.append(tf.TensorSpec([None], tf.int32, name="labels"))
        sample.append(tf.TensorSpec([], tf.int32, name="label"))
    return generate, sample


def make_generate_fn(generator: Callable, conditional: bool = False) -> Callable:
    """The ``serving_default`` body: ``z -> {"images": generator(z, training=False)}``.

    Args:
        generator: a built Keras model mapping ``[None, latent_dim]`` to images, or
            ``[z, labels]`` to images when ``conditional``.
        conditional: True for a class-conditional generator: the body takes ``(z, labels)``.

    Returns:
        A Python function of ``z`` (or ``z, labels``) returning a dict with the float32
        ``images``.

    Example:
        >>> fn = make_generate_fn(generator)  # doctest: +SKIP
        >>> fn = make_generate_fn(conditional_generator, conditional=True)  # doctest: +SKIP
    """
    if conditional:

        def generate_labelled(z: tf.Tensor, labels: tf.Tensor) -> dict[str, tf.Tensor]:
            images = generator([z, tf.cast(labels, tf.int32)], training=False)
            return {"images": tf.cast(images, tf.float32)}

        return generate_labelled

    def generate(z: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"images": tf.cast(generator(z, training=False), tf.float32)}

    return generate


def make_sample_fn(
    generator: Callable, latent_dim: int, image_like: bool, conditional: bool = False
) -> Callable:
    """The ``sample`` body: ``(n, seed) -> {"images": ...}`` with z from the recipe.

    Args:
        generator: a built Keras model mapping ``[None, latent_dim]`` to outputs, or
            ``[z, labels]`` to outputs when ``conditional``.
        latent_dim: the generator's latent size.
        image_like: True when the output has rank >= 3 (``[None, H, W(, C)]``): images are
            returned as uint8 by ``to_uint8``. False for flat outputs ``[None, D]``, returned
            as the float32 values.
        conditional: True for a class-conditional generator: the body takes
            ``(n, seed, label)`` and generates every row with the class ``label``.

    Returns:
        A Python function of ``(n, seed)`` (or ``n, seed, label``) returning a dict with
        ``images``.

    Example:
        >>> fn = make_sample_fn(generator, 100, image_like=True)  # doctest: +SKIP
    """

    def finish(images: tf.Tensor) -> dict[str, tf.Tensor]:
        images = tf.cast(images, tf.float32)
        return {"images": to_uint8(images) if image_like else images}

    if conditional:

        def sample_labelled(
            n: tf.Tensor, seed: tf.Tensor, label: tf.Tensor
        ) -> dict[str, tf.Tensor]:
            z = tf_latent(n, seed, latent_dim)
            labels = tf.fill(tf.shape(z)[:1], tf.cast(label, tf.int32))
            return finish(generator([z, labels], training=False))

        return sample_labelled

    def sample(n: tf.Tensor, seed: tf.Tensor) -> dict[str, tf.Tensor]:
        return finish(generator(tf_latent(n, seed, latent_dim), training=False))

    return sample
