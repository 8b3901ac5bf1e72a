"""The least-squares loss of Mao et al. 2017, "Least Squares Generative Adversarial Networks".

With targets a=0 (fake), b=1 (real), c=1 (what the generator wants):
discriminator ``0.5 (D(x) - 1)^2 + 0.5 D(G(z))^2``, generator ``0.5 (D(G(z)) - 1)^2``, on the raw
(linear) outputs.

Example:
    >>> LeastSquaresLoss().generator_loss([[0.0]]).numpy().tolist()
    [0.5]
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from .base import LOSSES, AdversarialLoss, _flat


def least_squares_discriminator_loss(real_outputs: Any, fake_outputs: Any) -> tf.Tensor:
    """Per-sample ``0.5 (D(x) - 1)^2 + 0.5 D(G(z))^2``. Mao et al. 2017.

    Example:
        >>> least_squares_discriminator_loss([[1.0]], [[1.0]]).numpy().tolist()
        [0.5]
    """
    return 0.5 * tf.square(_flat(real_outputs) - 1.0) + 0.5 * tf.square(_flat(fake_outputs))


def least_squares_generator_loss(fake_outputs: Any) -> tf.Tensor:
    """Per-sample ``0.5 (D(G(z)) - 1)^2``. Mao et al. 2017.

    Example:
        >>> least_squares_generator_loss([[3.0]]).numpy().tolist()
        [2.0]
    """
    return 0.5 * tf.square(_flat(fake_outputs) - 1.0)


@keras.saving.register_keras_serializable(package="keras_gan")
@LOSSES.register
class LeastSquaresLoss(AdversarialLoss):
    """The LSGAN pair.

    Example:
        >>> LeastSquaresLoss().name
        'least_squares'
    """

    name = "least_squares"
    aliases = ("lsgan", "ls")

    def discriminator_loss(self, real_outputs: Any, fake_outputs: Any) -> tf.Tensor:
        """Per-sample ``0.5 (D(x) - 1)^2 + 0.5 D(G(z))^2``."""
        return least_squares_discriminator_loss(real_outputs, fake_outputs)

    def generator_loss(self, fake_outputs: Any) -> tf.Tensor:
        """Per-sample ``0.5 (D(G(z)) - 1)^2``."""
        return least_squares_generator_loss(fake_outputs)
