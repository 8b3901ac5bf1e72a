"""Variant presets: data at the edge, each one a composition over the single :class:`GAN` class.

===========  ===========================  ==================================================
preset       networks                     training
===========  ===========================  ==================================================
clustered    resize_conv pair, self-      the resize_conv recipe on k-means clusters of the
             conditioned: the generator   train images (20, on pixels; no labels), projection
             draws a cluster from z[:, 0] discriminator on the cluster ids (after Liu et al.
                                          2020); the default image preset
resize_conv  resize-conv generator (w16)  non-saturating loss, Adam(2e-4, beta_1=0.5),
             4x4 stride-2 disc. (w32)     latent 64
gan          MLP pair (Goodfellow 2014)   non-saturating loss, Adam(2e-4, beta_1=0.5)
dcgan        DCGAN pair (Radford 2016)    non-saturating loss, Adam(2e-4, beta_1=0.5)
wgan         resize_conv pair, critic     Wasserstein loss, RMSprop(5e-4 on images, the
             (no output activation)       paper's 5e-5 on points), 5 critic steps, weight
                                          clipping 0.01 (Arjovsky 2017)
wgan_gp      resize_conv pair, critic     Wasserstein loss, Adam(1e-4, 0.5, 0.9), 5 critic
             with layer norm              steps, gradient penalty 10 (Gulrajani 2017)
points       MLP pair at unit scale (the  non-saturating loss, Adam(5e-4, beta_1=0.5)
             data's scale is a fixed      decayed along a cosine to 1% over the run, EMA
             layer)                       0.99, XLA, several steps per call: the recipe for
                                          2-D mixtures (``docs/variants.md``)
cgan         resize_conv pair, class-     the resize_conv recipe; labels embedded and
             conditional: label embedding concatenated to z (Mirza & Osindero 2014),
             projection discriminator     projection discriminator (Miyato & Koyama 2018);
                                          the default conditional preset
acgan        resize_conv pair, auxiliary  the resize_conv recipe plus the classification
             classifier discriminator     loss of Odena et al. 2017 (weight 1)
===========  ===========================  ==================================================

The conditional presets (``cgan``, ``acgan``) take ``num_classes`` (10 by default) and
``class_names``; any other preset refuses them. ``clustered`` takes ``cluster_prior``, the
clusters' frequencies in the training data (:func:`keras_gan.mixture.image_clusters` computes
the clusters; :func:`keras_gan.runs.train` does it for you), and is unconditional to its users:
``gan.generate(n)``, export and serving see a ``z -> image`` generator.

The WGAN presets train the ``resize_conv`` networks: five critic steps make each generator step
several times dearer, and in a 5-minute screen on a 2-core CPU the DCGAN pair took about a
quarter of the generator steps and drew 2-3 classes (``docs/metrics.md``).
``build(..., networks="dcgan")`` trains any image preset on the DCGAN pair instead.

``resize_conv`` is free of checkerboard artefacts (it upsamples by resizing, then convolves;
the discriminator's kernels are multiples of their stride) and costs about a seventh of the
DCGAN pair's multiply-adds per training image, so on a CPU it takes several times more steps
per minute; see ``docs/metrics.md`` for the measured quality per minute.

The image discriminators have no batch norm by default (``critic_norm="batch"`` restores the
paper's): the generator update runs the frozen discriminator, and a frozen Keras 3
BatchNormalization normalises with its moving statistics, which lag far behind the batch
statistics early in training; the generator then follows a stale discriminator and collapses.
The DCGAN discriminator uses dropout 0.3 instead, as the TensorFlow DCGAN tutorial does.
``critic_norm="batch_stats"`` is batch norm without moving statistics
(:class:`~keras_gan.networks.common.BatchStatNormalization`): the frozen discriminator keeps
normalising by the batch it scores, as the papers' batch-normalised discriminators did.

For 1-D sample shapes (2-D points, flat vectors) every preset uses the MLP pair with a linear
generator output.

Example:
    >>> gan = build("wgan_gp", image_shape=(28, 28, 1), seed=0)
    >>> gan.discriminator_steps, type(gan.penalty).__name__, type(gan.loss_pair).__name__
    (5, 'GradientPenalty', 'WassersteinLoss')
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import keras

from keras_gan._checks import check_positive_float, check_positive_int
from keras_gan.networks import (
    acgan_discriminator,
    clustered_generator,
    conditional_generator,
    dcgan_discriminator,
    dcgan_generator,
    mlp_discriminator,
    mlp_generator,
    projection_discriminator,
    resize_conv_generator,
    strided_discriminator,
)
from keras_gan.networks.clustered import check_prior

from . import wgan
from .gan import GAN


@dataclass(frozen=True)
class Preset:
    """One variant: network options, model options and optimizer settings.

    Example:
        >>> PRESETS["wgan"].discriminator_steps
        5
    """

    networks: str  # "mlp", "dcgan" or "resize_conv"
    loss: str
    d_optimizer: Callable[[float | None], keras.optimizers.Optimizer]
    g_optimizer: Callable[[float | None], keras.optimizers.Optimizer]
    discriminator_steps: int = 1
    penalty: str | None = None
    constraint: float | None = None
    critic_norm: str | None = None
    critic_dropout: float = 0.0
    latent_dim: int = 100
    point_latent_dim: int = 2
    width: int = 64
    ema_decay: float | None = None
    description: str = ""
    #: Learning-rate schedule over the run: None (constant) or "cosine" (to
    #: ``final_lr_fraction`` of the rate at the last step; needs ``total_steps`` in :func:`build`).
    lr_schedule: str | None = None
    final_lr_fraction: float = 1.0
    #: Compile the train step with XLA for 1-D samples (small MLPs, where per-op overhead
    #: dominates; slower for the convolutional models here).
    point_jit_compile: bool = False
    #: Normalise 1-D samples by ``data_scale`` inside the networks (see :func:`build`).
    point_scale: bool = False
    #: Generator steps fused into one call at most for 1-D samples (``keras-gan train``).
    point_steps_per_call: int = 1
    #: Recommended training for 1-D samples: batch per critic step and epochs over the 100,000
    #: points of a 2-D mixture (``keras-gan train`` defaults).
    point_batch_size: int = 128
    point_epochs: int = 5
    #: Constant learning rate of both optimizers for image samples, in place of the optimizer
    #: factory's default (None keeps it; 1-D samples always keep it). ``d_lr``/``g_lr`` override.
    image_lr: float | None = None
    #: Class conditioning: None, "projection" (projection discriminator) or "auxiliary"
    #: (ACGAN's auxiliary classifier); the generator takes ``[z, labels]`` for both.
    conditional: str | None = None
    #: Self-conditioning: the number of k-means clusters of the training images the pair is
    #: conditioned on (projection discriminator; the generator draws its cluster from z).
    clusters: int | None = None


#: The image network pairs ``build(networks=...)`` takes, with their default base widths.
NETWORK_WIDTHS = {"resize_conv": 16, "dcgan": 64, "mlp": 64}

#: Classes of a conditional preset when ``build`` is given no ``num_classes``.
DEFAULT_NUM_CLASSES = 10


LearningRate = float | keras.optimizers.schedules.LearningRateSchedule


def _adam(
    lr: float, beta_1: float = 0.5, beta_2: float = 0.999
) -> Callable[[LearningRate | None], Any]:
    return lambda override: keras.optimizers.Adam(override or lr, beta_1=beta_1, beta_2=beta_2)


#: Epochs of the ``points`` preset over 100,000 points at batch 512: 180 x 195 = 35,100 steps.
POINT_EPOCHS = 180

#: The default image recipe, which the class-conditional presets share.
_RESIZE_CONV = Preset(
    networks="resize_conv",
    loss="non_saturating",
    d_optimizer=_adam(2e-4),
    g_optimizer=_adam(2e-4),
    critic_norm=None,
    latent_dim=64,
    width=16,
    description="resize-convolution generator, 4x4 stride-2 discriminator: cheap and "
    "free of checkerboard artefacts",
)

PRESETS: dict[str, Preset] = {
    "resize_conv": _RESIZE_CONV,
    "clustered": dataclasses.replace(
        _RESIZE_CONV,
        clusters=20,
        description="resize_conv conditioned on 20 k-means clusters of the train images (no "
        "labels): the generator draws its cluster from z, a projection discriminator judges "
        "each image against its cluster",
    ),
    "cgan": dataclasses.replace(
        _RESIZE_CONV,
        conditional="projection",
        description="class-conditional resize_conv: label embedding concatenated to z, "
        "projection discriminator (Miyato & Koyama 2018)",
    ),
    "acgan": dataclasses.replace(
        _RESIZE_CONV,
        conditional="auxiliary",
        description="class-conditional resize_conv with an auxiliary-classifier "
        "discriminator (Odena et al. 2017)",
    ),
    "gan": Preset(
        networks="mlp",
        loss="non_saturating",
        d_optimizer=_adam(2e-4),
        g_optimizer=_adam(2e-4),
        critic_norm=None,
        description="MLP generator and discriminator (Goodfellow et al. 2014)",
    ),
    "dcgan": Preset(
        networks="dcgan",
        loss="non_saturating",
        d_optimizer=_adam(2e-4),
        g_optimizer=_adam(2e-4),
        critic_norm=None,
        critic_dropout=0.3,
        description="DCGAN (Radford et al. 2016), discriminator as in the TF DCGAN tutorial",
    ),
    "wgan": Preset(
        networks="resize_conv",
        latent_dim=64,
        width=16,
        loss=wgan.LOSS,
        d_optimizer=wgan.wgan_optimizer,
        g_optimizer=wgan.wgan_optimizer,
        discriminator_steps=wgan.CRITIC_STEPS,
        constraint=wgan.CLIP_VALUE,
        critic_norm=None,
        # Ten times the paper's 5e-5 on images: at 5e-5 the clipped critic still drew grey
        # blobs after 30 minutes on a 2-core CPU; 5e-4 drew items of every class (FID 107
        # against 188; docs/metrics.md). 2-D points keep the paper's rate.
        image_lr=5e-4,
        description="WGAN with weight clipping (Arjovsky et al. 2017)",
    ),
    "wgan_gp": Preset(
        networks="resize_conv",
        latent_dim=64,
        width=16,
        loss=wgan.LOSS,
        d_optimizer=partial(wgan.wgan_optimizer, penalty=True),
        g_optimizer=partial(wgan.wgan_optimizer, penalty=True),
        discriminator_steps=wgan.CRITIC_STEPS,
        penalty="gp",
        critic_norm="layer",
        description="WGAN-GP (Gulrajani et al. 2017)",
    ),
    "points": Preset(
        networks="mlp",
        loss="non_saturating",
        d_optimizer=_adam(5e-4),
        g_optimizer=_adam(5e-4),
        lr_schedule="cosine",
        final_lr_fraction=0.01,
        ema_decay=0.99,
        point_jit_compile=True,
        point_scale=True,
        point_steps_per_call=16,
        point_batch_size=512,
        point_epochs=POINT_EPOCHS,
        description="recipe for 2-D mixtures: MLP GAN at unit scale, cosine-decayed Adam, EMA",
    ),
}


#: ``keras-gan train --precision`` choices: Keras dtype policy names.
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


def precision_policy(name: str) -> str:
    """Validate a precision name; set it with ``keras.config.set_dtype_policy`` before building.

    Under a mixed policy the layers compute in bfloat16 or float16 and keep float32 variables;
    the networks' output layers, batch norm, the losses and the gradient penalty stay float32,
    and with float16 ``GAN.compile`` wraps both optimizers in a ``LossScaleOptimizer``.

    Example:
        >>> precision_policy("mixed_bfloat16")
        'mixed_bfloat16'
    """
    if name not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}. Received: precision={name!r}")
    return name


def available() -> list[str]:
    """Preset names.

    Example:
        >>> available()
        ['acgan', 'cgan', 'clustered', 'dcgan', 'gan', 'points', 'resize_conv', 'wgan', 'wgan_gp']
    """
    return sorted(PRESETS)


def build(
    name: str = "dcgan",
    image_shape: Sequence[int] = (28, 28, 1),
    latent_dim: int | None = None,
    *,
    width: int | None = None,
    hidden: Sequence[int] | None = None,
    d_lr: float | None = None,
    g_lr: float | None = None,
    discriminator_steps: int | None = None,
    loss: str | None = None,
    critic_norm: str | type[Ellipsis] | None = ...,
    ema_decay: float | None = None,
    seed: int | None = None,
    compile: bool = True,
    run_eagerly: bool = False,
    total_steps: int | None = None,
    data_scale: float | None = None,
    jit_compile: bool | str | None = None,
    precision: str | None = None,
    num_classes: int | None = None,
    class_names: Sequence[str] | None = None,
    cluster_prior: Sequence[float] | None = None,
    networks: str | None = None,
) -> GAN:
    """Build (and compile) a preset variant for samples of ``image_shape``.

    Call it inside ``strategy.scope()`` to train under ``tf.distribute``.

    Args:
        name: a preset name (:func:`available`): ``"resize_conv"``, ``"gan"``, ``"dcgan"``,
            ``"wgan"``, ``"wgan_gp"``, ``"points"``, or the conditional ``"cgan"``, ``"acgan"``.
        image_shape: shape of one sample: ``(H, W, C)`` images or ``(D,)`` points.
        latent_dim: latent size (100 for images, 2 for points by default).
        width: base width of the convolutional networks (the preset's when None: 64 for
            the DCGAN pair, 16 for the resize-convolution generator, whose discriminator
            gets twice that).
        hidden: hidden units of the MLP networks (per layer).
        d_lr: discriminator learning rate (the preset's when None).
        g_lr: generator learning rate (the preset's when None).
        discriminator_steps: critic steps per generator step (the preset's when None).
        loss: loss-pair name overriding the preset's.
        critic_norm: normalisation of the discriminator (the preset's when left out).
        ema_decay: EMA of generator weights for sampling (the preset's when None; 0
            disables it).
        seed: noise seed.
        compile: compile with the preset's optimizers and loss.
        run_eagerly: passed to ``compile``.
        precision: a dtype policy (``"float32"``, ``"mixed_bfloat16"``, ``"mixed_float16"``)
            set while the networks are built and restored afterwards; None builds under the
            current global policy (``keras.config.set_dtype_policy``).
        total_steps: generator steps of the run, for a preset with a learning-rate schedule
            (required by those when compiling).
        data_scale: for 1-D samples and a preset that normalises them (``points``): the
            data's scale (e.g. the root mean square of its coordinates); the networks divide
            their input and multiply their output by it, so they work at unit scale whatever
            the data's units. Ignored otherwise.
        jit_compile: passed to ``compile`` (the preset's choice when None: XLA for the
            ``points`` preset on 1-D samples, Keras' default otherwise).
        num_classes: classes of a conditional preset (10 when None); refused by the others.
        class_names: the classes' names (``num_classes`` strings), kept by the model.
        cluster_prior: for the ``clustered`` preset (required): the frequencies of the
            training images' clusters (:func:`keras_gan.mixture.image_clusters`); its length
            is the number of clusters. Refused by the other presets.
        networks: the image networks, overriding the preset's: ``"resize_conv"``, ``"dcgan"``
            or ``"mlp"`` (``width`` then defaults to that pair's: 16, 64). 1-D samples always
            use the MLP pair.

    Returns:
        A :class:`GAN`, compiled unless ``compile=False``.

    Example:
        >>> gan = build("dcgan", image_shape=(8, 8, 1), latent_dim=4, width=4, seed=0)
        >>> gan.generator.output_shape
        (None, 8, 8, 1)
        >>> cgan = build("cgan", image_shape=(8, 8, 1), latent_dim=4, width=4, num_classes=3)
        >>> cgan.num_classes, [t.name for t in cgan.generator.inputs]
        (3, ['z', 'labels'])
        >>> sc = build("clustered", image_shape=(8, 8, 1), latent_dim=4, width=4,
        ...            cluster_prior=[0.5, 0.3, 0.2])
        >>> sc.clusters, sc.num_classes, [t.name for t in sc.generator.inputs]
        (3, None, ['z'])
    """
    if name not in PRESETS:
        raise ValueError(f"unknown model preset; expected one of {available()}. Received: {name!r}")
    if precision is not None:
        previous = keras.config.dtype_policy()
        keras.config.set_dtype_policy(precision_policy(precision))
        try:
            return build(
                name,
                image_shape,
                latent_dim,
                width=width,
                hidden=hidden,
                d_lr=d_lr,
                g_lr=g_lr,
                discriminator_steps=discriminator_steps,
                loss=loss,
                critic_norm=critic_norm,
                ema_decay=ema_decay,
                seed=seed,
                compile=compile,
                run_eagerly=run_eagerly,
                total_steps=total_steps,
                data_scale=data_scale,
                jit_compile=jit_compile,
                num_classes=num_classes,
                class_names=class_names,
                cluster_prior=cluster_prior,
                networks=networks,
            )
        finally:
            keras.config.set_dtype_policy(previous)
    preset = PRESETS[name]
    if networks is not None and networks != preset.networks:
        if networks not in NETWORK_WIDTHS:
            raise ValueError(
                f"networks must be one of {sorted(NETWORK_WIDTHS)}. Received: networks={networks!r}"
            )
        preset = dataclasses.replace(preset, networks=networks, width=NETWORK_WIDTHS[networks])
    if preset.conditional is None and (num_classes is not None or class_names is not None):
        raise ValueError(
            f"the {name!r} preset is unconditional; num_classes and class_names are for "
            f"{[n for n in available() if PRESETS[n].conditional]}. Received: "
            f"num_classes={num_classes!r}, class_names={class_names!r}"
        )
    if preset.clusters is not None and cluster_prior is None:
        raise ValueError(
            f"the {name!r} preset is self-conditioned and needs cluster_prior, the frequencies "
            "of the training images' clusters (keras_gan.mixture.image_clusters). Received: "
            "cluster_prior=None"
        )
    if preset.clusters is None and cluster_prior is not None:
        raise ValueError(
            f"the {name!r} preset takes no cluster_prior (only "
            f"{[n for n in available() if PRESETS[n].clusters]} do). Received: "
            f"cluster_prior={cluster_prior!r}"
        )
    if preset.conditional is not None and num_classes is None:
        num_classes = len(class_names) if class_names is not None else DEFAULT_NUM_CLASSES
    if num_classes is not None:
        num_classes = check_positive_int(num_classes, "num_classes")
    shape = tuple(int(d) for d in image_shape)
    points = len(shape) == 1
    if latent_dim is None:
        latent_dim = preset.point_latent_dim if points else preset.latent_dim
    norm = preset.critic_norm if critic_norm is ... else critic_norm
    if points and norm == "batch":
        norm = None
    scale = 1.0
    if points and preset.point_scale and data_scale is not None:
        scale = check_positive_float(data_scale, "data_scale")
    prior = None if cluster_prior is None else check_prior(cluster_prior)
    # A conditional generator wraps the same base network, built for z and the label embedding
    # (a clustered one spends z[:, 0] on the cluster) ...
    g_inputs = latent_dim + (num_classes or 0)
    if prior is not None:
        g_inputs = latent_dim - 1 + len(prior)
    # ... and named as its part (the outer models are "generator" and "discriminator").
    prefix = "base_" if num_classes is not None or prior is not None else ""
    g_name, d_name = {"name": f"{prefix}generator"}, {"name": f"{prefix}discriminator"}
    if points or preset.networks == "mlp":
        g_hidden = tuple(hidden) if hidden else ((128, 128, 128) if points else (256, 512))
        d_hidden = tuple(hidden) if hidden else ((128, 128, 128) if points else (512, 256))
        generator = mlp_generator(
            g_inputs,
            shape,
            hidden=g_hidden,
            output_activation=None if points else "tanh",
            scale=scale,
            **g_name,
        )
        discriminator = mlp_discriminator(shape, hidden=d_hidden, norm=norm, scale=scale, **d_name)
    elif preset.networks == "resize_conv":
        width = width or preset.width
        generator = resize_conv_generator(g_inputs, shape, width=width, **g_name)
        discriminator = strided_discriminator(
            shape, width=2 * width, norm=norm, dropout=preset.critic_dropout, **d_name
        )
    else:
        width = width or preset.width
        generator = dcgan_generator(g_inputs, shape, width=width, **g_name)
        discriminator = dcgan_discriminator(
            shape, width=width, norm=norm, dropout=preset.critic_dropout, **d_name
        )
    if num_classes is not None:
        generator, discriminator = _conditional(
            preset.conditional, generator, discriminator, num_classes, latent_dim
        )
    if prior is not None:
        generator = clustered_generator(generator, prior, latent_dim)
        discriminator = projection_discriminator(discriminator, len(prior))
    if ema_decay is None:
        ema_decay = preset.ema_decay
    ema_decay = ema_decay or None
    gan = GAN(
        generator,
        discriminator,
        latent_dim=latent_dim,
        discriminator_steps=discriminator_steps or preset.discriminator_steps,
        penalty=preset.penalty,
        constraint=preset.constraint,
        ema_decay=ema_decay,
        seed=seed,
        num_classes=num_classes,
        class_names=class_names,
        name=name,
    )
    if compile:
        if not points and preset.image_lr is not None:
            d_lr = preset.image_lr if d_lr is None else d_lr
            g_lr = preset.image_lr if g_lr is None else g_lr
        if jit_compile is None:
            jit_compile = True if points and preset.point_jit_compile else "auto"
        gan.compile(
            d_optimizer=preset.d_optimizer(_learning_rate(preset, d_lr, total_steps, "d")),
            g_optimizer=preset.g_optimizer(_learning_rate(preset, g_lr, total_steps, "g")),
            loss=loss or preset.loss,
            run_eagerly=run_eagerly,
            jit_compile=False if run_eagerly else jit_compile,
        )
    return gan


def _conditional(
    kind: str,
    generator: keras.Model,
    discriminator: keras.Model,
    num_classes: int,
    latent_dim: int,
) -> tuple[keras.Model, keras.Model]:
    """The conditional pair around the preset's networks."""
    generator = conditional_generator(generator, num_classes, latent_dim=latent_dim)
    if kind == "projection":
        return generator, projection_discriminator(discriminator, num_classes)
    if kind == "auxiliary":
        return generator, acgan_discriminator(discriminator, num_classes)
    raise ValueError(f"unknown conditional kind {kind!r}; expected 'projection' or 'auxiliary'")


def _learning_rate(
    preset: Preset, override: float | None, total_steps: int | None, which: str
) -> LearningRate | None:
    """The rate (or schedule) of one optimizer: None keeps the preset's constant rate."""
    if preset.lr_schedule is None:
        return override
    if preset.lr_schedule != "cosine":
        raise ValueError(f"unknown lr_schedule {preset.lr_schedule!r}; expected None or 'cosine'")
    if total_steps is None:
        raise ValueError(
            "this preset decays its learning rate over the run: pass total_steps (the run's "
            f"generator steps) to build. Received: total_steps={total_steps!r}"
        )
    total_steps = check_positive_int(total_steps, "total_steps")
    factory = preset.d_optimizer if which == "d" else preset.g_optimizer
    initial = override or factory(None).learning_rate
    # The discriminator's optimizer counts critic steps: its schedule spans all of them.
    steps = int(total_steps) * (preset.discriminator_steps if which == "d" else 1)
    return keras.optimizers.schedules.CosineDecay(
        float(initial), steps, alpha=preset.final_lr_fraction
    )
