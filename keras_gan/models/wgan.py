"""The WGAN and WGAN-GP defaults, and ``WGAN``: the GAN model built with them.

This module owns the Wasserstein defaults: :data:`CRITIC_STEPS`, :data:`CLIP_VALUE`,
:data:`LOSS` and :func:`wgan_optimizer`. The ``wgan`` and ``wgan_gp`` presets
(:mod:`keras_gan.models.presets`) and the :class:`WGAN` class both read them; ``WGAN`` is a
convenience over :class:`~keras_gan.models.GAN`, not a second trainer.

Example:
    >>> from keras_gan.networks import dcgan_discriminator, dcgan_generator
    >>> wgan = WGAN(dcgan_generator(), dcgan_discriminator(norm=None))
    >>> wgan.discriminator_steps, wgan.constraint
    (5, WeightClip(clip_value=0.01))
"""

from __future__ import annotations

from typing import Any

import keras

from keras_gan.losses import AdversarialLoss, WeightClip

from .gan import GAN

#: Critic updates per generator update (Arjovsky et al. 2017 and Gulrajani et al. 2017: 5).
CRITIC_STEPS = 5
#: Weight-clipping bound c of WGAN (Arjovsky et al. 2017, Algorithm 1).
CLIP_VALUE = 0.01
#: The loss pair of both papers.
LOSS = "wasserstein"


def wgan_optimizer(
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule | None = None,
    *,
    penalty: bool = False,
) -> keras.optimizers.Optimizer:
    """The papers' optimizer: RMSprop(5e-5) with weight clipping (Arjovsky et al. 2017),
    Adam(1e-4, beta_1=0.5, beta_2=0.9) with a gradient penalty (Gulrajani et al. 2017).

    Args:
        learning_rate: a rate or schedule replacing the paper's (None keeps it).
        penalty: the critic has a gradient penalty (WGAN-GP) rather than weight clipping.

    Example:
        >>> type(wgan_optimizer()).__name__, float(wgan_optimizer(penalty=True).beta_2)
        ('RMSprop', 0.9)
    """
    if penalty:
        return keras.optimizers.Adam(learning_rate or 1e-4, beta_1=0.5, beta_2=0.9)
    return keras.optimizers.RMSprop(learning_rate or 5e-5)


@keras.saving.register_keras_serializable(package="keras_gan")
class WGAN(GAN):
    """A :class:`GAN` with the WGAN defaults of this module: 5 critic steps, weight clipping at
    0.01 (unless a penalty is given, as for WGAN-GP), the Wasserstein loss, RMSprop(5e-5)
    (Adam(1e-4, 0.5, 0.9) with a penalty).

    Example:
        >>> from keras_gan.networks import dcgan_discriminator, dcgan_generator
        >>> gp = WGAN(dcgan_generator(), dcgan_discriminator(norm="layer"), penalty="gp")
        >>> gp.constraint is None
        True
    """

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        latent_dim: int | None = None,
        discriminator_steps: int = CRITIC_STEPS,
        penalty: Any = None,
        constraint: Any = ...,
        **kwargs: Any,
    ) -> None:
        if constraint is ...:
            constraint = None if penalty is not None else WeightClip(CLIP_VALUE)
        super().__init__(
            generator,
            discriminator,
            latent_dim=latent_dim,
            discriminator_steps=discriminator_steps,
            penalty=penalty,
            constraint=constraint,
            **kwargs,
        )

    def compile(
        self,
        d_optimizer: Any = None,
        g_optimizer: Any = None,
        loss: str | AdversarialLoss | dict[str, Any] = LOSS,
        **kwargs: Any,
    ) -> None:
        """Compile with the paper's optimizers (:func:`wgan_optimizer`) unless others are given.

        Example:
            >>> wgan.compile()  # doctest: +SKIP
        """
        penalty = self.penalty is not None
        super().compile(
            d_optimizer=d_optimizer if d_optimizer is not None else wgan_optimizer(penalty=penalty),
            g_optimizer=g_optimizer if g_optimizer is not None else wgan_optimizer(penalty=penalty),
            loss=loss,
            **kwargs,
        )
