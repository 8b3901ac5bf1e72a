"""The E and M steps of a Gaussian mixture in TensorFlow: vectorised, in log space.

Every function takes data already shifted by the fit's centre (see ``GaussianMixture``). The data
(and so the big per-chunk products of the E and M steps) is float64 or float32; parameters and
accumulated statistics may be float64 in either case: what is derived from the parameters alone
(``mu * prec``, log-determinants, per-component constants) is computed in their dtype and then
cast to the data's. The conventions are scikit-learn's:

* ``precisions_cholesky`` is ``(K, d, d)`` for ``full``, ``(d, d)`` for ``tied``, ``(K, d)`` for
  ``diag`` and ``(K,)`` for ``spherical``; for ``full``/``tied`` it is the transposed inverse of
  the covariance's lower Cholesky factor, so ``P @ P.T`` is the precision matrix;
* ``nk`` is the sum of the responsibilities plus ``10 * eps``, weights are ``nk / sum(nk)``;
* ``reg_covar`` is added to the covariance's diagonal.

A pass over the data accumulates sufficient statistics ``(nk, sum_x, sum_xx, log_likelihood)``
chunk by chunk, so the same code fits an in-memory array or a stream of batches. The traced
functions that fitting and prediction call (:func:`array_iteration`, :func:`dataset_iteration`,
``chunk_*``) are built once per process for each covariance type and data dtype, with an input
signature of unknown sizes, so later estimators and data of other sizes reuse the same graph;
:data:`TRACE_COUNTS` counts the traces.

Example:
    >>> import tensorflow as tf
    >>> x = tf.constant([[0.0], [1.0]], tf.float64)
    >>> stats = sufficient_statistics(x, tf.constant([[1.0], [1.0]], tf.float64), "diag")
    >>> [float(s.numpy().sum()) for s in stats]
    [2.0, 1.0, 1.0]
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Callable

import tensorflow as tf

from .defaults import COVARIANCE_TYPES

#: Parameters and accumulated statistics are kept in float64 whatever the data's dtype: the
#: sums run over every sample, and the M step's ``E[x^2] - mean^2`` loses digits to
#: cancellation. These are small (K x d, or K x d x d for full), so this costs nothing per sample.
STATISTICS_DTYPE = tf.float64

#: How many times each traced function has been traced in this process, keyed by
#: ``(function name, covariance type, data dtype)``. Tracing happens on the first call only.
TRACE_COUNTS: Counter[tuple[str, str, str]] = Counter()


def log_gaussian_prob(
    x: tf.Tensor, means: tf.Tensor, precisions_cholesky: tf.Tensor, kind: str
) -> tf.Tensor:
    """Log density of every sample under every component, ``(n, K)``.

    Uses matmuls throughout; for ``diag``:
    ``x**2 @ prec.T - 2 x @ (mu * prec).T + sum(mu**2 prec)``.

    Example:
        >>> x = tf.zeros((1, 2), tf.float64)
        >>> p = log_gaussian_prob(x, tf.zeros((1, 2), tf.float64), tf.ones((1, 2), tf.float64),
        ...     "diag")
        >>> round(float(p[0, 0]), 6)
        -1.837877
    """
    dtype = x.dtype
    d = tf.cast(tf.shape(x)[1], means.dtype)

    def low(t: tf.Tensor) -> tf.Tensor:  # parameter-derived values in the data's dtype
        return tf.cast(t, dtype)

    if kind == "diag":
        precisions = tf.square(precisions_cholesky)
        quad = (
            low(tf.reduce_sum(tf.square(means) * precisions, axis=1))[None, :]
            - 2.0 * tf.matmul(x, low(means * precisions), transpose_b=True)
            + tf.matmul(tf.square(x), low(precisions), transpose_b=True)
        )
        log_det = tf.reduce_sum(tf.math.log(precisions_cholesky), axis=1)
    elif kind == "spherical":
        precisions = low(tf.square(precisions_cholesky))
        quad = (
            low(tf.reduce_sum(tf.square(means), axis=1))[None, :] * precisions[None, :]
            - 2.0 * tf.matmul(x, low(means), transpose_b=True) * precisions[None, :]
            + tf.reduce_sum(tf.square(x), axis=1, keepdims=True) * precisions[None, :]
        )
        log_det = d * tf.math.log(precisions_cholesky)
    elif kind == "tied":
        y = tf.matmul(x, low(precisions_cholesky))
        mu_p = tf.matmul(means, precisions_cholesky)
        quad = (
            tf.reduce_sum(tf.square(y), axis=1, keepdims=True)
            - 2.0 * tf.matmul(y, low(mu_p), transpose_b=True)
            + low(tf.reduce_sum(tf.square(mu_p), axis=1))[None, :]
        )
        log_det = tf.reduce_sum(tf.math.log(tf.linalg.diag_part(precisions_cholesky)))
    elif kind == "full":
        # One (n, d) @ (d, K*d) matmul for every component's x P_k: a single large GEMM runs
        # faster on CPU than K small batched ones.
        k, dim = tf.shape(means)[0], tf.shape(means)[1]
        stacked = tf.reshape(tf.transpose(precisions_cholesky, [1, 0, 2]), [dim, k * dim])
        y = tf.matmul(x, low(stacked))  # (n, K*d); column k*d + j is (x P_k)_j
        mu_p = tf.reshape(tf.einsum("kd,kde->ke", means, precisions_cholesky), [1, k * dim])
        quad = tf.reduce_sum(tf.reshape(tf.square(y - low(mu_p)), [-1, k, dim]), axis=2)
        log_det = tf.reduce_sum(tf.math.log(tf.linalg.diag_part(precisions_cholesky)), axis=1)
    else:
        raise ValueError(f"covariance_type must be one of {COVARIANCE_TYPES}. Received: {kind!r}")
    return -0.5 * (low(d * math.log(2.0 * math.pi)) + quad) + low(log_det)


def e_step(
    x: tf.Tensor, weights: tf.Tensor, means: tf.Tensor, precisions_cholesky: tf.Tensor, kind: str
) -> tuple[tf.Tensor, tf.Tensor]:
    """Log responsibilities ``(n, K)`` and per-sample log-likelihood ``(n,)`` (log-sum-exp).

    Example:
        >>> x = tf.zeros((3, 2), tf.float64)
        >>> ones = tf.ones((2, 2), tf.float64)
        >>> log_resp, ll = e_step(x, tf.constant([0.5, 0.5], tf.float64), 0 * ones, ones, "diag")
        >>> tuple(log_resp.shape), tuple(ll.shape)
        ((3, 2), (3,))
    """
    log_weights = tf.cast(tf.math.log(weights), x.dtype)
    weighted = log_gaussian_prob(x, means, precisions_cholesky, kind) + log_weights
    log_norm = tf.reduce_logsumexp(weighted, axis=1)
    return weighted - log_norm[:, None], log_norm


def sufficient_statistics(
    x: tf.Tensor, resp: tf.Tensor, kind: str, matrix_dtype: tf.DType | None = None
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """``(sum_k resp, resp.T @ x, second moments)`` of one chunk.

    The second moments are ``resp.T @ x**2`` ``(K, d)`` for diag/spherical, the per-component
    ``sum_n resp_nk x_n x_n^T`` ``(K, d, d)`` for full and ``x.T @ x`` ``(d, d)`` for tied.
    ``matrix_dtype`` (default ``x``'s) is the dtype the full/tied sums are computed in: a
    covariance matrix's small eigenvalues are lost to float32 round-off in its large entries.

    Example:
        >>> x = tf.constant([[1.0, 2.0]], tf.float64)
        >>> [tuple(s.shape) for s in sufficient_statistics(x, tf.ones((1, 3), tf.float64), "full")]
        [(3,), (3, 2), (3, 2, 2)]
    """
    nk = tf.reduce_sum(resp, axis=0)
    if kind in ("diag", "spherical"):
        sx = tf.matmul(resp, x, transpose_a=True)
        sxx = tf.matmul(resp, tf.square(x), transpose_a=True)
    else:
        # The means enter a full/tied covariance as mean mean^T: they need its precision.
        wide = tf.cast(x, matrix_dtype or x.dtype)
        sx = tf.matmul(tf.cast(resp, wide.dtype), wide, transpose_a=True)
        if kind == "tied":
            sxx = tf.matmul(wide, wide, transpose_a=True)
        else:
            # sum_n resp_nk x_n x_n^T for every k as one (K*d, n) @ (n, d) matmul.
            k, dim = tf.shape(resp)[1], tf.shape(x)[1]
            weighted = tf.cast(resp, wide.dtype)[:, :, None] * wide[:, None, :]
            weighted = tf.reshape(weighted, [-1, k * dim])  # (n, K*d)
            sxx = tf.reshape(tf.matmul(weighted, wide, transpose_a=True), [k, dim, dim])
    return nk, sx, sxx


def zero_statistics(
    n_components: int | tf.Tensor, n_features: int | tf.Tensor, kind: str, dtype: tf.DType
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
    """Zeros shaped like ``sufficient_statistics`` plus a log-likelihood sum.

    Example:
        >>> [tuple(s.shape) for s in zero_statistics(3, 2, "tied", tf.float64)]
        [(3,), (3, 2), (2, 2), ()]
    """
    k, d = n_components, n_features
    second = {"full": [k, d, d], "tied": [d, d]}.get(kind, [k, d])
    return (
        tf.zeros(tf.stack([k]), dtype),
        tf.zeros(tf.stack([k, d]), dtype),
        tf.zeros(tf.stack(second), dtype),
        tf.zeros((), dtype),
    )


def m_step(
    nk_raw: tf.Tensor,
    sx: tf.Tensor,
    sxx: tf.Tensor,
    reg_covar: float | tf.Tensor,
    kind: str,
    n_samples: int | tf.Tensor | None = None,
    nonnegative: bool = False,
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
    """Parameters from accumulated statistics: ``(weights, means, covariances, prec_chol)``.

    ``weights`` are ``nk / sum(nk)``, or ``nk / n_samples`` when ``n_samples`` is given (the
    initialisation's convention). ``prec_chol`` is computed with a Cholesky factorisation: a
    covariance that is not positive definite gives NaNs or a ``tf.errors.InvalidArgumentError``
    (the caller turns either into a ``ValueError``). ``nonnegative`` clips a diag/spherical
    variance ``E[x^2] - mean^2`` at zero before ``reg_covar`` is added: statistics summed from
    float32 products carry round-off larger than the variance of a component that has just
    collapsed onto a constant feature, and a negative variance can only be round-off.

    Example:
        >>> nk, sx, sxx = sufficient_statistics(tf.constant([[0.0], [2.0]], tf.float64),
        ...     tf.ones((2, 1), tf.float64), "diag")
        >>> w, mu, cov, _ = m_step(nk, sx, sxx, 0.0, "diag")
        >>> round(float(mu[0, 0]), 9), round(float(cov[0, 0]), 9)
        (1.0, 1.0)
    """
    dtype = sx.dtype
    eps = 10.0 * (2.220446049250313e-16 if dtype == tf.float64 else 1.1920928955078125e-07)
    nk = nk_raw + eps
    means = sx / nk[:, None]
    d = tf.shape(sx)[1]
    if kind in ("diag", "spherical"):
        avg_x2 = sxx / nk[:, None]
        avg_x_means = means * (sx / nk[:, None])
        variances = avg_x2 - 2.0 * avg_x_means + tf.square(means)
        if nonnegative:
            variances = tf.maximum(variances, tf.zeros_like(variances))
        covariances = variances + reg_covar
        if kind == "spherical":
            covariances = tf.reduce_mean(covariances, axis=1)
        prec_chol = tf.math.rsqrt(covariances)
    else:
        eye = tf.eye(d, dtype=dtype)
        if kind == "full":
            covariances = sxx / nk[:, None, None] - means[:, :, None] * means[:, None, :]
            covariances = covariances + reg_covar * eye[None]
        else:
            avg_means2 = tf.matmul(nk[:, None] * means, means, transpose_a=True)
            covariances = (sxx - avg_means2) / tf.reduce_sum(nk) + reg_covar * eye
        # Symmetrise against round-off before factorising.
        covariances = 0.5 * (covariances + tf.linalg.matrix_transpose(covariances))
        prec_chol = precision_cholesky_from_covariance(covariances)
    total = tf.reduce_sum(nk) if n_samples is None else tf.cast(n_samples, dtype)
    weights = nk / total
    return weights, means, covariances, prec_chol


def precision_cholesky_from_covariance(covariances: tf.Tensor) -> tf.Tensor:
    """``inv(cholesky(cov)).T`` for a ``(d, d)`` or ``(K, d, d)`` covariance.

    Example:
        >>> p = precision_cholesky_from_covariance(tf.constant([[4.0]], tf.float64))
        >>> float(p[0, 0])
        0.5
    """
    chol = tf.linalg.cholesky(covariances)
    eye = tf.broadcast_to(tf.eye(tf.shape(chol)[-1], dtype=chol.dtype), tf.shape(chol))
    return tf.linalg.matrix_transpose(tf.linalg.triangular_solve(chol, eye, lower=True))


def parameters_finite(prec_chol: tf.Tensor) -> tf.Tensor:
    """True when every precision factor is finite and positive on its diagonal.

    Example:
        >>> bool(parameters_finite(tf.constant([1.0, float("nan")])))
        False
    """
    values = prec_chol
    if len(prec_chol.shape) >= 2 and prec_chol.shape[-1] == prec_chol.shape[-2]:
        values = tf.linalg.diag_part(prec_chol)
    return tf.reduce_all(tf.math.is_finite(prec_chol)) & tf.reduce_all(values > 0)


def precision_weighted_reference(
    means: tf.Tensor, precisions_cholesky: tf.Tensor, kind: str
) -> tf.Tensor:
    """Per feature, the means averaged with the components' precisions as weights, ``(d,)``.

    A float32 E step expands ``(x - mu)^2 prec`` into matmul terms that are large and cancel
    when a component is tight (large ``prec``) around a mean far from zero, as a background
    pixel held at 0 by one kind of image is far from the data mean. Measured from this
    reference instead, a tight component's mean is near zero and so are the terms.

    Example:
        >>> means = tf.constant([[0.0], [1.0]], tf.float64)
        >>> float(precision_weighted_reference(means, tf.constant([[1.0], [3.0]],
        ...     tf.float64), "diag")[0])
        0.9
    """
    if kind == "diag":
        precision = tf.square(precisions_cholesky)
    elif kind == "spherical":
        precision = tf.square(precisions_cholesky)[:, None] * tf.ones_like(means)
    elif kind == "tied":  # diagonal of P P^T, the same for every component
        precision = tf.reduce_sum(tf.square(precisions_cholesky), axis=1)[None, :]
        precision = precision * tf.ones_like(means)
    else:
        precision = tf.reduce_sum(tf.square(precisions_cholesky), axis=2)
    return tf.reduce_sum(precision * means, axis=0) / tf.reduce_sum(precision, axis=0)


def _em_pass(
    chunks: Callable[[Callable[..., tuple[tf.Tensor, ...]], tuple[tf.Tensor, ...]], tuple],
    dtype: tf.DType,
    weights: tf.Tensor,
    means: tf.Tensor,
    prec_chol: tf.Tensor,
    reg_covar: tf.Tensor,
    kind: str,
) -> tuple[tf.Tensor, ...]:
    """One E step over every chunk, then the M step; ``chunks(add, start)`` folds ``add``.

    Statistics are summed in the parameters' dtype, and full/tied second-moment matrices are
    computed in it. When the data is narrower (float32 data, float64 parameters) each chunk is
    first measured from :func:`precision_weighted_reference` (one subtraction per chunk) and
    the new means are shifted back.
    """
    k, d = tf.shape(means)[0], tf.shape(means)[1]
    narrow = dtype != means.dtype
    reference = precision_weighted_reference(means, prec_chol, kind) if narrow else None
    if reference is not None:
        means = means - reference[None, :]
        reference_low = tf.cast(reference, dtype)[None, :]

    def add(stats: tuple[tf.Tensor, ...], chunk: tf.Tensor) -> tuple[tf.Tensor, ...]:
        if reference is not None:
            chunk = chunk - reference_low
        log_resp, log_norm = e_step(chunk, weights, means, prec_chol, kind)
        part = sufficient_statistics(chunk, tf.exp(log_resp), kind, means.dtype)
        n, nk, sx, sxx, ll = stats
        n += tf.cast(tf.shape(chunk)[0], n.dtype)
        ll += tf.reduce_sum(tf.cast(log_norm, ll.dtype))
        summed = (s + tf.cast(p, s.dtype) for s, p in zip((nk, sx, sxx), part, strict=True))
        return (n, *summed, ll)

    start = (tf.zeros((), means.dtype), *zero_statistics(k, d, kind, means.dtype))
    n, nk, sx, sxx, ll = chunks(add, start)
    new_weights, new_means, covariances, new_prec_chol = m_step(
        nk, sx, sxx, reg_covar, kind, nonnegative=narrow
    )
    if reference is not None:
        new_means = new_means + reference[None, :]
    return (
        new_weights,
        new_means,
        covariances,
        new_prec_chol,
        ll / n,
        parameters_finite(new_prec_chol),
    )


def _array_iteration(
    x: tf.Tensor,
    weights: tf.Tensor,
    means: tf.Tensor,
    prec_chol: tf.Tensor,
    reg_covar: tf.Tensor,
    chunk_rows: tf.Tensor,
    kind: str,
) -> tuple[tf.Tensor, ...]:
    def chunks(add: Callable[..., tuple[tf.Tensor, ...]], start: tuple) -> tuple:
        n_chunks = (tf.shape(x)[0] + chunk_rows - 1) // chunk_rows

        def body(i: tf.Tensor, *stats: tf.Tensor) -> tuple[tf.Tensor, ...]:
            return (i + 1, *add(stats, x[i * chunk_rows : (i + 1) * chunk_rows]))

        return tf.while_loop(lambda i, *_: i < n_chunks, body, (tf.constant(0), *start))[1:]

    return _em_pass(chunks, x.dtype, weights, means, prec_chol, reg_covar, kind)


def _dataset_iteration(
    dataset: tf.data.Dataset,
    weights: tf.Tensor,
    means: tf.Tensor,
    prec_chol: tf.Tensor,
    reg_covar: tf.Tensor,
    kind: str,
) -> tuple[tf.Tensor, ...]:
    def chunks(add: Callable[..., tuple[tf.Tensor, ...]], start: tuple) -> tuple:
        return dataset.reduce(start, add)

    dtype = dataset.element_spec.dtype
    return _em_pass(chunks, dtype, weights, means, prec_chol, reg_covar, kind)


def _log_resp(
    x: tf.Tensor, weights: tf.Tensor, means: tf.Tensor, prec_chol: tf.Tensor, kind: str
) -> tuple[tf.Tensor, tf.Tensor]:
    if x.dtype != means.dtype:  # float32 samples: measured from the reference, as in fitting
        reference = precision_weighted_reference(means, prec_chol, kind)
        x = x - tf.cast(reference, x.dtype)[None, :]
        means = means - reference[None, :]
    return e_step(x, weights, means, prec_chol, kind)


def _statistics_from_resp(x: tf.Tensor, resp: tf.Tensor, kind: str) -> tuple[tf.Tensor, ...]:
    return tuple(tf.cast(s, STATISTICS_DTYPE) for s in sufficient_statistics(x, resp, kind))


def _statistics_from_centers(x: tf.Tensor, centers: tf.Tensor, kind: str) -> tuple[tf.Tensor, ...]:
    distances = tf.reduce_sum(tf.square(centers), axis=1)[None, :] - 2.0 * tf.matmul(
        x, centers, transpose_b=True
    )
    labels = tf.argmin(distances, axis=1)
    resp = tf.one_hot(labels, tf.shape(centers)[0], dtype=x.dtype)
    return _statistics_from_resp(x, resp, kind)


def _parameter_specs(kind: str) -> list[tf.TensorSpec]:
    """Specs of ``(weights, means, precisions_cholesky)``, float64, sizes unknown."""
    prec_rank = {"full": 3, "tied": 2, "diag": 2, "spherical": 1}[kind]
    return [
        tf.TensorSpec([None], STATISTICS_DTYPE),
        tf.TensorSpec([None, None], STATISTICS_DTYPE),
        tf.TensorSpec([None] * prec_rank, STATISTICS_DTYPE),
    ]


@functools.cache
def traced(name: str, kind: str, dtype: str) -> Callable[..., tuple[tf.Tensor, ...]]:
    """The process-wide ``tf.function`` ``name`` for ``kind`` and data ``dtype``.

    Built on first use with an input signature of unknown sizes, so it is traced once per
    process whatever the number of samples, features or components; ``kind`` is bound, not
    passed. Names: ``array_iteration``, ``dataset_iteration``, ``statistics_from_resp``,
    ``statistics_from_centers`` and ``log_resp`` (see the public wrappers of the same names).

    Example:
        >>> traced("log_resp", "diag", "float32") is traced("log_resp", "diag", "float32")
        True
    """
    if kind not in COVARIANCE_TYPES:
        raise ValueError(f"covariance_type must be one of {COVARIANCE_TYPES}. Received: {kind!r}")
    data = tf.TensorSpec([None, None], dtype)
    params = _parameter_specs(kind)
    scalar = tf.TensorSpec([], STATISTICS_DTYPE)
    bodies: dict[str, tuple[Callable[..., tuple[tf.Tensor, ...]], list[object]]] = {
        "array_iteration": (
            _array_iteration,
            [data, *params, scalar, tf.TensorSpec([], tf.int32)],
        ),
        "dataset_iteration": (
            _dataset_iteration,
            [tf.data.DatasetSpec(data), *params, scalar],
        ),
        "statistics_from_resp": (_statistics_from_resp, [data, data]),
        "statistics_from_centers": (_statistics_from_centers, [data, data]),
        "log_resp": (_log_resp, [data, *params]),
    }
    if name not in bodies:
        raise ValueError(f"No traced function {name!r}; expected one of {sorted(bodies)}")
    body, signature = bodies[name]

    def function(*args: tf.Tensor) -> tuple[tf.Tensor, ...]:
        TRACE_COUNTS[(name, kind, dtype)] += 1  # Python runs here only while tracing
        return body(*args, kind=kind)

    # The loops are written as tf.while_loop / Dataset.reduce, so AutoGraph is not needed:
    # skipping its source conversion makes the one trace several times cheaper.
    return tf.function(function, input_signature=signature, autograph=False)


def _parameters(*values: tf.Tensor | float) -> list[tf.Tensor]:
    return [tf.cast(v, STATISTICS_DTYPE) for v in values]


def array_iteration(
    x: tf.Tensor,
    weights: tf.Tensor,
    means: tf.Tensor,
    prec_chol: tf.Tensor,
    kind: str,
    reg_covar: float | tf.Tensor,
    chunk_rows: int | tf.Tensor,
) -> tuple[tf.Tensor, ...]:
    """One EM iteration over an in-memory ``x``, processed ``chunk_rows`` rows at a time.

    ``x`` is float64 or float32; the E step and the per-chunk statistics run in its dtype, the
    statistics are summed in float64 and the M step runs in float64.

    Returns ``(weights, means, covariances, prec_chol, mean_log_likelihood, finite)`` (float64)
    where the log-likelihood is that of the parameters passed in (scikit-learn's
    ``lower_bound_``).

    Example:
        >>> x = tf.constant([[0.0], [2.0]], tf.float64)
        >>> out = array_iteration(x, tf.constant([1.0], tf.float64), tf.constant([[1.0]],
        ...     tf.float64), tf.constant([[1.0]], tf.float64), "diag", 0.0, 1)
        >>> round(float(out[1][0, 0]), 9)
        1.0
    """
    fn = traced("array_iteration", kind, x.dtype.name)
    rows = (
        tf.constant(chunk_rows, tf.int32) if not isinstance(chunk_rows, tf.Tensor) else chunk_rows
    )
    return fn(x, *_parameters(weights, means, prec_chol, reg_covar), rows)


def dataset_iteration(
    dataset: tf.data.Dataset,
    weights: tf.Tensor,
    means: tf.Tensor,
    prec_chol: tf.Tensor,
    kind: str,
    reg_covar: float | tf.Tensor,
) -> tuple[tf.Tensor, ...]:
    """One EM iteration over a ``tf.data.Dataset`` of ``(batch, d)`` shifted samples.

    Same outputs as :func:`array_iteration`.

    Example:
        >>> ds = tf.data.Dataset.from_tensor_slices(tf.constant([[0.0], [2.0]], tf.float64))
        >>> out = dataset_iteration(ds.batch(1), tf.constant([1.0], tf.float64),
        ...     tf.constant([[1.0]], tf.float64), tf.constant([[1.0]], tf.float64), "diag", 0.0)
        >>> round(float(out[1][0, 0]), 9)
        1.0
    """
    fn = traced("dataset_iteration", kind, dataset.element_spec.dtype.name)
    return fn(dataset, *_parameters(weights, means, prec_chol, reg_covar))


def chunk_statistics_from_resp(
    x: tf.Tensor, resp: tf.Tensor, kind: str
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """``sufficient_statistics`` as a traced function, returned in float64 (initialisation).

    Example:
        >>> nk, _, _ = chunk_statistics_from_resp(tf.ones((2, 1), tf.float64),
        ...     tf.ones((2, 1), tf.float64), "diag")
        >>> float(nk[0])
        2.0
    """
    return traced("statistics_from_resp", kind, x.dtype.name)(x, tf.cast(resp, x.dtype))


def chunk_statistics_from_centers(
    x: tf.Tensor, centers: tf.Tensor, kind: str
) -> tuple[tf.Tensor, ...]:
    """Statistics of hard assignments to the nearest of ``centers`` (k-means initialisation).

    Example:
        >>> x = tf.constant([[0.0], [3.0]], tf.float64)
        >>> nk, _, _ = chunk_statistics_from_centers(x, tf.constant([[0.0], [4.0]], tf.float64),
        ...     "diag")
        >>> nk.numpy().tolist()
        [1.0, 1.0]
    """
    return traced("statistics_from_centers", kind, x.dtype.name)(x, tf.cast(centers, x.dtype))


def chunk_log_resp(
    x: tf.Tensor, weights: tf.Tensor, means: tf.Tensor, prec_chol: tf.Tensor, kind: str
) -> tuple[tf.Tensor, tf.Tensor]:
    """``e_step`` as a traced function (prediction and scoring), in ``x``'s dtype.

    Example:
        >>> lr, ll = chunk_log_resp(tf.zeros((1, 1), tf.float64), tf.ones((1,), tf.float64),
        ...     tf.zeros((1, 1), tf.float64), tf.ones((1, 1), tf.float64), "diag")
        >>> float(lr[0, 0])
        0.0
    """
    return traced("log_resp", kind, x.dtype.name)(x, *_parameters(weights, means, prec_chol))
