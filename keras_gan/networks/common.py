"""Small building blocks shared by the network factories.

Example:
    >>> layer = normalization("layer")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from keras_gan._checks import check_positive_float

NORMS = (None, "batch", "batch_stats", "layer", "spectral")


def check_norm(norm: str | None) -> str | None:
    """Validate a normalisation option.

    Example:
        >>> check_norm("batch")
        'batch'
    """
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}. Received: norm={norm!r}")
    return norm


#: The largest side the generators start from (their dense projection's output).
MAX_START_SIDE = 8


def upsampling_stages(height: int, wide: int) -> int:
    """The number of 2x stages between an image of ``height x wide`` and the small feature map
    the generators start from (the discriminators use as many stride-2 convolutions).

    Two stages at least; one more while the start side is above ``MAX_START_SIDE`` (8) and the
    sides stay divisible: 28 -> 2 (7x7), 32 -> 2 (8x8), 64 -> 3 (8x8), 128 -> 4 (8x8),
    96 -> 4 (6x6).

    Raises:
        ValueError: a side that is not a multiple of 4.

    Example:
        >>> [upsampling_stages(n, n) for n in (28, 32, 64, 128)]
        [2, 2, 3, 4]
    """
    if height % 4 or wide % 4 or height < 4 or wide < 4:
        raise ValueError(
            "image height and width must be positive multiples of 4 (at least two 2x stages). "
            f"Received: height={height}, width={wide}"
        )
    stages = 2
    while max(height, wide) >> stages > MAX_START_SIDE and not (
        height % (2 << stages) or wide % (2 << stages)
    ):
        stages += 1
    return stages


def check_shape(shape: Sequence[int], name: str, rank: int | None = None) -> tuple[int, ...]:
    """Validate a shape of positive integers (of a given rank when given).

    Example:
        >>> check_shape([28, 28, 1], "image_shape", rank=3)
        (28, 28, 1)
    """
    try:
        out = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a sequence of positive integers. Received: {name}={shape!r}"
        ) from None
    if not out or any(d < 1 for d in out) or (rank is not None and len(out) != rank):
        what = f"{rank} positive integers" if rank else "positive integers"
        raise ValueError(f"{name} must be {what}. Received: {name}={shape!r}")
    return out


def maybe_spectral(layer: keras.layers.Layer, norm: str | None) -> keras.layers.Layer:
    """Wrap a weight layer in spectral normalisation when ``norm == "spectral"``.

    Example:
        >>> maybe_spectral(keras.layers.Dense(1), None).__class__.__name__
        'Dense'
    """
    if norm == "spectral":
        return keras.layers.SpectralNormalization(layer)
    return layer


def normalization(norm: str | None, name: str | None = None) -> keras.layers.Layer | None:
    """The activation-normalisation layer for ``norm`` (None for none or spectral).

    Layer norm normalises each sample over all its features, so it is safe in a WGAN-GP critic,
    where batch norm is not (the penalty is per sample). ``"batch_stats"`` is batch norm without
    moving statistics (:class:`BatchStatNormalization`): a frozen discriminator still normalises
    by the batch it scores, as the WGAN paper's batch-normalised critic does in both updates.

    Example:
        >>> normalization("batch").__class__.__name__
        'BatchNormalization'
    """
    if norm == "batch":
        return keras.layers.BatchNormalization(name=name)
    if norm == "batch_stats":
        return BatchStatNormalization(name=name)
    if norm == "layer":
        return keras.layers.LayerNormalization(axis=-1, name=name)
    return None


@keras.saving.register_keras_serializable(package="keras_gan")
class BatchStatNormalization(keras.layers.Layer):
    """Batch norm by the statistics of the batch being scored, always: no moving statistics.

    Each channel (last axis) is normalised by its mean and variance over every other axis of
    the input batch (for images: the batch and the pixels), then scaled by ``gamma`` and shifted
    by ``beta``, in training and at inference, trainable or frozen. Keras'
    ``BatchNormalization`` switches to its moving statistics when its layer is frozen, which is
    what a GAN's generator update does to the discriminator; a critic built with this layer
    scores the generator's batch the way it scored the fake batch in its own update (the
    batch-normalised critic of Arjovsky et al. 2017, where real and fake batches are normalised
    separately). The statistics, ``gamma`` and ``beta`` stay float32 under a mixed dtype policy
    (the output is cast to the compute dtype). A critic scores each sample relative to its
    batch, so a batch of one ``(1, C)`` vector normalises to ``beta`` whatever its values.

    Args:
        epsilon: added to the variance (a positive, finite number).
        synchronized: under a multi-replica ``tf.distribute`` strategy, all-reduce the moments
            so every replica normalises by the GLOBAL batch's statistics
            (:func:`keras_gan.distribute.synchronize_batch_norm` turns it on); on one replica
            it changes nothing.
        **kwargs: ``keras.layers.Layer`` arguments such as ``name``.

    The class attribute ``batch_statistics = True`` marks it for the code that must treat it as
    batch norm without importing it (the gradient penalty's refusal,
    :func:`keras_gan.distribute.synchronize_batch_norm`).

    Example:
        >>> import numpy as np
        >>> layer = BatchStatNormalization()
        >>> out = np.asarray(layer(np.array([[1.0, 10.0], [3.0, 30.0]], "float32")))
        >>> np.round(out, 3).tolist()
        [[-1.0, -1.0], [1.0, 1.0]]
    """

    batch_statistics = True

    def __init__(self, epsilon: float = 1e-3, synchronized: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.epsilon = check_positive_float(epsilon, "epsilon")
        self.synchronized = bool(synchronized)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        """Create ``gamma`` (ones) and ``beta`` (zeros), one per channel, kept in float32."""
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(
                "BatchStatNormalization needs inputs of rank 2 or more (batch, ..., channels) "
                f"with a known channel dimension. Received: input_shape={input_shape}"
            )
        channels = int(input_shape[-1])
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: channels})
        # autocast=False: a mixed policy must not round them to the compute dtype in ``call``.
        self.gamma = self.add_weight(
            shape=(channels,), initializer="ones", name="gamma", autocast=False
        )
        self.beta = self.add_weight(
            shape=(channels,), initializer="zeros", name="beta", autocast=False
        )

    def call(self, inputs: Any) -> Any:
        """Normalise ``inputs`` by their own per-channel batch statistics."""
        x = ops.cast(inputs, "float32")
        axes = list(range(len(x.shape) - 1))
        mean, variance = ops.moments(x, axes=axes, keepdims=True, synchronized=self.synchronized)
        out = (x - mean) * ops.rsqrt(variance + self.epsilon) * self.gamma + self.beta
        return ops.cast(out, self.compute_dtype)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        """The input's shape."""
        return input_shape

    def get_config(self) -> dict[str, Any]:
        """The layer config with its ``epsilon`` and ``synchronized``.

        Example:
            >>> BatchStatNormalization(epsilon=1e-5).get_config()["epsilon"]
            1e-05
        """
        return {
            **super().get_config(),
            "epsilon": self.epsilon,
            "synchronized": self.synchronized,
        }
