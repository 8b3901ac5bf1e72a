"""``GaussianMixture``: a mixture of k Gaussians fitted by EM, with an explicit likelihood.

The tractable counterpart to the GANs: scikit-learn's ``GaussianMixture`` surface and
conventions (same results from the same initial parameters), with the E and M steps in
TensorFlow (float64 by default, float32 allowed, CPU or GPU), streamed fitting from a
``tf.data.Dataset``, a non-pickle ``.npz`` save format and an exportable Keras generator.

Example:
    >>> import numpy as np
    >>> from keras_gan.mixture import GaussianMixture
    >>> x = np.r_[np.random.default_rng(0).normal(-3, 1, (200, 2)),
    ...           np.random.default_rng(1).normal(3, 1, (200, 2))]
    >>> gmm = GaussianMixture(n_components=2, covariance_type="diag", random_state=0).fit(x)
    >>> sorted(np.round(gmm.means_[:, 0]).tolist())
    [-3.0, 3.0]
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from keras_gan._checks import check_non_negative_int, check_positive_int

from . import ops
from .base import BaseMixture, TrainingData, check_random_state
from .kmeans import kmeans

INIT_PARAMS = ("kmeans", "random")
DTYPES = ("float64", "float32")
FORMAT = "keras_gan.mixture.v1"


def _degenerate_error(reg_covar: float) -> ValueError:
    return ValueError(
        "Fitting the mixture model failed: a component's covariance is not positive definite "
        "(singular or collapsed data, e.g. a constant feature or a component holding a single "
        f"point). Raise reg_covar (now reg_covar={reg_covar!r}), scale the data, or use fewer "
        "components."
    )


class GaussianMixture(BaseMixture):
    """Mixture of ``n_components`` Gaussians fitted by Expectation Maximisation.

    Args:
        n_components: number of mixture components.
        covariance_type: ``"full"`` (one full matrix per component), ``"tied"`` (one shared full
            matrix), ``"diag"`` (one diagonal per component) or ``"spherical"`` (one variance
            per component).
        tol: convergence threshold on the change of the per-sample lower bound (the mean
            log-likelihood) between iterations.
        reg_covar: non-negative value added to each covariance's diagonal.
        max_iter: EM iterations per initialisation.
        n_init: initialisations; the one with the largest lower bound is kept.
        init_params: ``"kmeans"`` (responsibilities from k-means with k-means++ seeding) or
            ``"random"`` (uniform random responsibilities, as scikit-learn draws them).
        random_state: None, an int or a ``numpy.random.RandomState``.
        dtype: ``"float64"`` (default) or ``"float32"``.
        verbose: 0 silent, 1 a progress bar per initialisation, 2 one line per iteration.
        weights_init: initial weights ``(n_components,)``.
        means_init: initial means ``(n_components, n_features)``.
        precisions_init: initial precisions (inverse covariances), shaped like ``covariances_``.
        init_sample_size: k-means runs on a uniform random subset of at most this many samples
            (all of them when there are fewer); every sample is then assigned to its nearest
            centre to form the initial responsibilities.

    Fitted attributes: ``weights_``, ``means_``, ``covariances_``, ``precisions_``,
    ``precisions_cholesky_``, ``converged_``, ``n_iter_``, ``lower_bound_`` (the mean
    log-likelihood of the last E step), ``lower_bounds_`` (one per iteration of the kept
    initialisation), ``n_features_in_``, and ``image_shape_``/``data_range_`` (metadata used by
    :meth:`as_generator`; ``image_shape_`` is set when fitted on images).

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(500, 3))
        >>> gmm = GaussianMixture(n_components=2, random_state=0).fit(x)
        >>> gmm.predict_proba(x[:2]).shape, gmm.converged_
        ((2, 2), True)
    """

    def __init__(
        self,
        n_components: int = 1,
        covariance_type: str = "full",
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: str = "kmeans",
        random_state: Any = None,
        dtype: str = "float64",
        verbose: int = 0,
        *,
        weights_init: Any = None,
        means_init: Any = None,
        precisions_init: Any = None,
        init_sample_size: int = 20_000,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.random_state = random_state
        self.dtype = dtype
        self.verbose = verbose
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.init_sample_size = init_sample_size
        self.image_shape_: tuple[int, ...] | None = None
        self.data_range_: tuple[float, float] | None = None
        self._check_parameters()

    # Validation ---------------------------------------------------------------------------

    def _check_parameters(self) -> None:
        check_positive_int(self.n_components, "n_components")
        check_non_negative_int(self.max_iter, "max_iter")
        check_positive_int(self.n_init, "n_init")
        check_non_negative_int(self.verbose, "verbose")
        check_positive_int(self.init_sample_size, "init_sample_size")
        if self.covariance_type not in ops.COVARIANCE_TYPES:
            raise ValueError(
                f"covariance_type must be one of {ops.COVARIANCE_TYPES}. "
                f"Received: covariance_type={self.covariance_type!r}"
            )
        for name in ("tol", "reg_covar"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ValueError(f"{name} must be a number >= 0. Received: {name}={value!r}")
        if self.init_params not in INIT_PARAMS:
            raise ValueError(
                f"init_params must be one of {INIT_PARAMS}. "
                f"Received: init_params={self.init_params!r}"
            )
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}. Received: dtype={self.dtype!r}")

    def _precision_shape(self, d: int) -> tuple[int, ...]:
        k = self.n_components
        return {"full": (k, d, d), "tied": (d, d), "diag": (k, d), "spherical": (k,)}[
            self.covariance_type
        ]

    def _check_initial_values(self, n_features: int) -> None:
        k = self.n_components
        if self.weights_init is not None:
            w = np.asarray(self.weights_init, np.float64)
            if w.shape != (k,):
                raise ValueError(f"weights_init must have shape ({k},). Received: shape={w.shape}")
            if np.any(w < 0) or np.any(w > 1) or not np.isclose(w.sum(), 1.0, rtol=0, atol=1e-6):
                raise ValueError(
                    "weights_init must be in [0, 1] and sum to 1. "
                    f"Received: weights_init={w.tolist()} (sum {w.sum()!r})"
                )
        if self.means_init is not None:
            m = np.asarray(self.means_init, np.float64)
            if m.shape != (k, n_features):
                raise ValueError(
                    f"means_init must have shape ({k}, {n_features}). Received: shape={m.shape}"
                )
        if self.precisions_init is not None:
            p = np.asarray(self.precisions_init, np.float64)
            expected = self._precision_shape(n_features)
            if p.shape != expected:
                raise ValueError(
                    f"precisions_init must have shape {expected} for covariance_type="
                    f"{self.covariance_type!r}. Received: shape={p.shape}"
                )
            if self.covariance_type in ("full", "tied"):
                matrices = p.reshape(-1, n_features, n_features)
                for i, matrix in enumerate(matrices):
                    if not np.allclose(matrix, matrix.T) or np.any(np.linalg.eigvalsh(matrix) <= 0):
                        raise ValueError(
                            f"precisions_init[{i}] must be symmetric and positive definite."
                        )
            elif np.any(p <= 0):
                raise ValueError(
                    f"precisions_init must be positive. Received: min={float(p.min())!r}"
                )

    # EM hooks -----------------------------------------------------------------------------

    def _initial_parameters(self, data: TrainingData, rng: np.random.RandomState) -> tuple:
        # Parameters are float64 tensors whatever the data's dtype (see ops.STATISTICS_DTYPE).
        kind, dtype = self.covariance_type, np.float64
        given = (self.weights_init, self.means_init, self.precisions_init)
        if any(v is None for v in given):
            if self.init_params == "kmeans":
                stats = self._kmeans_statistics(data, rng)
            else:
                stats = self._random_statistics(data, rng)
            try:
                weights, means, covariances, prec_chol = ops.m_step(
                    *stats, self.reg_covar, kind, n_samples=data.n_samples
                )
            except tf.errors.InvalidArgumentError:
                raise _degenerate_error(self.reg_covar) from None
            if not bool(ops.parameters_finite(prec_chol)):
                raise _degenerate_error(self.reg_covar)
        if self.weights_init is not None:
            weights = tf.constant(np.asarray(self.weights_init, dtype))
        if self.means_init is not None:
            means = tf.constant(
                (np.asarray(self.means_init, np.float64) - data.shift).astype(dtype)
            )
        if self.precisions_init is not None:
            precisions = np.asarray(self.precisions_init, np.float64)
            if kind in ("full", "tied"):
                prec_chol = np.linalg.cholesky(precisions)
                covariances = np.linalg.inv(precisions)
            else:
                prec_chol = np.sqrt(precisions)
                covariances = 1.0 / precisions
            prec_chol = tf.constant(prec_chol.astype(dtype))
            covariances = tf.constant(covariances.astype(dtype))
        return weights, means, covariances, prec_chol

    def _kmeans_statistics(self, data: TrainingData, rng: np.random.RandomState) -> tuple:
        # A uniform subset chosen by one random key per sample (drawn in sample order, so the
        # choice does not depend on how the data is chunked), kept in sample order.
        size = self.init_sample_size
        rows, keys, index, offset = [], [], [], 0
        for batch in data.batches():
            values = batch.numpy().astype(np.float64)
            batch_keys = rng.uniform(size=values.shape[0])
            rows.append(values)
            keys.append(batch_keys)
            index.append(np.arange(offset, offset + values.shape[0]))
            offset += values.shape[0]
            if sum(r.shape[0] for r in rows) > 2 * size:
                rows, keys, index = _smallest_keys(rows, keys, index, size)
        rows, keys, index = _smallest_keys(rows, keys, index, size)
        order = np.argsort(index[0], kind="stable")
        sample = rows[0][order]
        centers, _ = kmeans(sample, self.n_components, rng)
        centers_t = tf.constant(centers.astype(data.dtype))
        stats = self._accumulate(
            data, lambda x: ops.chunk_statistics_from_centers(x, centers_t, self.covariance_type)
        )
        distinct = int(np.count_nonzero(stats[0].numpy() > 0))
        if distinct < self.n_components:
            warnings.warn(
                f"k-means found {distinct} distinct clusters, fewer than n_components="
                f"{self.n_components}: the data probably holds duplicate points. The empty "
                "components start with zero weight; consider fewer components.",
                UserWarning,
                stacklevel=4,
            )
        return stats

    def _random_statistics(self, data: TrainingData, rng: np.random.RandomState) -> tuple:
        def stats(x: tf.Tensor) -> tuple:
            resp = rng.uniform(size=(int(x.shape[0]), self.n_components))
            resp /= resp.sum(axis=1, keepdims=True)
            resp_t = tf.constant(resp.astype(data.dtype))
            return ops.chunk_statistics_from_resp(x, resp_t, self.covariance_type)

        return self._accumulate(data, stats)

    @staticmethod
    def _accumulate(data: TrainingData, fn: Any) -> tuple:
        total = None
        for batch in data.batches():
            part = fn(batch)
            total = (
                part if total is None else tuple(a + b for a, b in zip(total, part, strict=True))
            )
        return total

    def _iterate(self, data: TrainingData, params: tuple) -> tuple[tuple, float]:
        weights, means, _, prec_chol = params
        kind = self.covariance_type
        reg_covar = tf.constant(self.reg_covar, ops.STATISTICS_DTYPE)
        try:
            if data.array is not None:
                per_row = data.n_features * (self.n_components if kind == "full" else 1)
                rows = tf.constant(data.chunk_rows(per_row), tf.int32)
                out = ops.array_iteration(
                    data.array, weights, means, prec_chol, kind, reg_covar, rows
                )
            else:
                out = ops.dataset_iteration(
                    data.dataset, weights, means, prec_chol, kind, reg_covar
                )
        except tf.errors.InvalidArgumentError:
            raise _degenerate_error(self.reg_covar) from None
        *new, lower_bound, finite = out
        if not bool(finite):
            raise _degenerate_error(self.reg_covar)
        return tuple(new), float(lower_bound)

    def _store(self, params: tuple, data: TrainingData) -> None:
        weights, means, covariances, prec_chol = (np.asarray(p, np.float64) for p in params)
        self.weights_ = weights.astype(data.dtype)
        self.means_ = (means + data.shift).astype(data.dtype)
        self.covariances_ = covariances.astype(data.dtype)
        self.precisions_cholesky_ = prec_chol.astype(data.dtype)
        if data.sample_shape is not None:
            self.image_shape_ = tuple(int(s) for s in data.sample_shape)

    # Fitted model -------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "means_"):
            raise ValueError(
                "This GaussianMixture is not fitted yet: call fit(X) or load a saved model."
            )

    @property
    def precisions_(self) -> np.ndarray:
        """Precision matrices (inverse covariances), shaped like ``covariances_``.

        Example:
            >>> gmm = GaussianMixture(1, "diag").fit(np.array([[0.0], [2.0]]))
            >>> round(float(gmm.precisions_[0, 0]), 3)
            1.0
        """
        self._check_fitted()
        p = self.precisions_cholesky_
        if self.covariance_type == "full":
            return np.einsum("kij,klj->kil", p, p)
        if self.covariance_type == "tied":
            return p @ p.T
        return p**2

    def _as_rows(self, X: Any) -> np.ndarray:
        self._check_fitted()
        x = np.asarray(X.numpy() if isinstance(X, tf.Tensor) else X, dtype=np.float64)
        if x.ndim < 2:
            raise ValueError(
                f"Expected a 2-D array (n_samples, n_features). Received: shape={x.shape}"
            )
        x = x.reshape(x.shape[0], -1)
        if x.shape[1] != self.means_.shape[1]:
            raise ValueError(
                f"X has {x.shape[1]} features, but the mixture was fitted with "
                f"{self.means_.shape[1]}. Received: shape={x.shape}"
            )
        return x

    def _log_resp(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        x = self._as_rows(X)
        center = self.weights_.astype(np.float64) @ self.means_.astype(np.float64)
        dtype = str(self.means_.dtype)
        params = (  # float64, as in fitting; the samples are in the fitted dtype
            tf.constant(self.weights_.astype(np.float64)),
            tf.constant(self.means_.astype(np.float64) - center),
            tf.constant(self.precisions_cholesky_.astype(np.float64)),
        )
        per_row = x.shape[1] * (self.n_components if self.covariance_type == "full" else 1)
        rows = max(64, ops_rows(per_row))
        resps, norms = [], []
        for start in range(0, x.shape[0], rows):
            chunk = tf.constant((x[start : start + rows] - center).astype(dtype))
            log_resp, log_norm = ops.chunk_log_resp(chunk, *params, self.covariance_type)
            resps.append(log_resp.numpy())
            norms.append(log_norm.numpy())
        if not resps:
            return np.zeros((0, self.n_components)), np.zeros((0,))
        return np.concatenate(resps), np.concatenate(norms)

    def score_samples(self, X: Any) -> np.ndarray:
        """Log-likelihood of each sample, ``(n_samples,)``.

        Example:
            >>> gmm = GaussianMixture(1, "spherical").fit(np.array([[0.0], [2.0]]))
            >>> gmm.score_samples(np.array([[1.0]])).shape
            (1,)
        """
        return self._log_resp(X)[1]

    def score(self, X: Any, y: Any = None) -> float:
        """Mean log-likelihood per sample.

        Example:
            >>> gmm = GaussianMixture(1, "diag").fit(np.array([[0.0], [2.0]]))
            >>> round(gmm.score(np.array([[0.0], [2.0]])), 4)  # N(1, 1): -log(2 pi) / 2 - 1 / 2
            -1.4189
        """
        return float(np.mean(self.score_samples(X)))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Posterior probability of each component for each sample, ``(n_samples, K)``.

        Example:
            >>> gmm = GaussianMixture(1, "diag").fit(np.array([[0.0], [2.0]]))
            >>> gmm.predict_proba(np.array([[1.0]])).tolist()
            [[1.0]]
        """
        return np.exp(self._log_resp(X)[0])

    def predict(self, X: Any) -> np.ndarray:
        """Most probable component of each sample, ``(n_samples,)`` int.

        Example:
            >>> gmm = GaussianMixture(1, "diag").fit(np.array([[0.0], [2.0]]))
            >>> gmm.predict(np.array([[1.0]])).tolist()
            [0]
        """
        return np.argmax(self._log_resp(X)[0], axis=1)

    def sample(self, n_samples: int = 1, seed: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n_samples`` points: ``(X (n_samples, n_features), component labels)``.

        Component counts are multinomial in ``weights_``; points are grouped by component as
        in scikit-learn. ``seed`` (None uses ``random_state``) may be an int or a RandomState.

        Example:
            >>> gmm = GaussianMixture(2, "diag", random_state=0).fit(
            ...     np.random.default_rng(0).normal(size=(50, 2)))
            >>> [a.shape for a in gmm.sample(5)]
            [(5, 2), (5,)]
        """
        self._check_fitted()
        n_samples = check_positive_int(n_samples, "n_samples")
        rng = check_random_state(self.random_state if seed is None else seed)
        weights = self.weights_.astype(np.float64)
        counts = rng.multinomial(n_samples, weights / weights.sum())
        factors = self._cholesky_factors()
        d = self.means_.shape[1]
        parts = []
        for k, count in enumerate(counts):
            z = rng.standard_normal((count, d))
            parts.append(
                self.means_[k].astype(np.float64) + _transform(z, factors, k, self.covariance_type)
            )
        labels = np.repeat(np.arange(self.n_components), counts)
        return np.concatenate(parts).astype(self.means_.dtype), labels

    def _cholesky_factors(self) -> np.ndarray:
        """Lower Cholesky factors (full/tied) or standard deviations (diag/spherical)."""
        cov = self.covariances_.astype(np.float64)
        if self.covariance_type in ("full", "tied"):
            return np.linalg.cholesky(cov)
        return np.sqrt(cov)

    def _n_parameters(self) -> int:
        k, d = self.means_.shape
        cov = {
            "full": k * d * (d + 1) / 2.0,
            "diag": k * d,
            "tied": d * (d + 1) / 2.0,
            "spherical": k,
        }[self.covariance_type]
        return int(cov + k * d + k - 1)

    def bic(self, X: Any) -> float:
        """Bayesian information criterion on ``X`` (lower is better).

        Example:
            >>> x = np.random.default_rng(0).normal(size=(100, 1))
            >>> gmm = GaussianMixture(1, "diag").fit(x)
            >>> bool(gmm.bic(x) > gmm.aic(x))
            True
        """
        n = self._as_rows(X).shape[0]
        return -2.0 * self.score(X) * n + self._n_parameters() * np.log(n)

    def aic(self, X: Any) -> float:
        """Akaike information criterion on ``X`` (lower is better).

        Example:
            >>> x = np.random.default_rng(0).normal(size=(100, 1))
            >>> isinstance(GaussianMixture(1, "diag").fit(x).aic(x), float)
            True
        """
        n = self._as_rows(X).shape[0]
        return float(-2.0 * self.score(X) * n + 2 * self._n_parameters())

    # Config, save and load ----------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments as JSON-compatible values (initial values excluded).

        Example:
            >>> GaussianMixture(3, "diag").get_config()["n_components"]
            3
        """
        seed = self.random_state if isinstance(self.random_state, (int, np.integer)) else None
        return {
            "n_components": int(self.n_components),
            "covariance_type": self.covariance_type,
            "tol": float(self.tol),
            "reg_covar": float(self.reg_covar),
            "max_iter": int(self.max_iter),
            "n_init": int(self.n_init),
            "init_params": self.init_params,
            "random_state": None if seed is None else int(seed),
            "dtype": self.dtype,
            "verbose": int(self.verbose),
            "init_sample_size": int(self.init_sample_size),
        }

    def save(self, path: str | os.PathLike) -> Path:
        """Write the fitted model to one ``.npz`` file, atomically (no pickle).

        The file holds the arrays ``weights``, ``means``, ``covariances``,
        ``precisions_cholesky`` and ``lower_bounds``, and ``config``: a JSON string with the
        format name, the constructor config and the fitted metadata (``converged``,
        ``n_iter``, ``lower_bound``, ``n_features``, ``image_shape``, ``data_range``).

        Returns:
            The written path.

        Example:
            >>> gmm = GaussianMixture(1, "diag").fit(np.array([[0.0], [2.0]]))
            >>> gmm.save("/tmp/gmm_doc.npz").name
            'gmm_doc.npz'
        """
        self._check_fitted()
        path = Path(path)
        meta = {
            "format": FORMAT,
            "config": self.get_config(),
            "converged": bool(self.converged_),
            "n_iter": int(self.n_iter_),
            "lower_bound": float(self.lower_bound_),
            "n_features": int(self.means_.shape[1]),
            "image_shape": None if self.image_shape_ is None else list(self.image_shape_),
            "data_range": None if self.data_range_ is None else list(self.data_range_),
        }
        arrays = {
            "weights": self.weights_,
            "means": self.means_,
            "covariances": self.covariances_,
            "precisions_cholesky": self.precisions_cholesky_,
            "lower_bounds": np.asarray(getattr(self, "lower_bounds_", []), np.float64),
            "config": np.array(json.dumps(meta)),
        }
        from keras_gan import _atomic

        with _atomic.write_with(path) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> GaussianMixture:
        """Read a model written by :meth:`save` (``allow_pickle=False``).

        Raises:
            ValueError: the file is not a saved mixture or is inconsistent.

        Example:
            >>> gmm = GaussianMixture(1, "diag").fit(np.array([[0.0], [2.0]]))
            >>> GaussianMixture.load(gmm.save("/tmp/gmm_doc.npz")).means_.tolist()
            [[1.0]]
        """
        import zipfile

        try:
            with np.load(Path(path), allow_pickle=False) as npz:
                if "config" not in npz.files:
                    raise ValueError(f"{path} is not a saved GaussianMixture (no 'config' entry)")
                meta = json.loads(str(npz["config"]))
                arrays = {name: npz[name] for name in npz.files if name != "config"}
        except (zipfile.BadZipFile, EOFError) as error:
            raise ValueError(f"{path} is not a saved GaussianMixture ({error})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            found = meta.get("format") if isinstance(meta, dict) else meta
            raise ValueError(f"{path} has format {found!r}; expected {FORMAT!r}")
        try:
            model = cls(**meta["config"])
            model.weights_ = arrays["weights"]
            model.means_ = arrays["means"]
            model.covariances_ = arrays["covariances"]
            model.precisions_cholesky_ = arrays["precisions_cholesky"]
            model.lower_bounds_ = arrays["lower_bounds"].tolist()
            model.converged_ = bool(meta["converged"])
            model.n_iter_ = int(meta["n_iter"])
            model.lower_bound_ = float(meta["lower_bound"])
            model.n_features_in_ = int(meta["n_features"])
            if meta.get("image_shape") is not None:
                model.image_shape_ = tuple(int(s) for s in meta["image_shape"])
            if meta.get("data_range") is not None:
                model.data_range_ = tuple(float(v) for v in meta["data_range"])
            expected = model._precision_shape(model.n_features_in_)
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(
                f"{path} is not a valid saved GaussianMixture: {type(error).__name__}: {error}"
            ) from None
        shapes = {
            "weights": (model.weights_.shape, (model.n_components,)),
            "means": (model.means_.shape, (model.n_components, model.n_features_in_)),
            "covariances": (model.covariances_.shape, expected),
            "precisions_cholesky": (model.precisions_cholesky_.shape, expected),
        }
        wrong = {name: got for name, (got, want) in shapes.items() if got != want}
        if wrong:
            raise ValueError(
                f"{path} is inconsistent: "
                + ", ".join(
                    f"{name} {got} (expected {shapes[name][1]})" for name, got in wrong.items()
                )
                + f" for {meta['config']}"
            )
        return model

    def as_generator(
        self,
        image_shape: Sequence[int] | None = None,
        data_range: Sequence[float] | None = None,
    ) -> Any:
        """A Keras generator ``z -> sample`` that draws exact mixture samples from normal ``z``.

        See :func:`keras_gan.mixture.generator.mixture_generator`. ``image_shape`` defaults to
        ``image_shape_`` and ``data_range`` to ``data_range_`` or ``(0, 1)``.

        Example:
            >>> gmm = GaussianMixture(2, "diag", random_state=0).fit(
            ...     np.random.default_rng(0).uniform(size=(50, 4)))
            >>> gmm.as_generator(image_shape=(2, 2, 1)).output_shape
            (None, 2, 2, 1)
        """
        from .generator import mixture_generator

        self._check_fitted()
        if image_shape is None:
            image_shape = self.image_shape_
        if data_range is None:
            data_range = self.data_range_ or (0.0, 1.0)
        return mixture_generator(
            self.weights_,
            self.means_,
            self._cholesky_factors(),
            self.covariance_type,
            image_shape=image_shape,
            data_range=data_range,
        )

    @property
    def latent_dim(self) -> int:
        """Input size of :meth:`as_generator`: ``n_features + 1``.

        Example:
            >>> GaussianMixture(1, "diag").fit(np.zeros((3, 4)) + np.arange(3)[:, None]).latent_dim
            5
        """
        self._check_fitted()
        return int(self.means_.shape[1]) + 1


def ops_rows(per_row: int) -> int:
    """Rows per chunk for prediction, from the same budget as fitting.

    Example:
        >>> ops_rows(1 << 22)
        1
    """
    from .base import CHUNK_ELEMENTS

    return max(1, CHUNK_ELEMENTS // max(per_row, 1))


def _transform(z: np.ndarray, factors: np.ndarray, k: int, kind: str) -> np.ndarray:
    if kind == "full":
        return z @ factors[k].T
    if kind == "tied":
        return z @ factors.T
    if kind == "diag":
        return z * factors[k]
    return z * factors[k]


def _smallest_keys(rows: list, keys: list, index: list, size: int) -> tuple[list, list, list]:
    all_rows, all_keys, all_index = (
        np.concatenate(rows),
        np.concatenate(keys),
        np.concatenate(index),
    )
    if all_keys.shape[0] > size:
        keep = np.argpartition(all_keys, size - 1)[:size]
        all_rows, all_keys, all_index = all_rows[keep], all_keys[keep], all_index[keep]
    return [all_rows], [all_keys], [all_index]


def load(path: str | os.PathLike) -> GaussianMixture:
    """Read a mixture saved by :meth:`GaussianMixture.save`.

    Example:
        >>> load("runs/gmm/mixture.npz").score_samples(x)  # doctest: +SKIP
    """
    return GaussianMixture.load(path)
