"""The seeded latent recipe ``keras_gan.latent.v1`` in TensorFlow: ``tf_latent``.

``tf_latent(n, seed, latent_dim)`` is the in-graph twin of ``keras_gan.serving.latent.latent``,
whose docstring is the written recipe and whose constants it reads. It uses only int64
``Mul``/``Add``/``BitwiseAnd``/``BitwiseXor``, integer division of non-negative values,
``Cast``, ``Log``, ``Cos`` and ``Sqrt``: each converts to ONNX opset 18 and runs exactly in
onnxruntime. Unsigned 32-bit words are held in int64 with masks; products are split into
16-bit halves so that no intermediate leaves the int64 range.

Example:
    >>> import tensorflow as tf
    >>> tf_latent(tf.constant(2), tf.constant(7, tf.int64), latent_dim=3).shape
    TensorShape([2, 3])
"""

from __future__ import annotations

import tensorflow as tf
from keras_gan.serving.latent import (
    ABSORB_INCREMENT,
    MASK32,
    MIX_MULTIPLIER_1,
    MIX_MULTIPLIER_2,
    MIX_SHIFTS,
    RECIPE,
    TWO_PI,
    UNIFORM_SCALE,
    UNIFORM_SHIFT,
)

from keras_gan._checks import check_positive_int

__all__ = ["RECIPE", "tf_latent"]


def _shift_right(x: tf.Tensor, bits: int) -> tf.Tensor:
    # x >= 0, so integer division is the logical shift in TensorFlow and ONNX alike.
    return tf.math.floordiv(x, tf.constant(2**bits, tf.int64))


def _mul32(a: tf.Tensor, multiplier: int) -> tf.Tensor:
    """``(a * multiplier) mod 2**32`` for 32-bit ``a`` without int64 overflow."""
    low = a * tf.constant(multiplier & 0xFFFF, tf.int64)  # < 2**48
    high = tf.bitwise.bitwise_and(
        a * tf.constant(multiplier >> 16, tf.int64), tf.constant(0xFFFF, tf.int64)
    ) * tf.constant(2**16, tf.int64)  # < 2**32
    return tf.bitwise.bitwise_and(low + high, tf.constant(MASK32, tf.int64))


def _mix32(x: tf.Tensor) -> tf.Tensor:
    shift_1, shift_2, shift_3 = MIX_SHIFTS
    x = tf.bitwise.bitwise_xor(x, _shift_right(x, shift_1))
    x = _mul32(x, MIX_MULTIPLIER_1)
    x = tf.bitwise.bitwise_xor(x, _shift_right(x, shift_2))
    x = _mul32(x, MIX_MULTIPLIER_2)
    return tf.bitwise.bitwise_xor(x, _shift_right(x, shift_3))


def _absorb(h: tf.Tensor, v: tf.Tensor) -> tf.Tensor:
    mixed = tf.bitwise.bitwise_xor(h, v) + tf.constant(ABSORB_INCREMENT, tf.int64)
    return _mix32(tf.bitwise.bitwise_and(mixed, tf.constant(MASK32, tf.int64)))


def _uniform(h: tf.Tensor) -> tf.Tensor:
    odd = _shift_right(h, UNIFORM_SHIFT) * tf.constant(2, tf.int64) + tf.constant(1, tf.int64)
    return tf.cast(odd, tf.float64) * tf.constant(UNIFORM_SCALE, tf.float64)


def tf_latent(n: tf.Tensor, seed: tf.Tensor, latent_dim: int) -> tf.Tensor:
    """Draw ``z`` of shape ``[max(n, 0), latent_dim]`` by the recipe ``keras_gan.latent.v1``.

    A negative ``n`` gives an empty batch (``keras_gan.serving.latent.latent`` rejects it).

    Args:
        n: int32 (or int64) scalar tensor, the number of rows.
        seed: int64 scalar tensor, any value.
        latent_dim: Python int, the number of columns.

    Returns:
        float32 tensor ``[n, latent_dim]``, equal to ``keras_gan.serving.latent.latent``.

    Example:
        >>> z = tf_latent(tf.constant(4), tf.constant(0, tf.int64), latent_dim=8)
        >>> z.dtype
        tf.float32
    """
    check_positive_int(latent_dim, "latent_dim")
    mask = tf.constant(MASK32, tf.int64)
    seed = tf.cast(seed, tf.int64)
    seed_lo = tf.bitwise.bitwise_and(seed, mask)
    # seed - seed_lo has 32 zero low bits, so the division is exact (floor == truncation).
    seed_hi = tf.bitwise.bitwise_and(
        tf.math.floordiv(seed - seed_lo, tf.constant(2**32, tf.int64)), mask
    )
    key = _absorb(_absorb(tf.constant(0, tf.int64), seed_hi), seed_lo)
    # tf.range rejects a negative count where ONNX Range returns nothing: clamp in both.
    count = tf.maximum(tf.cast(n, tf.int64), tf.constant(0, tf.int64))
    rows = tf.range(count, dtype=tf.int64)[:, None]
    columns = tf.range(latent_dim, dtype=tf.int64)[None, :] * tf.constant(2, tf.int64)
    h_row = _absorb(key, rows)
    u1 = _uniform(_absorb(h_row, columns))
    u2 = _uniform(_absorb(h_row, columns + tf.constant(1, tf.int64)))
    radius = tf.sqrt(tf.constant(-2.0, tf.float64) * tf.math.log(u1))
    z = radius * tf.cos(u2 * tf.constant(TWO_PI, tf.float64))
    return tf.cast(z, tf.float32)
