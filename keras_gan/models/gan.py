"""``GAN``: one Keras model, one ``train_step``, for every adversarial variant.

A variant is a composition, not a new trainer: a generator and a discriminator (any Keras
models), a loss pair (:mod:`keras_gan.losses`), an optional penalty (WGAN-GP's gradient penalty,
R1), an optional constraint (WGAN's weight clipping), and a number of discriminator steps per
generator step.

One training step (Goodfellow et al. 2014, Algorithm 1, alternating updates):

1. the generator maps ``k * m`` latent vectors to fakes, once, under the generator's tape;
2. ``k`` discriminator updates, each on ``m`` real and ``m`` fake samples (the fakes are
   constants to the discriminator), each followed by the constraint when there is one;
3. one generator update on all ``k * m`` fakes scored by the UPDATED discriminator, with
   ``discriminator.trainable = False``.

About freezing: in Keras 3 a layer with ``trainable = False`` also runs BatchNormalization in
inference mode, even when called with ``training=True``. Freezing the discriminator during the
generator update is therefore deliberate: its batch-norm moving statistics are not updated by
fake-only batches, and the generator is scored with the same normalisation the discriminator
uses at inference. The flag is toggled while ``train_step`` runs, so under ``tf.function`` it
takes effect when the step is traced (once), and on every step with ``run_eagerly=True``; it is
always restored, and the gradient of the generator update is taken with respect to generator
variables only.

Class-conditional generation: with ``num_classes`` the batches are ``(images, labels)``, the
generator is called ``G([z, labels])`` on fake labels drawn uniformly over the classes, and the
discriminator ``D([x, labels])`` when it takes labels (the projection discriminator of
:func:`keras_gan.networks.projection_discriminator`). A discriminator with two outputs
``[logits, class_logits]`` (ACGAN, :func:`keras_gan.networks.acgan_discriminator`) adds
``auxiliary_weight`` times the classification terms of :mod:`keras_gan.losses.auxiliary` to
both losses. The same ``train_step`` serves both; an unconditional GAN ignores labels.

Self-conditioning: a generator with a :class:`~keras_gan.networks.LatentClass` layer
(:func:`~keras_gan.networks.clustered_generator`) draws a cluster from its own latent vector,
so the GAN is unconditional to its users (``num_classes`` is None, ``generate(n)``), but it
trains on ``(images, cluster_ids)`` batches and the discriminator judges ``D([x, cluster])``:
the real images' cluster ids come with the data, and the fakes' are the ones the generator
drew from their ``z``. ``clusters`` is the number of clusters.

Distribution: per-sample losses are reduced by the GLOBAL batch size
(:func:`keras_gan.losses.reduce_per_sample`), and the latent noise, the penalty interpolation
weights and the fake labels are stateless draws seeded by ``(seed, step)`` for the global batch,
each replica keeping its slice (:func:`keras_gan.losses.replica_slice`): K steps on N replicas equal
K steps on one device with the same global batch. The step counter is the generator optimizer's
``iterations``, so a run restored from a checkpoint (``BackupAndRestore``) draws the same noise as
an uninterrupted one: there is no ``SeedGenerator`` state behind the noise to save. The networks'
own stateful generators (the ``SeedGenerator`` of each dropout layer) ARE saved with the weights
(:meth:`GAN.save_own_variables`), which Keras does not do by itself, so a restored run also draws
the same dropout masks. See :mod:`keras_gan.distribute` and ``docs/distributed.md``.

Example:
    >>> from keras_gan.networks import dcgan_discriminator, dcgan_generator
    >>> gan = GAN(dcgan_generator(latent_dim=100), dcgan_discriminator(), latent_dim=100)
    >>> gan.compile(
    ...     d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    ...     g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    ...     loss="non_saturating",
    ... )
    >>> gan.fit(dataset, epochs=5)  # doctest: +SKIP
    >>> images = gan.generate(16, seed=0)  # doctest: +SKIP
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from keras_gan import losses as losses_lib
from keras_gan._checks import (
    check_in_interval,
    check_non_negative_int,
    check_positive_int,
)
from keras_gan.distribute import scalar_logs_workaround
from keras_gan.losses import (
    AdversarialLoss,
    Penalty,
    WeightClip,
    acgan_discriminator_loss,
    acgan_generator_loss,
    get_constraint,
    get_penalty,
    reduce_per_sample,
    replica_slice,
)
from keras_gan.networks.clustered import latent_class_layer, latent_classes
from keras_gan.serving.labels import ClassLabels
from keras_gan.serving.latent import latent as latent_recipe

# Independent random streams within one step (the seed's second word is step * _STREAMS + id).
_STREAMS = 64
_LATENT_STREAM = 0
_PENALTY_STREAM = 1  # + critic step index
_LABEL_STREAM = _STREAMS - 1  # the fake labels of a conditional GAN


def _check_model(value: Any, name: str) -> keras.Model:
    if not isinstance(value, keras.layers.Layer):
        raise TypeError(f"{name} must be a keras.Model. Received: {name}={value!r}")
    return value


def _count(model: keras.Model, what: str) -> int:
    """Inputs or outputs of a functional model (1 for a model that does not declare them)."""
    try:
        tensors = getattr(model, what)
    except (AttributeError, ValueError):
        return 1
    return len(tensors) if isinstance(tensors, list | tuple) else 1


def _check_class_names(names: Any, num_classes: int | None) -> tuple[str, ...] | None:
    if names is None:
        return None
    if num_classes is None:
        raise ValueError(f"class_names need num_classes. Received: class_names={names!r}")
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"class_names must be a sequence of strings. Received: {names!r}")
    names = tuple(names)
    if len(names) != num_classes:
        raise ValueError(
            f"class_names must hold num_classes={num_classes} names. Received: "
            f"{len(names)} names {names!r}"
        )
    return names


def _input_dim(generator: keras.Model) -> int | None:
    try:
        shape = generator.input_shape
    except (AttributeError, ValueError):
        return None
    if isinstance(shape, list):
        shape = shape[0]
    if shape is None or len(shape) != 2 or shape[-1] is None:
        return None
    return int(shape[-1])


@keras.saving.register_keras_serializable(package="keras_gan")
class GAN(keras.Model):
    """A generative adversarial network trained with ``fit``.

    Args:
        generator: a Keras model from ``(batch, latent_dim)`` latent vectors to samples.
        discriminator: a Keras model from samples to ``(batch, 1)`` outputs (logits for
            probabilistic losses, scores for a critic).
        latent_dim: size of the latent vector; read from the generator's input when None.
        discriminator_steps: discriminator (critic) updates per generator update (WGAN: 5).
            Each batch is split into this many parts, so the batch size must be a multiple.
        penalty: None, ``"gp"``, ``"r1"`` or a :class:`~keras_gan.losses.Penalty`.
        constraint: None, ``"weight_clip"``, a clip value or a
            :class:`~keras_gan.losses.WeightClip`, applied after each discriminator update.
        ema_decay: keep an exponential moving average of the generator's weights with this
            decay (e.g. 0.999); the average is what :meth:`generate`, :meth:`call` and export
            use. None disables it.
        seed: seed of the latent noise and penalty draws; a random one when None (stored in
            the config, so a reloaded model continues the same streams).
        num_classes: number of classes of a class-conditional GAN (None: unconditional). The
            generator then takes ``[z, labels]`` (see
            :func:`~keras_gan.networks.conditional_generator`), the batches are
            ``(images, labels)`` with int labels in ``[0, num_classes)``, and the discriminator
            takes ``[images, labels]`` when it has two inputs.
        class_names: the classes' names (``num_classes`` strings), kept for sampling by name.
        auxiliary_weight: weight of ACGAN's classification terms; 1.0 by default when the
            discriminator returns ``[logits, class_logits]``, and refused otherwise.
        **kwargs: ``keras.Model`` arguments such as ``name``.

    Example:
        >>> from keras_gan.networks import mlp_discriminator, mlp_generator
        >>> gan = GAN(mlp_generator(4, (8, 8, 1), hidden=(16,)), mlp_discriminator((8, 8, 1)))
        >>> gan.latent_dim
        4
        >>> from keras_gan.networks import conditional_generator, projection_discriminator
        >>> cgan = GAN(
        ...     conditional_generator(lambda d: mlp_generator(d, (2,), hidden=(8,)), 3, 2),
        ...     projection_discriminator(mlp_discriminator((2,), hidden=(8,)), 3),
        ...     num_classes=3,
        ... )
        >>> cgan.generate(2, labels=[0, 2], seed=0).shape
        (2, 2)
    """

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        latent_dim: int | None = None,
        discriminator_steps: int = 1,
        penalty: str | Penalty | dict[str, Any] | None = None,
        constraint: str | float | WeightClip | dict[str, Any] | None = None,
        ema_decay: float | None = None,
        seed: int | None = None,
        num_classes: int | None = None,
        class_names: Any = None,
        auxiliary_weight: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.generator = _check_model(generator, "generator")
        self.discriminator = _check_model(discriminator, "discriminator")
        inferred = _input_dim(generator)
        if latent_dim is None:
            if inferred is None:
                raise ValueError(
                    "latent_dim could not be read from the generator's input shape "
                    f"{getattr(generator, 'input_shape', None)}; pass latent_dim"
                )
            latent_dim = inferred
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        if inferred is not None and inferred != self.latent_dim:
            raise ValueError(
                f"latent_dim must be a positive integer matching the generator's input "
                f"({inferred}). Received: latent_dim={latent_dim!r}"
            )
        self.discriminator_steps = check_positive_int(discriminator_steps, "discriminator_steps")
        self.num_classes = check_positive_int(num_classes, "num_classes", allow_none=True)
        self.class_names = _check_class_names(class_names, self.num_classes)
        latent_class = latent_class_layer(generator)
        #: Clusters a self-conditioned generator draws from (None for any other generator).
        self.clusters = None if latent_class is None else latent_class.num_classes
        # A function, not the layer: the layer is the generator's, and must not be tracked twice.
        self._cluster_edges = None if latent_class is None else latent_class.edges.tolist()
        self._check_conditional(generator, discriminator)
        self._discriminator_takes_labels = _count(discriminator, "inputs") == 2
        if _count(discriminator, "outputs") == 2:
            if auxiliary_weight is None:
                auxiliary_weight = 1.0
            self.auxiliary_weight = check_in_interval(
                auxiliary_weight, "auxiliary_weight", 0.0, float("inf"), include_low=True
            )
        elif auxiliary_weight is not None:
            raise ValueError(
                "auxiliary_weight weighs ACGAN's classification loss, but the discriminator "
                f"{discriminator.name!r} has no class output (it returns one tensor). "
                f"Received: auxiliary_weight={auxiliary_weight!r}"
            )
        else:
            self.auxiliary_weight = None
        self.penalty = get_penalty(penalty)
        if self.penalty is not None:
            self.penalty.check_discriminator(discriminator)
        self.constraint = get_constraint(constraint)
        self.ema_decay = check_in_interval(
            ema_decay, "ema_decay", 0.0, 1.0, include_low=False, allow_none=True
        )
        if seed is None:
            seed = secrets.randbelow(2**31)
        self.seed = check_non_negative_int(seed, "seed", allow_none=True)
        if self.ema_decay is not None:
            self.ema_generator = keras.models.clone_model(generator)
            self.ema_generator.set_weights(generator.get_weights())
            self.ema_generator.trainable = False
        else:
            self.ema_generator = None
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")
        self.distance_tracker = keras.metrics.Mean(name="w_distance")
        self.penalty_tracker = keras.metrics.Mean(name="penalty")
        self.d_class_tracker = keras.metrics.Mean(name="d_class_loss")
        self.g_class_tracker = keras.metrics.Mean(name="g_class_loss")
        self.loss_pair: AdversarialLoss = losses_lib.get("non_saturating")
        self.d_optimizer: keras.optimizers.Optimizer | None = None
        self.g_optimizer: keras.optimizers.Optimizer | None = None
        # The input is a latent vector, not a data batch: never let Keras probe-build with data.
        self.built = True

    def _check_conditional(self, generator: keras.Model, discriminator: keras.Model) -> None:
        """The networks' inputs and outputs must match ``num_classes``."""
        g_inputs = _count(generator, "inputs")
        d_inputs = _count(discriminator, "inputs")
        d_outputs = _count(discriminator, "outputs")
        if self.clusters is not None:
            if self.num_classes is not None or g_inputs != 1:
                raise ValueError(
                    f"the generator {generator.name!r} draws its cluster from z (a LatentClass "
                    "layer), so the GAN is unconditional: leave num_classes None. Received: "
                    f"num_classes={self.num_classes!r}"
                )
            if (d_inputs == 1 and d_outputs == 1) or d_inputs > 2 or d_outputs > 2:
                raise ValueError(
                    f"a self-conditioned GAN ({self.clusters} clusters) needs a discriminator "
                    "that takes [images, cluster_ids] (projection_discriminator) or returns "
                    f"cluster logits. Received: {discriminator.name!r} with {d_inputs} input(s) "
                    f"and {d_outputs} output(s)"
                )
            return
        if self.num_classes is None:
            if g_inputs != 1 or d_inputs != 1 or d_outputs != 1:
                raise ValueError(
                    "a generator taking [z, labels], a discriminator taking [images, labels] or "
                    "returning class logits needs num_classes. Received: num_classes=None with "
                    f"{g_inputs} generator input(s), {d_inputs} discriminator input(s) and "
                    f"{d_outputs} discriminator output(s)"
                )
            return
        if g_inputs != 2:
            raise ValueError(
                f"a conditional GAN (num_classes={self.num_classes}) needs a generator taking "
                "[z, labels] (see keras_gan.networks.conditional_generator). Received: a "
                f"generator {generator.name!r} with {g_inputs} input(s)"
            )
        if d_inputs == 1 and d_outputs == 1:
            raise ValueError(
                f"a conditional GAN (num_classes={self.num_classes}) needs a discriminator that "
                "takes [images, labels] (projection_discriminator) or returns class logits "
                f"(acgan_discriminator). Received: {discriminator.name!r} with one input and "
                "one output"
            )
        if d_inputs > 2 or d_outputs > 2:
            raise ValueError(
                "the discriminator must take images or [images, labels] and return logits or "
                f"[logits, class_logits]. Received: {d_inputs} inputs and {d_outputs} outputs"
            )

    @property
    def conditional(self) -> bool:
        """Whether the GAN generates by class (``num_classes`` is set).

        Example:
            >>> gan.conditional  # doctest: +SKIP
            False
        """
        return self.num_classes is not None

    # ------------------------------------------------------------------ configuration

    def compile(
        self,
        d_optimizer: str | keras.optimizers.Optimizer = "adam",
        g_optimizer: str | keras.optimizers.Optimizer = "adam",
        loss: str | AdversarialLoss | dict[str, Any] = "non_saturating",
        **kwargs: Any,
    ) -> None:
        """Configure training with one optimizer per network and a loss pair.

        Args:
            d_optimizer: the discriminator's optimizer (an instance, or a Keras name).
            g_optimizer: the generator's optimizer; a different object from ``d_optimizer``,
                so the two learning rates (TTUR) and states are independent.
            loss: a loss-pair name (``"non_saturating"``, ``"minimax"``, ``"wasserstein"``,
                ``"hinge"``, ``"least_squares"``) or an :class:`~keras_gan.losses.AdversarialLoss`.
            **kwargs: ``keras.Model.compile`` arguments such as ``run_eagerly``, ``jit_compile``
                or ``steps_per_execution``. ``auto_scale_loss`` (default True) wraps BOTH
                optimizers in a ``keras.optimizers.LossScaleOptimizer`` when either network
                computes in float16 (the ``mixed_float16`` dtype policy), as ``Model.compile``
                does for its one optimizer.

        Example:
            >>> gan.compile(Adam(4e-4), Adam(1e-4))  # doctest: +SKIP
        """
        for key in ("optimizer", "metrics", "loss_weights", "weighted_metrics"):
            if key in kwargs:
                raise TypeError(
                    f"GAN.compile takes d_optimizer, g_optimizer and loss, not {key!r}. "
                    f"Received: {key}={kwargs[key]!r}"
                )
        d_optimizer = keras.optimizers.get(d_optimizer)
        g_optimizer = keras.optimizers.get(g_optimizer)
        if d_optimizer is g_optimizer:
            raise ValueError(
                "d_optimizer and g_optimizer must be two optimizer objects (each keeps state for "
                "its own network's variables). Received the same object twice."
            )
        if kwargs.get("auto_scale_loss", True) and self._computes_in_float16():
            d_optimizer, g_optimizer = (
                opt
                if isinstance(opt, keras.optimizers.LossScaleOptimizer)
                else keras.optimizers.LossScaleOptimizer(opt, name=f"{which}_loss_scale_optimizer")
                for which, opt in (("d", d_optimizer), ("g", g_optimizer))
            )
        # optimizer=None: Keras would otherwise create an optimizer that nothing uses.
        super().compile(optimizer=None, **kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_pair = losses_lib.get(loss)
        # Build both now: an optimizer built inside the first traced step would trace it twice.
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    def _computes_in_float16(self) -> bool:
        return any(
            getattr(model.dtype_policy, "compute_dtype", None) == "float16"
            for model in (self, self.generator, self.discriminator)
        )

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, sub-models included, for ``.keras`` saving.

        Example:
            >>> sorted(gan.get_config())[:3]  # doctest: +SKIP
            ['discriminator', 'discriminator_steps', 'ema_decay']
        """
        base = super().get_config()
        ser = keras.saving.serialize_keras_object
        config = {
            "generator": ser(self.generator),
            "discriminator": ser(self.discriminator),
            "latent_dim": self.latent_dim,
            "discriminator_steps": self.discriminator_steps,
            "penalty": None if self.penalty is None else ser(self.penalty),
            "constraint": None if self.constraint is None else ser(self.constraint),
            "ema_decay": self.ema_decay,
            "seed": self.seed,
            "num_classes": self.num_classes,
            "class_names": None if self.class_names is None else list(self.class_names),
            "auxiliary_weight": self.auxiliary_weight,
        }
        return {**base, **config}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> GAN:
        """Rebuild from :meth:`get_config`.

        Example:
            >>> clone = GAN.from_config(gan.get_config())  # doctest: +SKIP
        """
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(
                config[key], custom_objects=custom_objects
            )
        return cls(**config)

    def fit(self, x: Any = None, y: Any = None, *args: Any, **kwargs: Any) -> Any:
        """``keras.Model.fit``, with ``shuffle`` off by default for a dataset.

        Keras ignores ``shuffle`` for a ``tf.data.Dataset`` (shuffle it with ``.shuffle``) and
        warns about it on every call while its default is True; numpy arrays keep Keras'
        default (shuffled).

        Example:
            >>> gan.fit(dataset, epochs=5)  # doctest: +SKIP
        """
        positional_shuffle = len(args) > 6  # batch_size, epochs, ..., validation_data, shuffle
        if not positional_shuffle and isinstance(
            x, (tf.data.Dataset, tf.distribute.DistributedDataset)
        ):
            kwargs.setdefault("shuffle", False)
        return super().fit(x, y, *args, **kwargs)

    def get_compile_config(self) -> dict[str, Any] | None:
        """The optimizers and loss pair, so a loaded ``.keras`` model can keep training.

        Example:
            >>> sorted(gan.get_compile_config())  # doctest: +SKIP
            ['d_optimizer', 'g_optimizer', 'loss', 'run_eagerly']
        """
        if self.d_optimizer is None or self.g_optimizer is None:
            return None
        ser = keras.saving.serialize_keras_object
        return {
            "d_optimizer": ser(self.d_optimizer),
            "g_optimizer": ser(self.g_optimizer),
            "loss": ser(self.loss_pair),
            "run_eagerly": bool(self.run_eagerly),
        }

    def compile_from_config(self, config: dict[str, Any]) -> None:
        """Compile from :meth:`get_compile_config` (called by ``keras.models.load_model``).

        Example:
            >>> gan.compile_from_config(other.get_compile_config())  # doctest: +SKIP
        """
        de = keras.saving.deserialize_keras_object
        self.compile(
            d_optimizer=de(config["d_optimizer"]),
            g_optimizer=de(config["g_optimizer"]),
            loss=de(config["loss"]),
            run_eagerly=config.get("run_eagerly", False),
        )

    # ------------------------------------------------------------------ checkpoint state

    def _seed_states(self) -> list[Any]:
        """The state variables of every ``keras.random.SeedGenerator`` in the sub-networks."""
        states, seen = [], set()
        # Private Keras API: Layer.variables holds these states too, but in another order, and
        # the saved keys seed_state_<i> of existing checkpoints follow this one.
        for layer in self._flatten_layers(include_self=False):
            for generator in getattr(layer, "_seed_generators", []):
                if id(generator.state) not in seen:
                    seen.add(id(generator.state))
                    states.append(generator.state)
        return states

    def save_own_variables(self, store: Any) -> None:
        """Save the model's variables and the dropout ``SeedGenerator`` states of its networks.

        Keras saves a layer's weights but not its seed generators, so a model restored by
        ``BackupAndRestore`` would draw different dropout masks than an uninterrupted run.

        Example:
            >>> gan.save_weights("gan.weights.h5")  # doctest: +SKIP
        """
        super().save_own_variables(store)
        for i, state in enumerate(self._seed_states()):
            store[f"seed_state_{i}"] = state

    def load_own_variables(self, store: Any) -> None:
        """Load what :meth:`save_own_variables` wrote (files without seed states load too).

        Example:
            >>> gan.load_weights("gan.weights.h5")  # doctest: +SKIP
        """
        keys = list(store.keys())
        seeds = sorted(
            (k for k in keys if str(k).startswith("seed_state_")), key=lambda k: int(k[11:])
        )
        skip = set(seeds)
        super().load_own_variables({k: store[k] for k in keys if k not in skip})
        states = self._seed_states()
        if seeds and len(seeds) != len(states):
            raise ValueError(
                f"the checkpoint holds {len(seeds)} dropout seed states but {self.name} has "
                f"{len(states)}: it was saved from different networks"
            )
        for key, state in zip(seeds, states, strict=False):
            state.assign(store[key])

    # ------------------------------------------------------------------ properties

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        """The trackers Keras resets each epoch: d_loss, g_loss, d_real, d_fake (+ w_distance,
        penalty, d_class_loss and g_class_loss when they apply)."""
        trackers = [
            self.d_loss_tracker,
            self.g_loss_tracker,
            self.d_real_tracker,
            self.d_fake_tracker,
        ]
        if self.loss_pair.reports_distance:
            trackers.append(self.distance_tracker)
        if self.penalty is not None:
            trackers.append(self.penalty_tracker)
        if self.auxiliary_weight is not None:
            trackers += [self.d_class_tracker, self.g_class_tracker]
        return trackers

    @property
    def sampling_generator(self) -> keras.Model:
        """The generator used for sampling and export: the EMA copy when enabled.

        Example:
            >>> gan.sampling_generator is gan.generator  # doctest: +SKIP
            True
        """
        return self.ema_generator if self.ema_generator is not None else self.generator

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """Shape of one generated sample, e.g. ``(28, 28, 1)``.

        Example:
            >>> gan.sample_shape  # doctest: +SKIP
            (28, 28, 1)
        """
        return tuple(int(d) for d in self.generator.output_shape[1:])

    # ------------------------------------------------------------------ randomness

    def _seed(self, stream: int) -> tf.Tensor:
        step = tf.cast(self.g_optimizer.iterations, tf.int64)
        return tf.stack([tf.constant(self.seed, tf.int64), step * _STREAMS + stream])

    def _latent(self, rows: tf.Tensor) -> tf.Tensor:
        seed = self._seed(_LATENT_STREAM)
        return replica_slice(
            lambda n: tf.random.stateless_normal([n, self.latent_dim], seed=seed), rows
        )

    def _fake_labels(self, rows: tf.Tensor) -> tf.Tensor:
        """Labels of the fakes: uniform over the classes, int32, this replica's slice."""
        seed = self._seed(_LABEL_STREAM)
        return replica_slice(
            lambda n: tf.random.stateless_uniform(
                [n], seed=seed, minval=0, maxval=self.num_classes, dtype=tf.int32
            ),
            rows,
        )

    def _fakes(self, rows: tf.Tensor, training: bool) -> tuple[tf.Tensor, tf.Tensor | None]:
        """This step's fakes and their labels: drawn for a conditional GAN, the clusters the
        generator drew from ``z`` for a self-conditioned one, None otherwise. Call it under
        the generator's tape."""
        z = self._latent(rows)
        if self.clusters is not None:
            return self.generator(z, training=training), latent_classes(z, self._cluster_edges)
        labels = self._fake_labels(rows) if self.conditional else None
        return self._generate(z, labels, training=training), labels

    def _generate(self, z: tf.Tensor, labels: tf.Tensor | None, training: bool) -> tf.Tensor:
        if labels is None:
            return self.generator(z, training=training)
        return self.generator([z, labels], training=training)

    def _discriminate(
        self, x: tf.Tensor, labels: tf.Tensor | None, training: bool
    ) -> tuple[tf.Tensor, tf.Tensor | None]:
        """The discriminator's float32 logits, and its class logits (None without them)."""
        inputs = [x, labels] if self._discriminator_takes_labels else x
        outputs = self.discriminator(inputs, training=training)
        if self.auxiliary_weight is None:
            return tf.cast(outputs, tf.float32), None
        logits, class_logits = outputs
        return tf.cast(logits, tf.float32), tf.cast(class_logits, tf.float32)

    # ------------------------------------------------------------------ training

    def _check_compiled(self) -> None:
        if self.d_optimizer is None or self.g_optimizer is None:
            raise RuntimeError("call gan.compile(d_optimizer, g_optimizer, loss) before fit")

    def discriminator_update(
        self,
        real: tf.Tensor,
        fake: tf.Tensor,
        penalty_seed: tf.Tensor,
        real_labels: tf.Tensor | None = None,
        fake_labels: tf.Tensor | None = None,
    ) -> dict[str, tf.Tensor]:
        """One discriminator (critic) update on a real and a fake batch; returns batch means.

        The fakes are treated as constants. The constraint, if any, is applied right after.
        Outputs and losses are float32 whatever the networks compute in, and the loss is scaled
        by the optimizer (``scale_loss``: a no-op unless it is a ``LossScaleOptimizer``).
        A conditional GAN passes the labels of both batches; the penalty scores its points with
        the real labels (held fixed), and ACGAN's classification loss, times
        ``auxiliary_weight``, joins the adversarial one (logged apart as ``d_class_loss``).

        Example:
            >>> stats = gan.discriminator_update(real, fake, tf.constant([0, 1]))  # doctest: +SKIP
        """
        fake = tf.stop_gradient(fake)
        variables = self.discriminator.trainable_variables
        with tf.GradientTape() as tape:
            real_out, real_classes = self._discriminate(real, real_labels, training=True)
            fake_out, fake_classes = self._discriminate(fake, fake_labels, training=True)
            per_sample = self.loss_pair.discriminator_loss(real_out, fake_out)
            total = per_sample
            penalty = class_loss = None
            if self.penalty is not None:
                labels = real_labels if self._discriminator_takes_labels else None
                penalty = self.penalty(self.discriminator, real, fake, penalty_seed, labels=labels)
                total = total + penalty
            if real_classes is not None:
                class_loss = acgan_discriminator_loss(
                    real_classes, real_labels, fake_classes, fake_labels
                )
                total = total + self.auxiliary_weight * class_loss
            loss = reduce_per_sample(total)
            scaled = self.d_optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, variables)
        self.d_optimizer.apply(grads, variables)
        if self.constraint is not None:
            self.constraint.apply(variables)
        stats = {
            "d_loss": tf.reduce_mean(per_sample),
            "d_real": tf.reduce_mean(self.loss_pair.score(real_out)),
            "d_fake": tf.reduce_mean(self.loss_pair.score(fake_out)),
            "w_distance": tf.reduce_mean(tf.reshape(real_out, [-1]))
            - tf.reduce_mean(tf.reshape(fake_out, [-1])),
        }
        if penalty is not None:
            stats["penalty"] = tf.reduce_mean(penalty)
        if class_loss is not None:
            stats["d_class_loss"] = tf.reduce_mean(class_loss)
        return stats

    def generator_update(
        self, tape: tf.GradientTape, fake: tf.Tensor, fake_labels: tf.Tensor | None = None
    ) -> tf.Tensor:
        """The generator update on fakes produced under ``tape``, with the discriminator frozen.

        Returns the batch mean of the generator loss (the adversarial term; ACGAN's
        classification term, times ``auxiliary_weight``, is added to what is minimised and
        tracked as ``g_class_loss``). ``fake_labels`` are the labels the fakes were generated
        with (conditional GANs only).

        Example:
            >>> with tf.GradientTape() as tape:  # doctest: +SKIP
            ...     fake = gan.generator(z, training=True)
            >>> gan.generator_update(tape, fake)  # doctest: +SKIP
        """
        self.discriminator.trainable = False
        try:
            with tape:
                fake_out, fake_classes = self._discriminate(fake, fake_labels, training=True)
                per_sample = self.loss_pair.generator_loss(fake_out)
                total = per_sample
                if fake_classes is not None:
                    class_loss = acgan_generator_loss(fake_classes, fake_labels)
                    total = total + self.auxiliary_weight * class_loss
                    self.g_class_tracker.update_state(tf.reduce_mean(class_loss))
                loss = reduce_per_sample(total)
                scaled = self.g_optimizer.scale_loss(loss)
        finally:
            self.discriminator.trainable = True
        variables = self.generator.trainable_variables
        grads = tape.gradient(scaled, variables)
        self.g_optimizer.apply(grads, variables)
        if self.ema_generator is not None:
            self._update_ema()
        return tf.reduce_mean(per_sample)

    def _update_ema(self) -> None:
        decay = self.ema_decay
        trainable = {id(v) for v in self.generator.trainable_variables}
        for average, value in zip(self.ema_generator.weights, self.generator.weights, strict=True):
            if id(value) in trainable:
                average.assign(decay * average + (1.0 - decay) * value)
            else:  # batch-norm moving statistics are copied, not averaged
                average.assign(value)

    def _split(self, batch: tf.Tensor) -> list[tf.Tensor]:
        """Split a batch into ``discriminator_steps`` strided parts (rows i, i+k, i+2k, ...).

        Strided rather than contiguous so each part holds the same rows whether the global
        batch runs on one device or is split contiguously over replicas.
        """
        k = self.discriminator_steps
        if k == 1:
            return [batch]
        message = (
            f"the batch size must be a multiple of discriminator_steps={k} (each batch is "
            "split into one part per critic step)"
        )
        static_rows = batch.shape[0]
        if static_rows is not None and static_rows % k:
            raise ValueError(f"{message}. Received: batch size {static_rows}")
        rows = tf.shape(batch)[0]
        check = tf.debugging.assert_equal(rows % k, 0, message=message)
        with tf.control_dependencies([check]):
            batch = tf.identity(batch)
        grouped = tf.reshape(batch, tf.concat([[rows // k, k], tf.shape(batch)[1:]], 0))
        return [grouped[:, i] for i in range(k)]

    def train_step(self, data: Any) -> dict[str, tf.Tensor]:
        """One generator update after ``discriminator_steps`` discriminator updates, or several
        such steps fused into one call.

        A batch of shape ``(rows, *sample_shape)`` is one generator step. A batch with one more
        axis, ``(rows, steps, *sample_shape)``, holds ``steps`` consecutive step batches
        (``batch[:, i]`` is step ``i``'s) and runs them one after the other inside this call:
        the same maths as ``steps`` calls (the noise is keyed by the step counter, which moves
        once per generator step), with one graph call, one data fetch and one round of
        callbacks instead of ``steps``. That is what makes small networks fast: their steps are
        dominated by per-call and per-op overhead (see :func:`keras_gan.distribute.
        resumable_dataset`'s ``steps_per_call``). The step axis is the second one so that a
        distribution strategy, which splits the first axis over replicas, gives each replica
        its share of every step's rows.

        A conditional GAN takes ``(images, labels)`` batches: int labels of shape ``(rows,)``,
        or ``(rows, steps)`` with fused steps (``labels[:, i]`` labels ``images[:, i]``).

        Example:
            >>> logs = gan.train_step(real_batch)  # doctest: +SKIP
            >>> sorted(logs)  # doctest: +SKIP
            ['d_fake', 'd_loss', 'd_real', 'g_loss']
        """
        self._check_compiled()
        real, labels = self._unpack(data)
        sample_shape = self.sample_shape
        if real.shape.rank == len(sample_shape) + 2 and tuple(real.shape[2:]) == sample_shape:
            self._check_labels_shape(labels, real, 2)
            self._fused_steps(real, labels)
        elif real.shape.rank is not None and real.shape.rank >= len(sample_shape) + 1:
            # One step; Keras also accepts a trailing axis of size 1, e.g. (rows, 16, 16, 1, 1).
            self._check_labels_shape(labels, real, 1)
            self._one_step(real, labels)
        else:
            shape = ", ".join(map(str, sample_shape))
            raise ValueError(
                f"expected a batch of shape (rows, {shape}) or (rows, steps, {shape}) for fused "
                f"steps. Received: shape {tuple(real.shape)}"
            )
        # Scalars get a leading axis under MultiWorkerMirroredStrategy (tensorflow#72388).
        return scalar_logs_workaround({metric.name: metric.result() for metric in self.metrics})

    def _unpack(self, data: Any) -> tuple[tf.Tensor, tf.Tensor | None]:
        """The real samples and, for a conditional GAN, their int32 labels."""
        real, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        real = tf.convert_to_tensor(real)
        if not self.conditional and self.clusters is None:
            return real, None  # an unconditional GAN ignores labels
        if labels is None:
            if self.clusters is not None:
                raise ValueError(
                    f"a self-conditioned GAN ({self.clusters} clusters) trains on (images, "
                    "cluster_ids) batches (keras_gan.mixture.image_clusters). Received: images "
                    "without cluster ids"
                )
            raise ValueError(
                f"a conditional GAN (num_classes={self.num_classes}) trains on (images, labels) "
                "batches. Received: images without labels"
            )
        labels = tf.convert_to_tensor(labels)
        if not labels.dtype.is_integer:
            raise ValueError(f"labels must be integers. Received: labels of dtype {labels.dtype}")
        return real, tf.cast(labels, tf.int32)

    @staticmethod
    def _check_labels_shape(labels: tf.Tensor | None, real: tf.Tensor, rank: int) -> None:
        if labels is None:
            return
        expected = real.shape[:rank]
        if labels.shape.rank is not None and (
            labels.shape.rank != rank or not labels.shape.is_compatible_with(expected)
        ):
            raise ValueError(
                f"labels must have the shape {tuple(expected)} of the images' leading axes "
                f"(rows{', steps' if rank == 2 else ''}). Received: labels of shape "
                f"{tuple(labels.shape)} with images of shape {tuple(real.shape)}"
            )

    def _fused_steps(self, stacked: tf.Tensor, labels: tf.Tensor | None = None) -> None:
        """Run ``stacked.shape[1]`` generator steps in order, in one graph (a while loop).

        The loop is sequential (``parallel_iterations=1``) and each iteration's counter depends
        on its step's updates, so a step reads the weights and the step counter (hence the
        noise seed) its predecessor wrote.
        """
        steps = tf.shape(stacked)[1]

        def body(i: tf.Tensor) -> tuple[tf.Tensor]:
            step_labels = None if labels is None else tf.gather(labels, i, axis=1)
            done = self._one_step(tf.gather(stacked, i, axis=1), step_labels)
            with tf.control_dependencies(done):
                return (i + 1,)

        tf.while_loop(lambda i: i < steps, body, (tf.constant(0),), parallel_iterations=1)

    def _one_step(self, real: tf.Tensor, labels: tf.Tensor | None = None) -> list[tf.Tensor]:
        """One generator step on one step batch; returns the tensors it computed last."""
        rows = tf.shape(real)[0]
        with tf.GradientTape() as g_tape:
            fake, fake_labels = self._fakes(rows, training=True)
        fake = tf.cast(fake, real.dtype) if fake.dtype != real.dtype else fake
        real_parts, fake_parts = self._split(real), self._split(fake)
        k = self.discriminator_steps
        real_label_parts = [None] * k if labels is None else self._split(labels)
        fake_label_parts = [None] * k if fake_labels is None else self._split(fake_labels)
        parts = zip(real_parts, fake_parts, real_label_parts, fake_label_parts, strict=True)
        for step, (real_part, fake_part, real_part_labels, fake_part_labels) in enumerate(parts):
            stats = self.discriminator_update(
                real_part,
                fake_part,
                self._seed(_PENALTY_STREAM + step),
                real_labels=real_part_labels,
                fake_labels=fake_part_labels,
            )
            self.d_loss_tracker.update_state(stats["d_loss"])
            self.d_real_tracker.update_state(stats["d_real"])
            self.d_fake_tracker.update_state(stats["d_fake"])
            if self.loss_pair.reports_distance:  # only tracked where it is reported
                self.distance_tracker.update_state(stats["w_distance"])
            if "penalty" in stats:
                self.penalty_tracker.update_state(stats["penalty"])
            if "d_class_loss" in stats:
                self.d_class_tracker.update_state(stats["d_class_loss"])
        g_loss = self.generator_update(g_tape, fake, fake_labels)
        self.g_loss_tracker.update_state(g_loss)
        # The step counter moved inside generator_update; reading it orders the next step.
        return [g_loss, self.g_optimizer.iterations.value]

    def test_step(self, data: Any) -> dict[str, tf.Tensor]:
        """Losses and discriminator outputs on a batch, without updating anything.

        Example:
            >>> gan.evaluate(test_dataset)  # doctest: +SKIP
        """
        self._check_compiled()
        real, labels = self._unpack(data)
        self._check_labels_shape(labels, real, 1)
        rows = tf.shape(real)[0]
        fake, fake_labels = self._fakes(rows, training=False)
        real_out, real_classes = self._discriminate(real, labels, training=False)
        fake_out, fake_classes = self._discriminate(fake, fake_labels, training=False)
        if real_classes is not None:
            self.d_class_tracker.update_state(
                tf.reduce_mean(
                    acgan_discriminator_loss(real_classes, labels, fake_classes, fake_labels)
                )
            )
            self.g_class_tracker.update_state(
                tf.reduce_mean(acgan_generator_loss(fake_classes, fake_labels))
            )
        self.d_loss_tracker.update_state(
            tf.reduce_mean(self.loss_pair.discriminator_loss(real_out, fake_out))
        )
        self.g_loss_tracker.update_state(tf.reduce_mean(self.loss_pair.generator_loss(fake_out)))
        self.d_real_tracker.update_state(tf.reduce_mean(self.loss_pair.score(real_out)))
        self.d_fake_tracker.update_state(tf.reduce_mean(self.loss_pair.score(fake_out)))
        self.distance_tracker.update_state(
            tf.reduce_mean(tf.reshape(real_out, [-1])) - tf.reduce_mean(tf.reshape(fake_out, [-1]))
        )
        logs = {m.name: m.result() for m in self.metrics if m.name != "penalty"}
        return scalar_logs_workaround(logs)  # tensorflow#72388, as in train_step

    # ------------------------------------------------------------------ sampling

    def call(self, inputs: Any, training: bool | None = None) -> tf.Tensor:
        """Map latent vectors (``[z, labels]`` for a conditional GAN) to samples with the
        sampling generator.

        Example:
            >>> gan(np.zeros((2, gan.latent_dim), "float32")).shape  # doctest: +SKIP
            TensorShape([2, 28, 28, 1])
        """
        return self.sampling_generator(inputs, training=training)

    def latent(self, n: int, seed: int | None = None) -> np.ndarray:
        """``n`` standard-normal latent vectors (float32) by the recipe ``keras_gan.latent.v1``.

        The recipe every sampler of the library draws by (:mod:`keras_gan.serving.latent`):
        ``gan.generate(n, seed=s)``, the sample grids, ``keras-gan evaluate`` and
        ``Sampler(export).sample(n, seed=s)`` see the same latents for the same seed.

        Args:
            n: number of vectors.
            seed: a signed 64-bit seed (a fresh random one when None).

        Example:
            >>> gan.latent(4, seed=0).shape  # doctest: +SKIP
            (4, 100)
        """
        n = check_positive_int(n, "n")
        if seed is None:
            seed = secrets.randbits(63)
        return latent_recipe(n, seed, self.latent_dim)

    def generate(
        self,
        n: int,
        labels: int | str | Sequence[int] | np.ndarray | None = None,
        seed: int | None = None,
        batch_size: int = 256,
    ) -> np.ndarray:
        """Generate ``n`` samples (float32, in [-1, 1] for a tanh generator) in inference mode.

        The latents are ``self.latent(n, seed)`` whatever the labels, so one seed with two
        classes gives the same ``z`` rendered as each class.

        Args:
            n: number of samples.
            labels: for a conditional GAN (required): one class for all ``n`` samples (an
                index, or a name of ``class_names``), or a sequence of ``n`` indices, each in
                ``[0, num_classes)``. None for an unconditional GAN.
            seed: latent seed (a random draw when None).
            batch_size: samples per generator call.

        Example:
            >>> gan.generate(16, seed=0).shape  # doctest: +SKIP
            (16, 28, 28, 1)
            >>> cgan.generate(4, labels=[0, 1, 2, 3], seed=0).shape  # doctest: +SKIP
            (4, 28, 28, 1)
        """
        n = check_positive_int(n, "n")
        label_array = self.check_labels(labels, n)
        z = self.latent(n, seed)
        generator = self.sampling_generator
        step = max(1, int(batch_size))
        parts = []
        for i in range(0, n, step):
            inputs = z[i : i + step]
            if label_array is not None:
                inputs = [inputs, label_array[i : i + step]]
            parts.append(np.asarray(generator(inputs, training=False)))
        return np.concatenate(parts, axis=0)

    def check_labels(self, labels: Any, n: int) -> np.ndarray | None:
        """``labels`` for ``n`` samples as an int32 array, checked against this GAN's classes
        (:class:`keras_gan.serving.labels.ClassLabels`, the check every sampler shares).

        ``labels`` is one class for all ``n`` (an index, or a name when the GAN has
        ``class_names``) or ``n`` indices. Raises ``ValueError`` naming the bad value and
        listing the classes: a missing label for a conditional GAN, a class outside
        ``[0, num_classes)`` or unknown by name, a sequence that is not ``n`` long, or labels
        for an unconditional GAN.

        Example:
            >>> cgan.check_labels(3, 2)  # doctest: +SKIP
            array([3, 3], dtype=int32)
        """
        classes = ClassLabels(self.num_classes, self.class_names, source=f"the GAN {self.name!r}")
        return classes.array(labels, n)
