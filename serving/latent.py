"""The seeded latent recipe ``keras_gan.latent.v1``, in numpy alone.

Every exported generator carries a ``sample(n, seed)`` entry point that draws its own latent
vectors in-graph, so that a SavedModel served by TensorFlow and an ONNX file run by onnxruntime
return the same images for the same ``(n, seed)``. TensorFlow's stateless random ops have no
ONNX equivalent, so the draw is an integer hash followed by a Box-Muller transform, written with
operations that both runtimes (and numpy) evaluate exactly. This module is the reference
implementation; ``keras_gan.export.latent`` is its TensorFlow twin, and tests hold the two
equal. A client in any language can rebuild ``z`` from the recipe below.

The recipe ``keras_gan.latent.v1``
----------------------------------
All integer arithmetic is on unsigned 32-bit words (``mod 2**32``).

1. ``mul32(a, b) = (a * b) mod 2**32``.
2. ``mix32(x)`` is MurmurHash3's 32-bit finaliser::

       x ^= x >> 16;  x = mul32(x, 0x85EBCA6B)
       x ^= x >> 13;  x = mul32(x, 0xC2B2AE35)
       x ^= x >> 16

3. ``absorb(h, v) = mix32(((h ^ v) + 0x9E3779B9) mod 2**32)``.
4. The seed is a signed 64-bit integer; ``seed_lo`` and ``seed_hi`` are the low and high
   32-bit words of its two's-complement form (``seed mod 2**64``).
   ``key = absorb(absorb(0, seed_hi), seed_lo)``.
5. For row ``r`` in ``[0, n)`` and column ``c`` in ``[0, latent_dim)``::

       h_row = absorb(key, r)
       h1 = absorb(h_row, 2 * c)
       h2 = absorb(h_row, 2 * c + 1)
       u1 = (2 * (h1 >> 9) + 1) / 2**24      # odd multiples of 2**-24: u in (0, 1)
       u2 = (2 * (h2 >> 9) + 1) / 2**24

6. Box-Muller, evaluated in float64 and rounded once to float32::

       z[r, c] = float32(sqrt(-2 * log(u1)) * cos(u2 * 6.283185307179586))

Row ``r`` depends only on ``(seed, r)``, so ``sample(8, s)`` is the first 8 rows of
``sample(64, s)``. Every ``u`` is exact in float32 and float64 and every integer step is exact,
so runtimes can differ only in the last bit of float64 ``log`` and ``cos``, which the final
rounding to float32 absorbs in all but about one value in 10**8. ``|z|`` is at most 5.77.

The images: ``images = generator(z)`` in [-1, 1], and the ready-to-save form is
``uint8 = round_half_to_even((clip(images, -1, 1) + 1) * 127.5)`` in float32 arithmetic.

Example:
    >>> z = latent(2, seed=7, latent_dim=3)
    >>> z.shape, z.dtype
    ((2, 3), dtype('float32'))
    >>> bool((latent(1, 7, 3) == z[:1]).all())
    True
"""

from __future__ import annotations

import numpy as np

#: Name and version of the recipe, recorded in exported metadata as ``latent_recipe``.
RECIPE = "keras_gan.latent.v1"

MASK32 = 0xFFFFFFFF
MIX_MULTIPLIER_1 = 0x85EBCA6B
MIX_MULTIPLIER_2 = 0xC2B2AE35
ABSORB_INCREMENT = 0x9E3779B9
TWO_PI = 6.283185307179586
#: The right shifts of ``mix32``, in order.
MIX_SHIFTS = (16, 13, 16)
#: ``u = (2 * (h >> UNIFORM_SHIFT) + 1) * UNIFORM_SCALE``: odd multiples of 2**-24 in (0, 1).
UNIFORM_SHIFT = 9
UNIFORM_SCALE = 2.0**-24
#: The largest value ``|z|`` can take: sqrt(-2 * log(2**-24)).
Z_BOUND = float(np.sqrt(-2.0 * np.log(2.0**-24)))


def mix32(x: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser on uint64 words holding 32-bit values.

    Args:
        x: uint64 array with values below 2**32.

    Returns:
        uint64 array of the mixed 32-bit values.

    Example:
        >>> int(mix32(np.uint64(1)))
        1364076727
    """
    shift_1, shift_2, shift_3 = (np.uint64(s) for s in MIX_SHIFTS)
    x = np.asarray(x, dtype=np.uint64)
    x = x ^ (x >> shift_1)
    x = (x * np.uint64(MIX_MULTIPLIER_1)) & np.uint64(MASK32)
    x = x ^ (x >> shift_2)
    x = (x * np.uint64(MIX_MULTIPLIER_2)) & np.uint64(MASK32)
    return x ^ (x >> shift_3)


def absorb(h: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Fold the 32-bit word ``v`` into the state ``h``: ``mix32(((h ^ v) + 0x9E3779B9) mod 2**32)``.

    Args:
        h: uint64 array of 32-bit states.
        v: uint64 array of 32-bit words (broadcast against ``h``).

    Returns:
        The new uint64 states.

    Example:
        >>> int(absorb(np.uint64(0), np.uint64(0))) == int(mix32(np.uint64(0x9E3779B9)))
        True
    """
    h = np.asarray(h, dtype=np.uint64)
    v = np.asarray(v, dtype=np.uint64)
    return mix32(((h ^ v) + np.uint64(ABSORB_INCREMENT)) & np.uint64(MASK32))


def seed_key(seed: int) -> np.uint64:
    """The per-seed hash state ``absorb(absorb(0, seed_hi), seed_lo)``.

    Args:
        seed: any integer in the signed 64-bit range.

    Returns:
        The 32-bit key as a numpy uint64 scalar.

    Example:
        >>> int(seed_key(-1)) == int(seed_key(2**64 - 1 - 2**64))
        True
    """
    seed = _check_seed(seed)
    word = seed % 2**64
    seed_lo, seed_hi = np.uint64(word & MASK32), np.uint64(word >> 32)
    return absorb(absorb(np.uint64(0), seed_hi), seed_lo)[()]


def uniforms(n: int, seed: int, latent_dim: int) -> tuple[np.ndarray, np.ndarray]:
    """The two uniform draws in (0, 1) behind ``latent(n, seed, latent_dim)``.

    Args:
        n: number of rows, >= 0.
        seed: signed 64-bit seed.
        latent_dim: number of columns, >= 1.

    Returns:
        ``(u1, u2)``, float64 arrays of shape ``(n, latent_dim)``, odd multiples of 2**-24.

    Example:
        >>> u1, u2 = uniforms(3, 0, 2)
        >>> bool(((u1 > 0) & (u1 < 1)).all())
        True
    """
    n, latent_dim = _check_shape(n, latent_dim)
    rows = np.arange(n, dtype=np.uint64)[:, None]
    columns = np.arange(latent_dim, dtype=np.uint64)[None, :]
    h_row = absorb(seed_key(seed), rows)
    h1 = absorb(h_row, np.uint64(2) * columns)
    h2 = absorb(h_row, np.uint64(2) * columns + np.uint64(1))
    shift = np.uint64(UNIFORM_SHIFT)
    u1 = (np.uint64(2) * (h1 >> shift) + np.uint64(1)).astype(np.float64) * UNIFORM_SCALE
    u2 = (np.uint64(2) * (h2 >> shift) + np.uint64(1)).astype(np.float64) * UNIFORM_SCALE
    return u1, u2


def latent(n: int, seed: int, latent_dim: int) -> np.ndarray:
    """Standard-normal latent vectors by the recipe ``keras_gan.latent.v1`` (see module doc).

    Args:
        n: number of vectors, >= 0.
        seed: signed 64-bit seed; the same ``(n, seed, latent_dim)`` always gives the same ``z``.
        latent_dim: length of each vector, >= 1.

    Returns:
        float32 array of shape ``(n, latent_dim)``, each entry distributed N(0, 1).

    Example:
        >>> z = latent(4, seed=123, latent_dim=16)
        >>> bool((latent(4, seed=123, latent_dim=16) == z).all())
        True
    """
    u1, u2 = uniforms(n, seed, latent_dim)
    z = np.sqrt(-2.0 * np.log(u1)) * np.cos(u2 * TWO_PI)
    return z.astype(np.float32)


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer. Received: seed={seed!r}")
    seed = int(seed)
    if not -(2**63) <= seed < 2**63:
        raise ValueError(f"seed must fit in a signed 64-bit integer. Received: seed={seed}")
    return seed


def _check_shape(n: int, latent_dim: int) -> tuple[int, int]:
    for name, value, low in (("n", n, 0), ("latent_dim", latent_dim, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an integer. Received: {name}={value!r}")
        if value < low:
            raise ValueError(f"{name} must be >= {low}. Received: {name}={value}")
    if n >= 2**31:
        raise ValueError(f"n must be below 2**31 (an int32 input). Received: n={n}")
    return int(n), int(latent_dim)
