"""A generator that draws a cluster from its own latent vector: unconditional from outside.

Self-conditioning (after Liu et al. 2020, "Diverse Image Generation via Self-Conditioned
GANs"): the training images are clustered without labels (k-means on their pixels,
:func:`keras_gan.mixture.image_clusters`) and the pair is trained like a class-conditional GAN
on the cluster ids, with a projection discriminator judging each image against its cluster. The
generator picks its cluster from the first latent coordinate: ``z0 ~ N(0, 1)`` selects cluster
``k`` when ``Phi(z0)`` falls in the ``k``-th slice of ``[0, 1]`` cut by the clusters'
cumulative frequencies (``Phi`` is the standard normal CDF), so a sample comes from cluster
``k`` with probability ``prior[k]``, the cluster's share of the data. The other coordinates and
the cluster's learned embedding feed the base generator
(:func:`~keras_gan.networks.conditional_generator`).

From outside the generator is a plain ``z -> image`` model: sampling, the latent recipe,
export to SavedModel and ONNX, and serving treat it like any unconditional generator.

Example:
    >>> from keras_gan.networks import resize_conv_generator
    >>> g = clustered_generator(
    ...     lambda d: resize_conv_generator(d, (8, 8, 1), width=4, name="base"), [0.5, 0.5], 4
    ... )
    >>> [t.name for t in g.inputs], g.output_shape
    (['z'], (None, 8, 8, 1))
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np

from keras_gan._checks import check_positive_int

from .conditional import conditional_generator


def check_prior(prior: Any) -> tuple[float, ...]:
    """``prior`` as a tuple of probabilities summing to 1 (non-negative, at least one positive).

    Example:
        >>> check_prior([1, 3])
        (0.25, 0.75)
    """
    try:
        values = np.asarray(prior, dtype=np.float64)
    except (TypeError, ValueError):
        values = None
    if (
        values is None
        or values.ndim != 1
        or values.size == 0
        or not np.all(np.isfinite(values))
        or np.any(values < 0)
        or not values.sum() > 0
    ):
        raise ValueError(
            "prior must be a non-empty sequence of non-negative cluster frequencies with a "
            f"positive sum. Received: prior={prior!r}"
        )
    return tuple(float(v) for v in values / values.sum())


@keras.saving.register_keras_serializable(package="keras_gan")
class LatentClass(keras.layers.Layer):
    """Split ``z`` into ``(z[:, 1:], cluster)``: the cluster drawn from ``z[:, 0]`` by ``prior``.

    ``cluster = #{k < K - 1 : Phi(z0) > cumsum(prior)[k]}``, int32; for ``z0 ~ N(0, 1)`` it
    takes value ``k`` with probability ``prior[k]``. Computes in float32 under any dtype policy.

    Args:
        prior: the clusters' probabilities (normalised to sum to 1).
        **kwargs: ``keras.layers.Layer`` arguments such as ``name``.

    Example:
        >>> layer = LatentClass([0.5, 0.5])
        >>> rest, cluster = layer(np.array([[-1.0, 7.0], [1.0, 8.0]], "float32"))
        >>> np.asarray(cluster).tolist(), np.asarray(rest).tolist()
        ([0, 1], [[7.0], [8.0]])
    """

    def __init__(self, prior: Sequence[float], **kwargs: Any) -> None:
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)
        self.prior = check_prior(prior)
        self.edges = np.cumsum(self.prior)[:-1].astype(np.float32)

    @property
    def num_classes(self) -> int:
        """The number of clusters.

        Example:
            >>> LatentClass([0.2, 0.3, 0.5]).num_classes
            3
        """
        return len(self.prior)

    def call(self, z: Any) -> tuple[Any, Any]:
        """``(z[:, 1:], cluster ids)`` for a ``(batch, latent_dim)`` float tensor."""
        return z[:, 1:], latent_classes(z, self.edges)

    def compute_output_spec(self, z: Any) -> tuple[Any, Any]:
        """Symbolic outputs: ``(batch, latent_dim - 1)`` floats and ``(batch,)`` int32."""
        return (
            keras.KerasTensor((z.shape[0], z.shape[1] - 1), dtype=z.dtype),
            keras.KerasTensor((z.shape[0],), dtype="int32"),
        )

    def get_config(self) -> dict[str, Any]:
        """The layer config with its ``prior``.

        Example:
            >>> LatentClass([1.0, 1.0]).get_config()["prior"]
            [0.5, 0.5]
        """
        config = super().get_config()
        config.pop("dtype", None)
        return {**config, "prior": list(self.prior)}


def latent_classes(z: Any, edges: Any) -> Any:
    """The cluster ids (int32, ``(batch,)``) that the first latent coordinate selects.

    ``edges`` are the cumulative cluster probabilities without the final 1 (``K - 1`` values).

    Example:
        >>> np.asarray(latent_classes(np.array([[-3.0], [0.1], [3.0]]), [0.25, 0.75])).tolist()
        [0, 1, 2]
    """
    z0 = keras.ops.cast(z[:, 0], "float32")
    u = 0.5 * (1.0 + keras.ops.erf(z0 / math.sqrt(2.0)))
    edges = keras.ops.convert_to_tensor(np.asarray(edges, np.float32).reshape(1, -1))
    above = keras.ops.cast(keras.ops.greater(keras.ops.expand_dims(u, 1), edges), "int32")
    return keras.ops.sum(above, axis=1)


def latent_class_layer(generator: keras.Model) -> LatentClass | None:
    """The :class:`LatentClass` layer of a clustered generator (None for any other model).

    Example:
        >>> from keras_gan.networks import mlp_generator
        >>> latent_class_layer(mlp_generator(2, (2,), hidden=(4,))) is None
        True
    """
    for layer in getattr(generator, "layers", ()):
        if isinstance(layer, LatentClass):
            return layer
    return None


def clustered_generator(
    generator: keras.Model | Callable[[int], keras.Model],
    prior: Sequence[float],
    latent_dim: int,
    embedding_dim: int | None = None,
    name: str = "generator",
) -> keras.Model:
    """A ``z -> samples`` generator that draws its cluster from ``z[:, 0]`` by ``prior``.

    Args:
        generator: the base generator taking ``latent_dim - 1 + embedding_dim`` inputs, or a
            builder called with that size (as for
            :func:`~keras_gan.networks.conditional_generator`).
        prior: the clusters' frequencies in the training data (``K`` values).
        latent_dim: size of ``z``, the model's only input (at least 2: one coordinate picks
            the cluster).
        embedding_dim: size of the cluster embedding (default ``K``).
        name: model name.

    Returns:
        A functional ``keras.Model`` from ``(None, latent_dim)`` to the base generator's
        samples, with a :class:`LatentClass` layer named ``latent_class`` and the conditional
        generator nested as ``conditional_generator``.

    Example:
        >>> from keras_gan.networks import mlp_generator
        >>> g = clustered_generator(lambda d: mlp_generator(d, (2,), hidden=(8,)), [1, 1, 2], 3)
        >>> g.input_shape, latent_class_layer(g).prior
        ((None, 3), (0.25, 0.25, 0.5))
    """
    prior = check_prior(prior)
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    if latent_dim < 2:
        raise ValueError(
            "a clustered generator needs latent_dim >= 2 (z[:, 0] picks the cluster). "
            f"Received: latent_dim={latent_dim}"
        )
    inner = conditional_generator(
        generator,
        len(prior),
        latent_dim=latent_dim - 1,
        embedding_dim=embedding_dim,
        name="conditional_generator",
    )
    z = keras.Input((latent_dim,), name="z")
    rest, clusters = LatentClass(prior, name="latent_class")(z)
    return keras.Model(z, inner([rest, clusters]), name=name)
