"""The EM loop shared by mixture models, and the training data it runs over.

:class:`BaseMixture` owns ``fit``: validation, ``n_init`` restarts, the iteration loop with its
``tol`` test on the change of the per-sample lower bound, ``max_iter``, progress output and the
:class:`ConvergenceWarning`. Subclasses fill ``_initial_parameters``, ``_iterate``,
``_log_resp`` and ``_store``.

Training data is a :class:`TrainingData`: an in-memory array or a ``tf.data.Dataset`` of
batches, shifted by the data mean (the log-likelihood does not change under a translation, and
centred data keeps the E/M matmul expansions accurate, in float32 too).

Example:
    >>> import numpy as np
    >>> data = TrainingData.from_input(np.ones((4, 2)), "float64")
    >>> data.n_samples, data.n_features
    (4, 2)
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import tensorflow as tf


class ConvergenceWarning(UserWarning):
    """EM stopped at ``max_iter`` before the lower bound changed by less than ``tol``.

    Example:
        >>> issubclass(ConvergenceWarning, UserWarning)
        True
    """


#: Rows per chunk are chosen so one chunk's largest intermediate holds about this many numbers
#: (4 MiB in float64). An E/M pass is a few thin matmuls over the same chunk, bound by memory
#: traffic: a chunk that stays in the CPU cache across them is read from RAM once. On a loaded
#: 2-core machine, an iteration on 60,000 x 784 (diag) took 2 to 6 times less time than with
#: 32 MiB chunks, and on 60,000 x 50 (full) about 2 times less.
CHUNK_ELEMENTS = 1 << 19


class TrainingData:
    """Samples to fit, as shifted ``(rows, n_features)`` chunks of one dtype.

    Build with :meth:`from_input`. ``array`` holds the whole shifted array (in-memory input) and
    ``dataset`` the shifted batches (streamed input); exactly one is set.

    Example:
        >>> import numpy as np
        >>> data = TrainingData.from_input(np.arange(6.0).reshape(3, 2), "float64")
        >>> data.shift.tolist()
        [2.0, 3.0]
    """

    def __init__(
        self,
        n_samples: int,
        n_features: int,
        shift: np.ndarray,
        dtype: str,
        array: tf.Tensor | None = None,
        dataset: tf.data.Dataset | None = None,
        sample_shape: tuple[int, ...] | None = None,
    ) -> None:
        self.n_samples = n_samples
        self.n_features = n_features
        self.shift = shift
        self.dtype = dtype
        self.array = array
        self.dataset = dataset
        self.sample_shape = sample_shape

    @classmethod
    def from_input(cls, X: Any, dtype: str) -> TrainingData:
        """Validate ``X`` (array-like ``(n, ...)`` or ``tf.data.Dataset``) and shift it.

        Arrays of rank > 2 (images) are flattened per sample. A dataset yields batches (or
        ``(batch, label)`` tuples, whose first element is used); it is read once here to count
        the samples, check them and compute the shift.

        Raises:
            ValueError: empty, non-finite or wrongly shaped data.

        Example:
            >>> TrainingData.from_input([[1.0], [3.0]], "float32").shift.tolist()
            [2.0]
        """
        if isinstance(X, tf.data.Dataset):
            return cls._from_dataset(X, dtype)
        array = np.asarray(X.numpy() if isinstance(X, tf.Tensor) else X)
        if array.ndim < 2:
            raise ValueError(
                "Expected a 2-D array (n_samples, n_features), images (n_samples, ...) or a "
                f"tf.data.Dataset of batches. Received: X with shape={array.shape}"
            )
        if not np.issubdtype(array.dtype, np.number) or np.issubdtype(
            array.dtype, np.complexfloating
        ):
            raise ValueError(f"X must hold real numbers. Received: dtype={array.dtype}")
        sample_shape = tuple(array.shape[1:]) if array.ndim > 2 else None
        array = array.reshape(array.shape[0], -1)  # a view for contiguous input
        if array.shape[0] == 0 or array.shape[1] == 0:
            raise ValueError(f"X is empty. Received: shape={array.shape}")
        # One read for the mean, which is finite exactly when every entry is (or the sum
        # overflows): the entry-wise check only runs to name the bad entry.
        shift = array.mean(axis=0, dtype=np.float64)
        if not np.all(np.isfinite(shift)):
            bad = np.argwhere(~np.isfinite(array))
            if bad.size:
                i, j = bad[0]
                raise ValueError(f"X contains NaN or infinity: X[{i}, {j}]={float(array[i, j])}")
            raise ValueError(
                "X is too large to average in float64 (the sum of a column overflows). "
                f"Received: max |X|={float(np.max(np.abs(array)))!r}; scale the data."
            )
        # The one copy of the data: centred, in the fit's dtype, written once into a buffer
        # that TensorFlow then uses in place (DLPack needs it 64-byte aligned).
        shifted = aligned_empty(array.shape, dtype)
        np.subtract(array, shift, out=shifted, casting="same_kind")
        tensor = tf.experimental.dlpack.from_dlpack(shifted.__dlpack__())
        if tf.config.list_logical_devices("GPU"):
            with tf.device("GPU:0"):  # one copy into the accelerator's memory, kept there
                tensor = tf.identity(tensor)
        return cls(array.shape[0], array.shape[1], shift, dtype, tensor, None, sample_shape)

    @classmethod
    def _from_dataset(cls, dataset: tf.data.Dataset, dtype: str) -> TrainingData:
        spec = dataset.element_spec
        if isinstance(spec, tuple):
            dataset = dataset.map(lambda *e: e[0])
            spec = spec[0]
        if not isinstance(spec, tf.TensorSpec) or spec.shape.rank is None or spec.shape.rank < 2:
            raise ValueError(
                "A dataset passed to fit must yield batches of shape (batch, n_features) or "
                f"(batch, height, width, channels). Received: element_spec={spec}"
            )
        sample_shape = tuple(spec.shape[1:]) if spec.shape.rank > 2 else None
        flat = dataset.map(lambda x: tf.reshape(tf.cast(x, tf.float64), [tf.shape(x)[0], -1]))
        n, total, n_features = 0, None, None
        for batch in flat:
            values = batch.numpy()
            if n_features is None:
                n_features = values.shape[1]
            elif values.shape[1] != n_features:
                raise ValueError(
                    f"Every batch must have {n_features} features. Received: a batch of shape "
                    f"{values.shape}"
                )
            if not np.all(np.isfinite(values)):
                raise ValueError(f"The dataset contains NaN or infinity (batch starting at {n})")
            total = values.sum(axis=0) if total is None else total + values.sum(axis=0)
            n += values.shape[0]
        if n == 0 or not n_features:
            raise ValueError("The dataset passed to fit yielded no samples")
        shift = total / n
        shift_t = tf.constant(shift.astype(dtype))
        shifted = flat.map(lambda x: tf.cast(x, dtype) - shift_t)
        if sample_shape is not None and None in sample_shape:
            sample_shape = None
        return cls(n, int(n_features), shift, dtype, None, shifted, sample_shape)

    def chunk_rows(self, per_row: int) -> int:
        """Rows per chunk when one row's largest intermediate has ``per_row`` numbers.

        Example:
            >>> TrainingData(10, 2, np.zeros(2), "float64").chunk_rows(4)
            10
        """
        return int(min(self.n_samples, max(64, CHUNK_ELEMENTS // max(per_row, 1))))

    def batches(self, rows: int = 8192) -> Iterator[tf.Tensor]:
        """The shifted samples in order, as tensors of at most ``rows`` rows (arrays) or the
        dataset's own batches.

        Example:
            >>> data = TrainingData.from_input(np.zeros((5, 1)), "float64")
            >>> [int(b.shape[0]) for b in data.batches(2)]
            [2, 2, 1]
        """
        if self.array is not None:
            for start in range(0, self.n_samples, rows):
                yield self.array[start : start + rows]
        else:
            yield from self.dataset


def aligned_empty(shape: tuple[int, ...], dtype: str, alignment: int = 64) -> np.ndarray:
    """An uninitialised C-contiguous array whose data starts on an ``alignment``-byte boundary.

    TensorFlow's kernels require 64-byte aligned buffers; an array handed over by DLPack is
    used in place, so it must be aligned from the start.

    Example:
        >>> aligned_empty((3, 5), "float32").ctypes.data % 64
        0
    """
    dtype = np.dtype(dtype)
    size = int(np.prod(shape)) * dtype.itemsize
    raw = np.empty(size + alignment, np.uint8)
    offset = -raw.ctypes.data % alignment
    return raw[offset : offset + size].view(dtype).reshape(shape)


def check_random_state(seed: Any) -> np.random.RandomState:
    """A ``RandomState`` from None, an int or a ``RandomState`` (scikit-learn's convention).

    Example:
        >>> check_random_state(0).randint(10) == np.random.RandomState(0).randint(10)
        True
    """
    if seed is None:
        return np.random.RandomState()
    if isinstance(seed, np.random.RandomState):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.RandomState(int(seed))
    raise ValueError(
        f"random_state must be None, an int or a numpy RandomState. Received: {seed!r}"
    )


class BaseMixture:
    """EM for mixture models; subclasses define the component family.

    Subclasses implement:

    * ``_check_parameters()``: validate the constructor arguments (raises ``ValueError``);
    * ``_initial_parameters(data, rng)``: the parameters to start EM from;
    * ``_iterate(data, params)``: one E step then M step, returning
      ``(new_params, lower_bound_of_params)``;
    * ``_store(params, data)``: set the fitted attributes from the best parameters.

    Example:
        >>> from keras_gan.mixture import GaussianMixture
        >>> issubclass(GaussianMixture, BaseMixture)
        True
    """

    n_components: int
    tol: float
    max_iter: int
    n_init: int
    random_state: Any
    dtype: str
    verbose: int

    def fit(self, X: Any, y: Any = None) -> BaseMixture:
        """Fit the mixture by EM to ``X``: an array ``(n_samples, n_features)``, images
        ``(n_samples, ...)`` (flattened) or a ``tf.data.Dataset`` of such batches (streamed:
        each iteration reads the dataset once, so it need not fit in memory).

        Runs ``n_init`` initialisations and keeps the one with the largest final lower bound.
        ``y`` is ignored.

        Returns:
            ``self``.

        Raises:
            ValueError: a bad constructor argument, bad data, fewer samples than components or a
                covariance that is not positive definite.

        Example:
            >>> import numpy as np
            >>> from keras_gan.mixture import GaussianMixture
            >>> x = np.random.default_rng(0).normal(size=(100, 2))
            >>> GaussianMixture(2, random_state=0).fit(x).means_.shape
            (2, 2)
        """
        self._check_parameters()
        data = TrainingData.from_input(X, self.dtype)
        if data.n_samples < self.n_components:
            raise ValueError(
                "Expected n_samples >= n_components. Received: "
                f"n_samples={data.n_samples}, n_components={self.n_components}"
            )
        self._check_initial_values(data.n_features)
        rng = check_random_state(self.random_state)
        best = None
        for init in range(self.n_init):
            params = self._initial_parameters(data, rng)
            lower_bound, bounds, converged, change = -np.inf, [], False, np.nan
            n_iter = 0
            progress = self._progress_start(init)
            for n_iter in range(1, self.max_iter + 1):
                start = time.perf_counter()
                previous = lower_bound
                params, lower_bound = self._iterate(data, params)
                bounds.append(lower_bound)
                change = lower_bound - previous
                self._progress_update(progress, n_iter, lower_bound, change, start)
                if abs(change) < self.tol:
                    converged = True
                    break
            if self.verbose >= 2:
                print(
                    f"Initialization {init} {'converged' if converged else 'did not converge'}:"
                    f" lower bound {lower_bound:.6f} after {n_iter} iterations",
                    file=sys.stderr,
                )
            if best is None or lower_bound > best[0]:
                best = (lower_bound, params, n_iter, converged, bounds, change)
        lower_bound, params, n_iter, converged, bounds, change = best
        if not converged and self.max_iter > 0:
            warnings.warn(
                f"EM did not converge: the best of n_init={self.n_init} initialisations stopped at"
                f" max_iter={self.max_iter} with the lower bound still changing by {change:.3g}"
                f" per iteration (tol={self.tol}). Try a larger max_iter, a larger tol, another"
                " init_params or random_state, or check the data for degenerate features.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.converged_ = bool(converged)
        self.n_iter_ = int(n_iter)
        self.lower_bound_ = float(lower_bound)
        self.lower_bounds_ = [float(b) for b in bounds]
        self.n_features_in_ = data.n_features
        self._store(params, data)
        return self

    def fit_predict(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit, then return each sample's most probable component (arrays only).

        Example:
            >>> import numpy as np
            >>> from keras_gan.mixture import GaussianMixture
            >>> x = np.r_[np.zeros((5, 1)), np.ones((5, 1)) * 9] + np.arange(10)[:, None] * 0.01
            >>> labels = GaussianMixture(2, random_state=0).fit_predict(x)
            >>> len(set(labels[:5])), bool(labels[0] != labels[-1])
            (1, True)
        """
        return self.fit(X).predict(X)

    # Progress output -------------------------------------------------------------------------

    def _progress_start(self, init: int) -> Any:
        if self.verbose == 1 and self.max_iter > 0:
            import keras

            print(f"Initialization {init}", file=sys.stderr)
            return keras.utils.Progbar(self.max_iter, stateful_metrics=["lower_bound", "change"])
        if self.verbose >= 2:
            print(f"Initialization {init}", file=sys.stderr)
        return None

    def _progress_update(
        self, progress: Any, n_iter: int, lower_bound: float, change: float, start: float
    ) -> None:
        if progress is not None:
            progress.update(n_iter, [("lower_bound", lower_bound), ("change", change)])
        elif self.verbose >= 2:
            print(
                f"  Iteration {n_iter}: lower bound {lower_bound:.6f}, change {change:.3g}, "
                f"{time.perf_counter() - start:.3f} s",
                file=sys.stderr,
            )
