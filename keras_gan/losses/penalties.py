"""Discriminator regularisers added to the critic's loss: the WGAN-GP gradient penalty and R1.

A penalty is called inside the critic's gradient tape with the critic and the real and fake
batches (and, for a class-conditional critic, the labels it is called with, held fixed) and
returns a PER-SAMPLE penalty (already multiplied by its weight), reduced like the losses (see
:mod:`keras_gan.losses.base`). Randomness comes from a stateless seed the model passes in, so
the penalty is deterministic under ``tf.function`` and identical across restarts.

Example:
    >>> penalty = GradientPenalty(weight=10.0)
    >>> critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> values = penalty(critic, tf.ones((4, 2)), tf.zeros((4, 2)), seed=tf.constant([0, 1]))
    >>> values.shape
    TensorShape([4])
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from keras_gan._checks import check_positive_float

from .base import replica_slice
from .registry import Registry

#: Penalties by name and alias (``penalty="gp"``): :func:`get_penalty` looks them up here.
PENALTIES: Registry[type[Penalty]] = Registry("penalty")

# Keeps sqrt differentiable where the gradient vanishes (d sqrt(u)/du is infinite at u = 0).
_NORM_EPSILON = 1e-12


def gradient_norm(
    discriminator: keras.Model,
    inputs: tf.Tensor,
    training: bool = True,
    labels: tf.Tensor | None = None,
) -> tf.Tensor:
    """Per-sample L2 norm of ``d D(x) / d x`` over all non-batch axes, safe at zero, in float32.

    With ``labels`` the discriminator is called as ``D([x, labels])`` (a class-conditional
    critic; the labels are constants). A discriminator returning several outputs (ACGAN's
    ``[logits, class_logits]``) is differentiated through its first, the adversarial one.

    Example:
        >>> critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> gradient_norm(critic, tf.zeros((3, 2))).shape
        TensorShape([3])
    """
    # In float32 whatever the dtype policy: under mixed_float16 a half-precision gradient and
    # its squared norm overflow or underflow, and the loss scale collapses to zero.
    inputs = tf.cast(inputs, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        outputs = discriminator(inputs if labels is None else [inputs, labels], training=training)
        if isinstance(outputs, list | tuple):
            outputs = outputs[0]
        outputs = tf.cast(outputs, tf.float32)
    grads = tf.cast(tape.gradient(outputs, inputs), tf.float32)
    axes = list(range(1, len(inputs.shape)))
    return tf.sqrt(tf.reduce_sum(tf.square(grads), axis=axes) + _NORM_EPSILON)


class Penalty:
    """Base class: ``penalty(discriminator, real, fake, seed, labels=None)`` -> weighted
    per-sample values. ``labels`` (the real rows' labels) are passed with a discriminator that
    takes ``[samples, labels]``, and the penalty calls it with them unchanged.

    A concrete penalty declares ``name`` (and ``aliases``) and is registered with the
    ``@PENALTIES.register`` decorator, so ``penalty="name"`` selects it.

    Example:
        >>> issubclass(GradientPenalty, Penalty)
        True
    """

    name = "penalty"
    aliases: tuple[str, ...] = ()

    def __init__(self, weight: float = 10.0) -> None:
        self.weight = check_positive_float(weight, "weight")

    def check_discriminator(self, discriminator: keras.Model) -> None:
        """Raise when the discriminator's layers make this penalty wrong (none by default)."""

    def __call__(
        self,
        discriminator: keras.Model,
        real: tf.Tensor,
        fake: tf.Tensor,
        seed: tf.Tensor,
        labels: tf.Tensor | None = None,
    ) -> tf.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments.

        Example:
            >>> GradientPenalty(weight=5.0).get_config()
            {'weight': 5.0}
        """
        return {"weight": self.weight}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Penalty:
        """Rebuild from :meth:`get_config`.

        Example:
            >>> R1Penalty.from_config({"weight": 1.0}).weight
            1.0
        """
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(weight={self.weight!r})"


@keras.saving.register_keras_serializable(package="keras_gan")
@PENALTIES.register
class GradientPenalty(Penalty):
    """WGAN-GP's two-sided gradient penalty (Gulrajani et al. 2017, "Improved Training of WGANs").

    ``weight * (||grad_x f(x_hat)||_2 - 1)^2`` with ``x_hat = a x + (1 - a) G(z)`` and ``a``
    drawn uniform in [0, 1] ONCE PER SAMPLE (broadcast over the sample's features); the norm runs
    over all non-batch axes. A class-conditional critic scores each interpolate with the label
    of its real sample (``labels``). Batch norm in the critic mixes samples and invalidates the
    per-sample penalty, so a critic with batch normalisation (``BatchNormalization`` or
    :class:`~keras_gan.networks.common.BatchStatNormalization`) is rejected (use layer norm).

    Args:
        weight: lambda (10 in the paper).

    Example:
        >>> GradientPenalty().weight
        10.0
    """

    name = "gradient_penalty"
    aliases = ("gp",)

    def check_discriminator(self, discriminator: keras.Model) -> None:
        """Reject a critic with batch normalisation.

        Example:
            >>> GradientPenalty().check_discriminator(keras.Sequential([keras.Input((2,))]))
        """
        # Private Keras API: no public walk reaches nested models, wrappers and custom layers.
        # ``batch_statistics`` marks BatchStatNormalization (networks), which losses cannot import.
        bad = [
            layer.name
            for layer in discriminator._flatten_layers()
            if isinstance(layer, keras.layers.BatchNormalization)
            or getattr(layer, "batch_statistics", False)
        ]
        if bad:
            raise ValueError(
                f"the gradient penalty is per sample, but the critic {discriminator.name!r} has "
                f"batch normalisation ({', '.join(bad)}), which mixes samples; build it with "
                "norm='layer', 'spectral' or None (Gulrajani et al. 2017, section 4)"
            )

    def __call__(
        self,
        discriminator: keras.Model,
        real: tf.Tensor,
        fake: tf.Tensor,
        seed: tf.Tensor,
        labels: tf.Tensor | None = None,
    ) -> tf.Tensor:
        real = tf.convert_to_tensor(real)
        fake = tf.cast(tf.convert_to_tensor(fake), real.dtype)
        ones = [1] * (len(real.shape) - 1)
        alpha = replica_slice(
            lambda n: tf.random.stateless_uniform(
                tf.concat([[n], ones], 0) if ones else [n], seed=seed, dtype=real.dtype
            ),
            tf.shape(real)[0],
        )
        interpolates = alpha * real + (1.0 - alpha) * fake
        norm = gradient_norm(discriminator, interpolates, labels=labels)
        return self.weight * tf.square(norm - 1.0)


@keras.saving.register_keras_serializable(package="keras_gan")
@PENALTIES.register
class R1Penalty(Penalty):
    """The R1 penalty on real data (Mescheder et al. 2018): ``weight / 2 * ||grad_x D(x)||^2``.

    Args:
        weight: gamma (10 is common on small images).

    Example:
        >>> R1Penalty(weight=1.0).name
        'r1'
    """

    name = "r1"

    def __call__(
        self,
        discriminator: keras.Model,
        real: tf.Tensor,
        fake: tf.Tensor,
        seed: tf.Tensor,
        labels: tf.Tensor | None = None,
    ) -> tf.Tensor:
        norm = gradient_norm(discriminator, tf.convert_to_tensor(real), labels=labels)
        return 0.5 * self.weight * tf.square(norm)


def get_penalty(identifier: str | dict[str, Any] | Penalty | None) -> Penalty | None:
    """Resolve a penalty from a name (``"gp"``, ``"r1"``), a config or an instance.

    Example:
        >>> get_penalty("gp")
        GradientPenalty(weight=10.0)
    """
    if identifier is None or isinstance(identifier, Penalty):
        return identifier
    if isinstance(identifier, str):
        return PENALTIES.get(identifier)()
    if isinstance(identifier, dict):
        value = keras.saving.deserialize_keras_object(identifier)
        if isinstance(value, Penalty):
            return value
    raise ValueError(f"penalty must be a name, config or Penalty. Received: penalty={identifier!r}")
