"""The Wasserstein loss of Arjovsky, Chintala and Bottou 2017, "Wasserstein GAN".

The critic has no output activation and maximises ``E[f(x)] - E[f(G(z))]``, an estimate of the
Earth-Mover distance when ``f`` is kept (about) 1-Lipschitz by weight clipping or a gradient
penalty; the generator maximises ``E[f(G(z))]``. Real and fake are scored with opposite signs
instead of 0/1 targets, and ``mean(real) - mean(fake)`` is logged as ``w_distance``.

Example:
    >>> WassersteinLoss().discriminator_loss([[1.0]], [[-1.0]]).numpy().tolist()
    [-2.0]
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from .base import LOSSES, AdversarialLoss, _flat


def wasserstein_discriminator_loss(real_scores: Any, fake_scores: Any) -> tf.Tensor:
    """Per-sample critic loss ``f(G(z)) - f(x)``. Arjovsky et al. 2017.

    Example:
        >>> wasserstein_discriminator_loss([[0.5]], [[0.25]]).numpy().tolist()
        [-0.25]
    """
    return _flat(fake_scores) - _flat(real_scores)


def wasserstein_generator_loss(fake_scores: Any) -> tf.Tensor:
    """Per-sample generator loss ``-f(G(z))``. Arjovsky et al. 2017.

    Example:
        >>> wasserstein_generator_loss([[0.5]]).numpy().tolist()
        [-0.5]
    """
    return -_flat(fake_scores)


@keras.saving.register_keras_serializable(package="keras_gan")
@LOSSES.register
class WassersteinLoss(AdversarialLoss):
    """The WGAN pair; pair it with :class:`WeightClip` (WGAN) or :class:`GradientPenalty` (WGAN-GP).

    Example:
        >>> WassersteinLoss().reports_distance
        True
    """

    name = "wasserstein"
    aliases = ("wgan", "wgan_gp")
    reports_distance = True

    def discriminator_loss(self, real_outputs: Any, fake_outputs: Any) -> tf.Tensor:
        """Per-sample ``f(G(z)) - f(x)`` (the critic minimises it)."""
        return wasserstein_discriminator_loss(real_outputs, fake_outputs)

    def generator_loss(self, fake_outputs: Any) -> tf.Tensor:
        """Per-sample ``-f(G(z))``."""
        return wasserstein_generator_loss(fake_outputs)
