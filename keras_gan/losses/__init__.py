"""Adversarial loss pairs, penalties and constraints, one concept per module.

Pairs (select by name with ``gan.compile(loss="...")`` or pass an instance):
``minimax`` (Goodfellow 2014), ``non_saturating`` (the default), ``wasserstein`` (Arjovsky 2017),
``hinge`` (Lim & Ye 2017), ``least_squares`` (Mao 2017). Penalties: :class:`GradientPenalty`
(Gulrajani 2017), :class:`R1Penalty` (Mescheder 2018). ACGAN's classification terms:
:func:`acgan_discriminator_loss`, :func:`acgan_generator_loss` (Odena 2017).
Constraint: :class:`WeightClip` (WGAN).
Each kind has one :class:`~keras_gan.losses.registry.Registry` (``LOSSES``, ``PENALTIES``,
``CONSTRAINTS``) that :func:`get`, :func:`get_penalty` and :func:`get_constraint` read.

Example:
    >>> import keras_gan.losses as L
    >>> L.get("wasserstein"), L.GradientPenalty(10.0)
    (WassersteinLoss(), GradientPenalty(weight=10.0))
"""

from .auxiliary import (
    acgan_discriminator_loss,
    acgan_generator_loss,
    auxiliary_classifier_loss,
)
from .base import LOSSES, AdversarialLoss, available, get, reduce_per_sample, replica_slice
from .constraints import CONSTRAINTS, WeightClip, get_constraint
from .hinge import HingeLoss, hinge_discriminator_loss, hinge_generator_loss
from .least_squares import (
    LeastSquaresLoss,
    least_squares_discriminator_loss,
    least_squares_generator_loss,
)
from .minimax import MinimaxLoss, minimax_discriminator_loss, minimax_generator_loss
from .non_saturating import (
    NonSaturatingLoss,
    non_saturating_discriminator_loss,
    non_saturating_generator_loss,
)
from .penalties import PENALTIES, GradientPenalty, Penalty, R1Penalty, get_penalty, gradient_norm
from .registry import Registry
from .wasserstein import (
    WassersteinLoss,
    wasserstein_discriminator_loss,
    wasserstein_generator_loss,
)

__all__ = [
    "CONSTRAINTS",
    "LOSSES",
    "PENALTIES",
    "AdversarialLoss",
    "GradientPenalty",
    "HingeLoss",
    "LeastSquaresLoss",
    "MinimaxLoss",
    "NonSaturatingLoss",
    "Penalty",
    "R1Penalty",
    "Registry",
    "WassersteinLoss",
    "WeightClip",
    "acgan_discriminator_loss",
    "acgan_generator_loss",
    "auxiliary_classifier_loss",
    "available",
    "get",
    "get_constraint",
    "get_penalty",
    "gradient_norm",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "least_squares_discriminator_loss",
    "least_squares_generator_loss",
    "minimax_discriminator_loss",
    "minimax_generator_loss",
    "non_saturating_discriminator_loss",
    "non_saturating_generator_loss",
    "reduce_per_sample",
    "replica_slice",
    "wasserstein_discriminator_loss",
    "wasserstein_generator_loss",
]
