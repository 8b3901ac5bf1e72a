"""Input checks and chunked distance helpers shared by the metric functions (numpy only)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

# Elements of one block of a pairwise-distance matrix (float64): 2**24 is 128 MiB.
BLOCK_ELEMENTS = 1 << 24


def as_features(x: Any, name: str, min_rows: int = 1) -> np.ndarray:
    """``x`` as a finite float64 matrix ``(n, d)``; images ``(n, ...)`` are flattened.

    Example:
        >>> as_features(np.zeros((3, 2, 2)), "x").shape
        (3, 4)
    """
    array = np.asarray(x, dtype=np.float64)
    if array.ndim == 1 or array.ndim == 0:
        raise ValueError(
            f"{name} must be a batch of feature vectors (n, d). "
            f"Received: {name}.shape={array.shape}"
        )
    array = array.reshape(array.shape[0], -1)
    if array.shape[0] < min_rows:
        raise ValueError(
            f"{name} needs at least {min_rows} rows. Received: {name}.shape={array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def same_width(a: np.ndarray, b: np.ndarray, names: tuple[str, str]) -> None:
    """Raise unless ``a`` and ``b`` have the same number of columns.

    Example:
        >>> same_width(np.zeros((2, 3)), np.zeros((4, 3)), ("a", "b"))
    """
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same feature size. Received: "
            f"{names[0]}.shape={a.shape}, {names[1]}.shape={b.shape}"
        )


def positive_int(value: Any, name: str) -> int:
    """``value`` as an int if it is an integer >= 1 (not a bool); the metrics' own copy of
    :func:`keras_gan._checks.check_positive_int`, since the measures import nothing from the
    package.

    Example:
        >>> positive_int(3, "k")
        3
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    return int(value)


def check_k(k: Any, n: int, name: str) -> int:
    """``k`` as an int in ``[1, n - 1]`` (``n`` rows hold ``n - 1`` neighbours of each row).

    Example:
        >>> check_k(3, 10, "real")
        3
    """
    k = positive_int(k, "k")
    if k >= n:
        raise ValueError(f"k={k} needs more than {k} rows in {name}. Received: {n} rows")
    return int(k)


def row_chunks(n_rows: int, n_cols: int) -> Iterator[slice]:
    """Slices of ``range(n_rows)`` whose blocks against ``n_cols`` columns fit ``BLOCK_ELEMENTS``.

    Example:
        >>> list(row_chunks(3, 1 << 24))
        [slice(0, 1, None), slice(1, 2, None), slice(2, 3, None)]
    """
    step = max(1, BLOCK_ELEMENTS // max(n_cols, 1))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def squared_distances(
    a: np.ndarray, b: np.ndarray, a_norms: np.ndarray, b_norms: np.ndarray
) -> np.ndarray:
    """Squared Euclidean distances ``(len(a), len(b))`` from precomputed squared norms.

    Example:
        >>> a = np.array([[0.0, 0.0], [3.0, 4.0]])
        >>> squared_distances(a, a, (a**2).sum(1), (a**2).sum(1))
        array([[ 0., 25.],
               [25.,  0.]])
    """
    d = a_norms[:, None] + b_norms[None, :] - 2.0 * (a @ b.T)
    np.maximum(d, 0.0, out=d)
    return d


def kth_neighbour_distances(x: np.ndarray, k: int) -> np.ndarray:
    """Squared distance from each row of ``x`` to its k-th nearest other row.

    Computed block by block; a row is never its own neighbour.

    Example:
        >>> kth_neighbour_distances(np.array([[0.0], [1.0], [3.0]]), 1)
        array([1., 1., 4.])
    """
    norms = np.einsum("ij,ij->i", x, x)
    out = np.empty(x.shape[0])
    for rows in row_chunks(x.shape[0], x.shape[0]):
        d = squared_distances(x[rows], x, norms[rows], norms)
        local = np.arange(rows.stop - rows.start)
        d[local, local + rows.start] = np.inf
        out[rows] = np.partition(d, k - 1, axis=1)[:, k - 1]
    return out
