"""The minimax GAN loss of Goodfellow et al. 2014, "Generative Adversarial Nets".

The discriminator maximises ``log D(x) + log(1 - D(G(z)))``; the generator MINIMISES
``log(1 - D(G(z)))``, the saturating form: when the discriminator confidently rejects fakes the
generator's gradient vanishes. Both are written on logits: ``log D = -softplus(-l)`` and
``log(1 - D) = -softplus(l)``.

Example:
    >>> MinimaxLoss().generator_loss([[0.0]]).numpy().astype(float).round(4).tolist()
    [-0.6931]
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from keras_gan._checks import check_in_interval

from .base import LOSSES, AdversarialLoss, _flat


def _check_smoothing(label_smoothing: float) -> float:
    return check_in_interval(label_smoothing, "label_smoothing", 0.0, 0.5)


def minimax_discriminator_loss(
    real_logits: Any, fake_logits: Any, label_smoothing: float = 0.0
) -> tf.Tensor:
    """Per-sample ``-[t log D(x) + (1 - t) log(1 - D(x))] - log(1 - D(G(z)))`` on logits.

    ``t = 1 - label_smoothing`` is one-sided label smoothing of the real targets (Salimans 2016).
    Goodfellow et al. 2014.

    Example:
        >>> minimax_discriminator_loss([[0.0]], [[0.0]]).numpy().astype(float).round(4).tolist()
        [1.3863]
    """
    real, fake = _flat(real_logits), _flat(fake_logits)
    target = 1.0 - _check_smoothing(label_smoothing)
    real_loss = target * tf.math.softplus(-real) + (1.0 - target) * tf.math.softplus(real)
    return real_loss + tf.math.softplus(fake)


def minimax_generator_loss(fake_logits: Any) -> tf.Tensor:
    """Per-sample ``log(1 - D(G(z)))`` = ``-softplus(logit)`` (saturating). Goodfellow et al. 2014.

    Example:
        >>> minimax_generator_loss([[2.0]]).numpy().astype(float).round(4).tolist()
        [-2.1269]
    """
    return -tf.math.softplus(_flat(fake_logits))


@keras.saving.register_keras_serializable(package="keras_gan")
@LOSSES.register
class MinimaxLoss(AdversarialLoss):
    """The original minimax pair (Goodfellow et al. 2014), with the saturating generator loss.

    Args:
        label_smoothing: one-sided smoothing of the real targets (0 disables).

    Example:
        >>> MinimaxLoss(label_smoothing=0.1).get_config()
        {'label_smoothing': 0.1}
    """

    name = "minimax"
    aliases = ("gan", "saturating")
    probabilistic = True

    def __init__(self, label_smoothing: float = 0.0) -> None:
        self.label_smoothing = _check_smoothing(label_smoothing)

    def discriminator_loss(self, real_outputs: Any, fake_outputs: Any) -> tf.Tensor:
        """Per-sample ``-log D(x) - log(1 - D(G(z)))`` from logits."""
        return minimax_discriminator_loss(real_outputs, fake_outputs, self.label_smoothing)

    def generator_loss(self, fake_outputs: Any) -> tf.Tensor:
        """Per-sample ``log(1 - D(G(z)))`` (the saturating generator loss) from logits."""
        return minimax_generator_loss(fake_outputs)

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments."""
        return {"label_smoothing": self.label_smoothing}
