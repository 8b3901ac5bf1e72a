"""The shape every adversarial loss pair shares, and how losses are reduced under tf.distribute.

A loss pair maps discriminator outputs (logits, or critic scores) to PER-SAMPLE losses. The model
reduces them with :func:`reduce_per_sample`: the sum over the replica's samples divided by the
GLOBAL batch size, which is what Keras' own losses do (mean, then ``1 / num_replicas``). Summed
over replicas by the optimizer this gives the true mean; a plain ``reduce_mean`` inside a replica
would multiply the gradient by the number of replicas.

Example:
    >>> import keras_gan.losses as L
    >>> pair = L.get("non_saturating")
    >>> pair.generator_loss([[0.0]]).numpy().astype(float).round(4).tolist()
    [0.6931]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import keras
import tensorflow as tf

from .registry import Registry

#: Loss pairs by name and alias: ``gan.compile(loss="name")`` and :func:`get` look them up here.
LOSSES: Registry[type[AdversarialLoss]] = Registry("loss")


def _flat(outputs: Any) -> tf.Tensor:
    """Discriminator outputs ``(batch, 1)`` (or ``(batch,)``) as float32 ``(batch,)``."""
    outputs = tf.convert_to_tensor(outputs)
    if not outputs.dtype.is_floating:
        outputs = tf.cast(outputs, tf.float32)
    return tf.reshape(outputs, [-1])


def num_replicas() -> int:
    """Replicas in sync under the current strategy (1 outside any strategy).

    Example:
        >>> num_replicas()
        1
    """
    return tf.distribute.get_strategy().num_replicas_in_sync


def replica_slice(draw: Callable[[tf.Tensor], tf.Tensor], local_rows: tf.Tensor) -> tf.Tensor:
    """Draw random rows for the GLOBAL batch and keep this replica's contiguous slice.

    ``draw(n)`` must return ``n`` rows from a stateless (seeded) op. Each replica then holds
    exactly the rows a single device would draw for the same global batch (tf.distribute splits
    a global batch into contiguous per-replica slices), so training is invariant to the number
    of replicas. Per-replica seeds alone would give different noise per partition; an unseeded
    ``SeedGenerator`` gives the SAME noise on every replica.

    Example:
        >>> draw = lambda n: tf.random.stateless_normal([n, 2], seed=[1, 2])
        >>> replica_slice(draw, 3).shape
        TensorShape([3, 2])
    """
    context = tf.distribute.get_replica_context()
    replicas = num_replicas()
    if context is None or replicas == 1:
        return draw(local_rows)
    replica_id = tf.cast(context.replica_id_in_sync_group, tf.int32)
    local_rows = tf.cast(local_rows, tf.int32)
    rows = draw(local_rows * replicas)
    return rows[replica_id * local_rows : (replica_id + 1) * local_rows]


def reduce_per_sample(per_sample: tf.Tensor) -> tf.Tensor:
    """Reduce per-sample losses to this replica's share of the global-batch mean.

    Example:
        >>> float(reduce_per_sample(tf.constant([1.0, 3.0])))
        2.0
    """
    per_sample = tf.reshape(per_sample, [-1])
    local = tf.cast(tf.shape(per_sample)[0], per_sample.dtype)
    return tf.reduce_sum(per_sample) / (local * num_replicas())


class AdversarialLoss:
    """Base class of a generator/discriminator loss pair.

    Subclasses implement :meth:`discriminator_loss` and :meth:`generator_loss` on per-sample
    outputs of the discriminator, and say how to read those outputs (:meth:`score`).

    A concrete pair declares ``name`` (and ``aliases``) and is registered with the
    ``@LOSSES.register`` decorator, so ``loss="name"`` selects it.

    Attributes:
        name: registry name (``loss="name"`` selects it).
        reports_distance: the critic's ``mean(real) - mean(fake)`` estimates a distance worth
            logging (``w_distance``), as for the Wasserstein loss.

    Example:
        >>> class Mine(AdversarialLoss):  # add @LOSSES.register to select it by name
        ...     name = "mine"
        ...     def discriminator_loss(self, real, fake):
        ...         return _flat(fake) - _flat(real)
        ...     def generator_loss(self, fake):
        ...         return -_flat(fake)
    """

    name: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    reports_distance: ClassVar[bool] = False
    probabilistic: ClassVar[bool] = False

    def discriminator_loss(self, real_outputs: Any, fake_outputs: Any) -> tf.Tensor:
        """Per-sample discriminator (critic) loss, shape ``(batch,)``."""
        raise NotImplementedError

    def generator_loss(self, fake_outputs: Any) -> tf.Tensor:
        """Per-sample generator loss, shape ``(batch,)``."""
        raise NotImplementedError

    def score(self, outputs: Any) -> tf.Tensor:
        """The discriminator's reading of its outputs: a probability for probabilistic losses
        (``sigmoid(logit)``), the raw critic score otherwise. Logged as ``d_real``/``d_fake``.

        Example:
            >>> float(get("minimax").score([[0.0]])[0])
            0.5
        """
        flat = _flat(outputs)
        return tf.sigmoid(flat) if self.probabilistic else flat

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments (none by default).

        Example:
            >>> get("hinge").get_config()
            {}
        """
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> AdversarialLoss:
        """Rebuild from :meth:`get_config`.

        Example:
            >>> type(get("hinge").from_config({})).__name__
            'HingeLoss'
        """
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()  # type: ignore[union-attr]

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(self.get_config().items()))))


def available() -> list[str]:
    """Names accepted by :func:`get`.

    Example:
        >>> "wasserstein" in available()
        True
    """
    return LOSSES.names()


def get(identifier: str | dict[str, Any] | AdversarialLoss) -> AdversarialLoss:
    """Resolve a loss pair from a name, a serialized config, or an instance.

    Args:
        identifier: ``"minimax"``, ``"non_saturating"``, ``"wasserstein"``, ``"hinge"``,
            ``"least_squares"`` (or an alias), ``keras.saving.serialize_keras_object(loss)``,
            or an :class:`AdversarialLoss`.

    Example:
        >>> get("wgan")
        WassersteinLoss()
    """
    if isinstance(identifier, AdversarialLoss):
        return identifier
    if isinstance(identifier, str):
        return LOSSES.get(identifier)()
    if isinstance(identifier, dict):
        value = keras.saving.deserialize_keras_object(identifier)
        if isinstance(value, AdversarialLoss):
            return value
    raise ValueError(
        "loss must be a name, a serialized AdversarialLoss or an instance. "
        f"Received: loss={identifier!r}"
    )
