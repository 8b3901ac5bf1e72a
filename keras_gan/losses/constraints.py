"""Constraints applied to the critic's weights after each critic update.

Example:
    >>> clip = WeightClip(0.01)
    >>> v = keras.Variable([0.5, -0.5, 0.001])
    >>> clip.apply([v])
    >>> v.numpy().tolist()
    [0.009999999776482582, -0.009999999776482582, 0.0010000000474974513]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import keras
import tensorflow as tf

from keras_gan._checks import check_positive_float

from .registry import Registry

#: Constraints by name and alias (``constraint="clip"``): :func:`get_constraint` looks them up.
CONSTRAINTS: Registry[type[WeightClip]] = Registry("constraint")


@keras.saving.register_keras_serializable(package="keras_gan")
@CONSTRAINTS.register
class WeightClip:
    """WGAN weight clipping (Arjovsky et al. 2017, Algorithm 1): every critic weight in [-c, c].

    Clipping keeps the critic in a compact set, hence K-Lipschitz for some K; the paper's c is
    0.01. It is applied to all trainable critic variables (kernels and biases) right after each
    critic update.

    Args:
        clip_value: c > 0.

    Example:
        >>> WeightClip().clip_value
        0.01
    """

    name = "weight_clip"
    aliases = ("clip",)

    def __init__(self, clip_value: float = 0.01) -> None:
        self.clip_value = check_positive_float(clip_value, "clip_value")

    def apply(self, variables: Iterable[Any]) -> None:
        """Clip each variable in place.

        Example:
            >>> WeightClip(1.0).apply([keras.Variable([2.0])])
        """
        for variable in variables:
            variable.assign(tf.clip_by_value(variable, -self.clip_value, self.clip_value))

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments.

        Example:
            >>> WeightClip(0.05).get_config()
            {'clip_value': 0.05}
        """
        return {"clip_value": self.clip_value}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> WeightClip:
        """Rebuild from :meth:`get_config`.

        Example:
            >>> WeightClip.from_config({"clip_value": 0.02}).clip_value
            0.02
        """
        return cls(**config)

    def __repr__(self) -> str:
        return f"WeightClip(clip_value={self.clip_value!r})"


def get_constraint(
    identifier: str | float | dict[str, Any] | WeightClip | None,
) -> WeightClip | None:
    """Resolve a constraint: None, a name (``"weight_clip"``, ``"clip"``), a clip value, a config
    or an instance.

    Example:
        >>> get_constraint(0.02)
        WeightClip(clip_value=0.02)
    """
    if identifier is None or isinstance(identifier, WeightClip):
        return identifier
    if isinstance(identifier, str):
        return CONSTRAINTS.get(identifier)()
    if isinstance(identifier, (int, float)) and not isinstance(identifier, bool):
        return WeightClip(float(identifier))
    if isinstance(identifier, dict):
        value = keras.saving.deserialize_keras_object(identifier)
        if isinstance(value, WeightClip):
            return value
    raise ValueError(
        f"constraint must be None, 'weight_clip', a clip value, a config or a WeightClip. "
        f"Received: constraint={identifier!r}"
    )
