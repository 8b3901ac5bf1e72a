"""A fitted Gaussian mixture as a Keras generator ``z -> sample`` (exportable to ONNX).

``z`` has ``n_features + 1`` coordinates: the first ``n_features`` are a standard normal draw,
the last picks the component by comparing ``Phi(z_last) = 0.5 * (1 + erf(z_last / sqrt 2))``
with the cumulative weights. The output is ``mean_k + L_k z[:, :d]`` (``L_k`` the lower Cholesky
factor of covariance ``k``; a standard deviation for diag/spherical), mapped from ``data_range``
to [-1, 1], clipped and reshaped to ``image_shape``. A standard normal ``z`` therefore gives
exact mixture samples (before clipping).

The graph uses only matmul, add, mul, erf, comparisons, casts, reshapes and a clip; the factors
are computed in numpy and held as (non-trainable) weights of :class:`MixtureSampler`, so the
model converts with tf2onnx (opset 18) and reloads from a ``.keras`` file.

Example:
    >>> import numpy as np
    >>> model = mixture_generator(np.array([1.0]), np.zeros((1, 2)), np.ones((1, 2)), "diag")
    >>> model.input_shape, model.output_shape
    ((None, 3), (None, 2))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from .defaults import COVARIANCE_TYPES


@keras.saving.register_keras_serializable(package="keras_gan")
class MixtureSampler(keras.layers.Layer):
    """Maps ``z`` ``[batch, n_features + 1]`` to a mixture sample ``[batch, n_features]``.

    Args:
        n_components: mixture components.
        n_features: sample size.
        covariance_type: ``"full"``, ``"tied"``, ``"diag"`` or ``"spherical"``.
        data_range: ``(low, high)`` of the fitted data, mapped to ``[-1, 1]``.

    Weights (set with ``set_weights``): ``means`` ``(K, d)``, ``factors`` (``(K, d, d)`` lower
    Cholesky factors, ``(d, d)`` for tied, ``(K, d)`` / ``(K, 1)`` standard deviations for
    diag / spherical) and ``thresholds`` ``(K - 1,)`` (cumulative weights).

    Example:
        >>> layer = MixtureSampler(2, 3, "diag")
        >>> layer(np.zeros((4, 4), "float32")).shape
        TensorShape([4, 3])
    """

    def __init__(
        self,
        n_components: int,
        n_features: int,
        covariance_type: str = "diag",
        data_range: Sequence[float] = (0.0, 1.0),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if covariance_type not in COVARIANCE_TYPES:
            raise ValueError(
                f"covariance_type must be one of {COVARIANCE_TYPES}. "
                f"Received: covariance_type={covariance_type!r}"
            )
        low, high = (float(v) for v in data_range)
        if not high > low:
            raise ValueError(
                f"data_range must be (low, high) with high > low. Received: {data_range}"
            )
        self.n_components = int(n_components)
        self.n_features = int(n_features)
        self.covariance_type = covariance_type
        self.data_range = (low, high)
        k, d = self.n_components, self.n_features
        factor_shape = {"full": (k, d, d), "tied": (d, d), "diag": (k, d), "spherical": (k, 1)}
        self.means = self.add_weight(
            shape=(k, d), initializer="zeros", trainable=False, name="means"
        )
        self.factors = self.add_weight(
            shape=factor_shape[covariance_type], initializer="ones", trainable=False, name="factors"
        )
        self.thresholds = self.add_weight(
            shape=(max(k - 1, 1),), initializer="ones", trainable=False, name="thresholds"
        )

    def call(self, z: Any) -> Any:
        """Map latent vectors to flattened samples in [-1, 1] (see the class docstring)."""
        ops = keras.ops
        k, d = self.n_components, self.n_features
        noise = z[:, :d]
        u = 0.5 * (1.0 + ops.erf(z[:, d : d + 1] * (1.0 / math.sqrt(2.0))))
        # onehot_k = [u > c_{k-1}] * [u <= c_k] with c_{-1} = -inf and c_{K-1} = +inf.
        above = ops.cast(u > self.thresholds[None, : k - 1], z.dtype)  # (n, K-1)
        ones = ops.ones_like(u)
        lower = ops.concatenate([ones, above], axis=1)
        upper = ops.concatenate([above, ops.zeros_like(u)], axis=1)
        onehot = lower - upper
        mean = ops.matmul(onehot, self.means)
        kind = self.covariance_type
        if kind == "full":
            # (n, d) @ (d, K * d): every component's L_k z, then keep the chosen one.
            stacked = ops.reshape(ops.transpose(self.factors, (2, 0, 1)), (d, k * d))
            every = ops.reshape(ops.matmul(noise, stacked), (-1, k, d))
            offset = ops.sum(every * onehot[:, :, None], axis=1)
        elif kind == "tied":
            offset = ops.matmul(noise, ops.transpose(self.factors))
        else:
            offset = noise * ops.matmul(onehot, self.factors)
        low, high = self.data_range
        scaled = (mean + offset - low) * (2.0 / (high - low)) - 1.0
        return ops.clip(scaled, -1.0, 1.0)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """``(batch, n_features)``."""
        return (input_shape[0], self.n_features)

    def get_config(self) -> dict[str, Any]:
        """The layer's configuration; the weights are saved as variables."""
        base_config = super().get_config()
        config = {
            "n_components": self.n_components,
            "n_features": self.n_features,
            "covariance_type": self.covariance_type,
            "data_range": list(self.data_range),
        }
        return {**base_config, **config}


def mixture_generator(
    weights: np.ndarray,
    means: np.ndarray,
    factors: np.ndarray,
    covariance_type: str,
    image_shape: Sequence[int] | None = None,
    data_range: Sequence[float] = (0.0, 1.0),
) -> keras.Model:
    """Build the functional generator ``z [None, d + 1] -> samples`` of a fitted mixture.

    Args:
        weights: ``(K,)`` mixture weights.
        means: ``(K, d)`` means.
        factors: lower Cholesky factors of the covariances (full ``(K, d, d)``, tied ``(d, d)``)
            or standard deviations (diag ``(K, d)``, spherical ``(K,)``).
        covariance_type: ``"full"``, ``"tied"``, ``"diag"`` or ``"spherical"``.
        image_shape: output shape per sample (its product must be ``d``); None gives ``[d]``.
        data_range: ``(low, high)`` of the data, mapped to ``[-1, 1]``.

    Returns:
        A ``keras.Model`` with input ``z`` float32 and attribute ``latent_dim = d + 1``.

    Example:
        >>> g = mixture_generator(np.ones(1), np.zeros((1, 4)), np.ones((1, 4)), "diag", (2, 2, 1))
        >>> g.latent_dim, g.output_shape
        (5, (None, 2, 2, 1))
    """
    means = np.asarray(means, np.float64)
    k, d = means.shape
    weights = np.asarray(weights, np.float64)
    cumulative = np.cumsum(weights / weights.sum())[:-1]
    factors = np.asarray(factors, np.float64)
    if covariance_type == "spherical":
        factors = factors.reshape(k, 1)
    if image_shape is not None:
        image_shape = tuple(int(s) for s in image_shape)
        if int(np.prod(image_shape)) != d:
            raise ValueError(
                f"image_shape must hold n_features={d} values. Received: image_shape={image_shape}"
            )
    z = keras.Input((d + 1,), name="z", dtype="float32")
    sampler = MixtureSampler(k, d, covariance_type, data_range, name="mixture_sampler")
    samples = sampler(z)
    sampler.set_weights(
        [
            means.astype(np.float32),
            factors.astype(np.float32),
            (cumulative if k > 1 else np.ones(1)).astype(np.float32),
        ]
    )
    outputs = samples if image_shape is None else keras.layers.Reshape(image_shape)(samples)
    model = keras.Model(z, outputs, name="gmm_generator")
    model.latent_dim = d + 1
    model(np.zeros((1, d + 1), np.float32))  # mark it called: Model.export requires that
    return model
