"""The hinge loss of Lim & Ye 2017 ("Geometric GAN") and Miyato et al. 2018 (SN-GAN).

Critic: ``relu(1 - f(x)) + relu(1 + f(G(z)))``; generator: ``-f(G(z))``.

Example:
    >>> HingeLoss().discriminator_loss([[0.5]], [[0.5]]).numpy().tolist()
    [2.0]
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from .base import LOSSES, AdversarialLoss, _flat


def hinge_discriminator_loss(real_scores: Any, fake_scores: Any) -> tf.Tensor:
    """Per-sample ``relu(1 - f(x)) + relu(1 + f(G(z)))``. Lim & Ye 2017.

    Example:
        >>> hinge_discriminator_loss([[2.0]], [[-2.0]]).numpy().tolist()
        [0.0]
    """
    return tf.nn.relu(1.0 - _flat(real_scores)) + tf.nn.relu(1.0 + _flat(fake_scores))


def hinge_generator_loss(fake_scores: Any) -> tf.Tensor:
    """Per-sample ``-f(G(z))``. Lim & Ye 2017.

    Example:
        >>> hinge_generator_loss([[0.25]]).numpy().tolist()
        [-0.25]
    """
    return -_flat(fake_scores)


@keras.saving.register_keras_serializable(package="keras_gan")
@LOSSES.register
class HingeLoss(AdversarialLoss):
    """The hinge pair (Geometric GAN, SN-GAN).

    Example:
        >>> HingeLoss().name
        'hinge'
    """

    name = "hinge"

    def discriminator_loss(self, real_outputs: Any, fake_outputs: Any) -> tf.Tensor:
        """Per-sample ``relu(1 - f(x)) + relu(1 + f(G(z)))``."""
        return hinge_discriminator_loss(real_outputs, fake_outputs)

    def generator_loss(self, fake_outputs: Any) -> tf.Tensor:
        """Per-sample ``-f(G(z))``."""
        return hinge_generator_loss(fake_outputs)
