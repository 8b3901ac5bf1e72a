"""``WGAN``: the GAN model with Wasserstein defaults (a convenience, not a second trainer).

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


@keras.saving.register_keras_serializable(package="keras_gan")
class WGAN(GAN):
    """A :class:`GAN` with WGAN defaults: 5 critic steps, weight clipping at 0.01 (unless a
    penalty is given, as for WGAN-GP), the Wasserstein loss, RMSprop(5e-5) (Adam(1e-4, 0.5, 0.9)
    with a penalty).

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
        discriminator_steps: int = 5,
        penalty: Any = None,
        constraint: Any = ...,
        **kwargs: Any,
    ) -> None:
        if constraint is ...:
            constraint = None if penalty is not None else WeightClip(0.01)
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
        loss: str | AdversarialLoss | dict[str, Any] = "wasserstein",
        **kwargs: Any,
    ) -> None:
        """Compile with the paper's optimizers unless others are given.

        Example:
            >>> wgan.compile()  # doctest: +SKIP
        """

        def default() -> keras.optimizers.Optimizer:
            if self.penalty is not None:
                return keras.optimizers.Adam(1e-4, beta_1=0.5, beta_2=0.9)
            return keras.optimizers.RMSprop(5e-5)

        super().compile(
            d_optimizer=d_optimizer if d_optimizer is not None else default(),
            g_optimizer=g_optimizer if g_optimizer is not None else default(),
            loss=loss,
            **kwargs,
        )
