"""The non-saturating GAN loss (Goodfellow et al. 2014, section 3): the practical default.

The discriminator's loss is the minimax one; the generator MAXIMISES ``log D(G(z))`` instead of
minimising ``log(1 - D(G(z)))``: same fixed point, strong gradients early in training.

Example:
    >>> NonSaturatingLoss().generator_loss([[0.0]]).numpy().astype(float).round(4).tolist()
    [0.6931]
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from .base import LOSSES, _flat
from .minimax import MinimaxLoss, minimax_discriminator_loss


def non_saturating_discriminator_loss(
    real_logits: Any, fake_logits: Any, label_smoothing: float = 0.0
) -> tf.Tensor:
    """Per-sample discriminator loss: the same binary cross-entropy as the minimax game.

    Example:
        >>> loss = non_saturating_discriminator_loss([[3.0]], [[-3.0]])
        >>> loss.numpy().astype(float).round(4).tolist()
        [0.0972]
    """
    return minimax_discriminator_loss(real_logits, fake_logits, label_smoothing)


def non_saturating_generator_loss(fake_logits: Any) -> tf.Tensor:
    """Per-sample ``-log D(G(z))`` = ``softplus(-logit)``. Goodfellow et al. 2014, section 3.

    Example:
        >>> non_saturating_generator_loss([[-2.0]]).numpy().astype(float).round(4).tolist()
        [2.1269]
    """
    return tf.math.softplus(-_flat(fake_logits))


@keras.saving.register_keras_serializable(package="keras_gan")
@LOSSES.register
class NonSaturatingLoss(MinimaxLoss):
    """The non-saturating pair: minimax discriminator, ``-log D(G(z))`` generator.

    Args:
        label_smoothing: one-sided smoothing of the real targets (0 disables).

    Example:
        >>> NonSaturatingLoss().name
        'non_saturating'
    """

    name = "non_saturating"
    aliases = ("nonsaturating", "ns", "bce")

    def generator_loss(self, fake_outputs: Any) -> tf.Tensor:
        """Per-sample ``-log D(G(z))`` from logits."""
        return non_saturating_generator_loss(fake_outputs)
