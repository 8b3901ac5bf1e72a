"""Argument checks shared across the package, with errors that name the bad value (Keras style).

Standard library only: importable without TensorFlow, Keras or numpy (``keras_gan.serving``
may use it). Integers are ``numbers.Integral`` (so numpy integers pass) but never ``bool``;
every check returns the value as a plain ``int`` or ``float``.

Example:
    >>> check_positive_int(3, "width")
    3
    >>> check_positive_int(0, "width")
    Traceback (most recent call last):
        ...
    ValueError: width must be a positive integer. Received: width=0
"""

from __future__ import annotations

import math
import numbers
from typing import Any


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_positive_int(value: Any, name: str, *, allow_none: bool = False) -> int | None:
    """Return ``value`` as an ``int`` if it is an integer >= 1 (or None when ``allow_none``).

    Args:
        value: the argument to check; bools and non-integers (``2.0`` included) are refused.
        name: the argument's name, used in the error.
        allow_none: accept None (and return it).

    Raises:
        ValueError: ``"{name} must be a positive integer[ or None]. Received: {name}={value!r}"``.

    Example:
        >>> check_positive_int(None, "limit", allow_none=True) is None
        True
        >>> check_positive_int(True, "n")
        Traceback (most recent call last):
            ...
        ValueError: n must be a positive integer. Received: n=True
    """
    if value is None and allow_none:
        return None
    if not _is_int(value) or value < 1:
        what = "a positive integer or None" if allow_none else "a positive integer"
        raise ValueError(f"{name} must be {what}. Received: {name}={value!r}")
    return int(value)


def check_non_negative_int(value: Any, name: str, *, allow_none: bool = False) -> int | None:
    """Return ``value`` as an ``int`` if it is an integer >= 0 (or None when ``allow_none``).

    Raises:
        ValueError: ``"{name} must be a non-negative integer[ or None]. Received: ..."``.

    Example:
        >>> check_non_negative_int(0, "max_iter")
        0
        >>> check_non_negative_int(-1, "seed", allow_none=True)
        Traceback (most recent call last):
            ...
        ValueError: seed must be a non-negative integer or None. Received: seed=-1
    """
    if value is None and allow_none:
        return None
    if not _is_int(value) or value < 0:
        what = "a non-negative integer or None" if allow_none else "a non-negative integer"
        raise ValueError(f"{name} must be {what}. Received: {name}={value!r}")
    return int(value)


def check_positive_float(value: Any, name: str) -> float:
    """Return ``value`` as a ``float`` if it is a finite real number > 0.

    Raises:
        ValueError: ``"{name} must be a positive finite number. Received: {name}={value!r}"``
            (bools, strings, zero, negatives, inf and nan included).

    Example:
        >>> check_positive_float(1e-2, "clip_value")
        0.01
        >>> check_positive_float(-1, "clip_value")
        Traceback (most recent call last):
            ...
        ValueError: clip_value must be a positive finite number. Received: clip_value=-1
    """
    number = _as_float(value)
    if number is None or not (number > 0 and math.isfinite(number)):
        raise ValueError(f"{name} must be a positive finite number. Received: {name}={value!r}")
    return number


def check_in_interval(
    value: Any,
    name: str,
    low: float,
    high: float,
    *,
    include_low: bool = True,
    include_high: bool = False,
    allow_none: bool = False,
) -> float | None:
    """Return ``value`` as a ``float`` if it lies in the interval from ``low`` to ``high``.

    Args:
        value: the argument to check (a real number, not a bool).
        name: the argument's name, used in the error.
        low: lower bound.
        high: upper bound.
        include_low: the interval is closed at ``low`` (``[``) rather than open (``(``).
        include_high: the interval is closed at ``high`` (``]``) rather than open (``)``).
        allow_none: accept None (and return it).

    Raises:
        ValueError: ``"{name} must be in [low, high)[ or None]. Received: {name}={value!r}"``.

    Example:
        >>> check_in_interval(0.3, "dropout", 0, 1)
        0.3
        >>> check_in_interval(1.0, "ema_decay", 0, 1, include_low=False, allow_none=True)
        Traceback (most recent call last):
            ...
        ValueError: ema_decay must be in (0, 1) or None. Received: ema_decay=1.0
    """
    if value is None and allow_none:
        return None
    number = _as_float(value)
    above = number is not None and (number >= low if include_low else number > low)
    below = number is not None and (number <= high if include_high else number < high)
    if not (above and below):
        interval = f"{'[' if include_low else '('}{low:g}, {high:g}{']' if include_high else ')'}"
        suffix = " or None" if allow_none else ""
        raise ValueError(f"{name} must be in {interval}{suffix}. Received: {name}={value!r}")
    return number


def _as_float(value: Any) -> float | None:
    """``float(value)``, or None for a bool, a string or anything ``float`` refuses."""
    if isinstance(value, (bool, str, bytes)):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
