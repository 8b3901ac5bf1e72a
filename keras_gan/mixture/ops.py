"""The E and M steps of a Gaussian mixture in TensorFlow: vectorised, in log space.

Every function takes data already shifted by the fit's centre (see ``GaussianMixture``), works in
the dtype of its inputs (float64 or float32) and follows scikit-learn's conventions:

* ``precisions_cholesky`` is ``(K, d, d)`` for ``full``, ``(d, d)`` for ``tied``, ``(K, d)`` for
  ``diag`` and ``(K,)`` for ``spherical``; for ``full``/``tied`` it is the transposed inverse of
  the covariance's lower Cholesky factor, so ``P @ P.T`` is the precision matrix;
* ``nk`` is the sum of the responsibilities plus ``10 * eps``, weights are ``nk / sum(nk)``;
* ``reg_covar`` is added to the covariance's diagonal.

A pass over the data accumulates sufficient statistics ``(nk, sum_x, sum_xx, log_likelihood)``
chunk by chunk, so the same code fits an in-memory array or a stream of batches.

Example:
    >>> import tensorflow as tf
    >>> x = tf.constant([[0.0], [1.0]], tf.float64)
    >>> stats = sufficient_statistics(x, tf.constant([[1.0], [1.0]], tf.float64), "diag")
    >>> [float(s.numpy().sum()) for s in stats]
    [2.0, 1.0, 1.0]
"""

from __future__ import annotations

import math

import tensorflow as tf

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


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
    d = tf.cast(tf.shape(x)[1], x.dtype)
    if kind == "diag":
        precisions = tf.square(precisions_cholesky)
        quad = (
            tf.reduce_sum(tf.square(means) * precisions, axis=1)[None, :]
            - 2.0 * tf.matmul(x, means * precisions, transpose_b=True)
            + tf.matmul(tf.square(x), precisions, transpose_b=True)
        )
        log_det = tf.reduce_sum(tf.math.log(precisions_cholesky), axis=1)
    elif kind == "spherical":
        precisions = tf.square(precisions_cholesky)
        quad = (
            tf.reduce_sum(tf.square(means), axis=1)[None, :] * precisions[None, :]
            - 2.0 * tf.matmul(x, means, transpose_b=True) * precisions[None, :]
            + tf.reduce_sum(tf.square(x), axis=1, keepdims=True) * precisions[None, :]
        )
        log_det = d * tf.math.log(precisions_cholesky)
    elif kind == "tied":
        y = tf.matmul(x, precisions_cholesky)
        mu_p = tf.matmul(means, precisions_cholesky)
        quad = (
            tf.reduce_sum(tf.square(y), axis=1, keepdims=True)
            - 2.0 * tf.matmul(y, mu_p, transpose_b=True)
            + tf.reduce_sum(tf.square(mu_p), axis=1)[None, :]
        )
        log_det = tf.reduce_sum(tf.math.log(tf.linalg.diag_part(precisions_cholesky)))
    elif kind == "full":
        # One (n, d) @ (d, K*d) matmul for every component's x P_k: a single large GEMM runs
        # faster on CPU than K small batched ones.
        k, dim = tf.shape(means)[0], tf.shape(means)[1]
        stacked = tf.reshape(tf.transpose(precisions_cholesky, [1, 0, 2]), [dim, k * dim])
        y = tf.matmul(x, stacked)  # (n, K*d); column k*d + j is (x P_k)_j
        mu_p = tf.reshape(tf.einsum("kd,kde->ke", means, precisions_cholesky), [1, k * dim])
        quad = tf.reduce_sum(tf.reshape(tf.square(y - mu_p), [-1, k, dim]), axis=2)
        log_det = tf.reduce_sum(tf.math.log(tf.linalg.diag_part(precisions_cholesky)), axis=1)
    else:
        raise ValueError(f"covariance_type must be one of {COVARIANCE_TYPES}. Received: {kind!r}")
    return -0.5 * (d * math.log(2.0 * math.pi) + quad) + log_det


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
    weighted = log_gaussian_prob(x, means, precisions_cholesky, kind) + tf.math.log(weights)
    log_norm = tf.reduce_logsumexp(weighted, axis=1)
    return weighted - log_norm[:, None], log_norm


def sufficient_statistics(
    x: tf.Tensor, resp: tf.Tensor, kind: str
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """``(sum_k resp, resp.T @ x, second moments)`` of one chunk.

    The second moments are ``resp.T @ x**2`` ``(K, d)`` for diag/spherical, the per-component
    ``sum_n resp_nk x_n x_n^T`` ``(K, d, d)`` for full and ``x.T @ x`` ``(d, d)`` for tied.

    Example:
        >>> x = tf.constant([[1.0, 2.0]], tf.float64)
        >>> [tuple(s.shape) for s in sufficient_statistics(x, tf.ones((1, 3), tf.float64), "full")]
        [(3,), (3, 2), (3, 2, 2)]
    """
    nk = tf.reduce_sum(resp, axis=0)
    sx = tf.matmul(resp, x, transpose_a=True)
    if kind in ("diag", "spherical"):
        sxx = tf.matmul(resp, tf.square(x), transpose_a=True)
    elif kind == "tied":
        sxx = tf.matmul(x, x, transpose_a=True)
    else:
        # sum_n resp_nk x_n x_n^T for every k as one (K*d, n) @ (n, d) matmul.
        k, dim = tf.shape(resp)[1], tf.shape(x)[1]
        weighted = tf.reshape(resp[:, :, None] * x[:, None, :], [-1, k * dim])  # (n, K*d)
        sxx = tf.reshape(tf.matmul(weighted, x, transpose_a=True), [k, dim, dim])
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
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
    """Parameters from accumulated statistics: ``(weights, means, covariances, prec_chol)``.

    ``weights`` are ``nk / sum(nk)``, or ``nk / n_samples`` when ``n_samples`` is given (the
    initialisation's convention). ``prec_chol`` is computed with a Cholesky factorisation: a
    covariance that is not positive definite gives NaNs or a ``tf.errors.InvalidArgumentError``
    (the caller turns either into a ``ValueError``).

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
        covariances = avg_x2 - 2.0 * avg_x_means + tf.square(means) + reg_covar
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


@tf.function(reduce_retracing=True)
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

    ``reg_covar`` and ``chunk_rows`` may be tensors (one trace serves every value).

    Returns ``(weights, means, covariances, prec_chol, mean_log_likelihood, finite)`` where the
    log-likelihood is that of the parameters passed in (scikit-learn's ``lower_bound_``).

    Example:
        >>> x = tf.constant([[0.0], [2.0]], tf.float64)
        >>> out = array_iteration(x, tf.constant([1.0], tf.float64), tf.constant([[1.0]],
        ...     tf.float64), tf.constant([[1.0]], tf.float64), "diag", 0.0, 1)
        >>> round(float(out[1][0, 0]), 9)
        1.0
    """
    n = tf.shape(x)[0]
    k, d = tf.shape(means)[0], tf.shape(means)[1]
    nk, sx, sxx, ll = zero_statistics(k, d, kind, x.dtype)
    chunk_rows = tf.cast(chunk_rows, tf.int32)
    n_chunks = (n + chunk_rows - 1) // chunk_rows
    for i in tf.range(n_chunks):
        chunk = x[i * chunk_rows : (i + 1) * chunk_rows]
        log_resp, log_norm = e_step(chunk, weights, means, prec_chol, kind)
        c_nk, c_sx, c_sxx = sufficient_statistics(chunk, tf.exp(log_resp), kind)
        nk, sx, sxx, ll = nk + c_nk, sx + c_sx, sxx + c_sxx, ll + tf.reduce_sum(log_norm)
    new = m_step(nk, sx, sxx, reg_covar, kind)
    return (*new, ll / tf.cast(n, x.dtype), parameters_finite(new[3]))


@tf.function(reduce_retracing=True)
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
    k, d = tf.shape(means)[0], tf.shape(means)[1]
    nk, sx, sxx, ll = zero_statistics(k, d, kind, means.dtype)
    n = tf.zeros((), means.dtype)
    for chunk in dataset:
        log_resp, log_norm = e_step(chunk, weights, means, prec_chol, kind)
        c_nk, c_sx, c_sxx = sufficient_statistics(chunk, tf.exp(log_resp), kind)
        nk, sx, sxx, ll = nk + c_nk, sx + c_sx, sxx + c_sxx, ll + tf.reduce_sum(log_norm)
        n += tf.cast(tf.shape(chunk)[0], means.dtype)
    new = m_step(nk, sx, sxx, reg_covar, kind)
    return (*new, ll / n, parameters_finite(new[3]))


@tf.function(reduce_retracing=True)
def chunk_statistics_from_resp(
    x: tf.Tensor, resp: tf.Tensor, kind: str
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """``sufficient_statistics`` as a traced function (initialisation passes).

    Example:
        >>> nk, _, _ = chunk_statistics_from_resp(tf.ones((2, 1), tf.float64),
        ...     tf.ones((2, 1), tf.float64), "diag")
        >>> float(nk[0])
        2.0
    """
    return sufficient_statistics(x, resp, kind)


@tf.function(reduce_retracing=True)
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
    distances = tf.reduce_sum(tf.square(centers), axis=1)[None, :] - 2.0 * tf.matmul(
        x, centers, transpose_b=True
    )
    labels = tf.argmin(distances, axis=1)
    resp = tf.one_hot(labels, tf.shape(centers)[0], dtype=x.dtype)
    return sufficient_statistics(x, resp, kind)


@tf.function(reduce_retracing=True)
def chunk_log_resp(
    x: tf.Tensor, weights: tf.Tensor, means: tf.Tensor, prec_chol: tf.Tensor, kind: str
) -> tuple[tf.Tensor, tf.Tensor]:
    """``e_step`` as a traced function (prediction and scoring).

    Example:
        >>> lr, ll = chunk_log_resp(tf.zeros((1, 1), tf.float64), tf.ones((1,), tf.float64),
        ...     tf.zeros((1, 1), tf.float64), tf.ones((1, 1), tf.float64), "diag")
        >>> float(lr[0, 0])
        0.0
    """
    return e_step(x, weights, means, prec_chol, kind)
