"""GaussianMixture against scikit-learn, streaming, degenerate data and sampling."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import tensorflow as tf
from sklearn.mixture import GaussianMixture as SkGaussianMixture

from keras_gan.mixture import ConvergenceWarning, GaussianMixture, ops
from keras_gan.mixture.base import TrainingData
from tests.conftest import requires_fashion_mnist

KINDS = ("full", "tied", "diag", "spherical")


def blobs(n: int = 600, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    parts = [
        rng.normal([-2.0, 0.0, 1.0], [1.0, 0.5, 0.8], (n // 3, 3)),
        rng.normal([2.0, 1.0, -1.0], 0.5, (n // 3, 3)),
        rng.multivariate_normal([0.0, 4.0, 0.0], [[1, 0.6, 0], [0.6, 1, 0.3], [0, 0.3, 1]], n // 3),
    ]
    return np.concatenate(parts)


def initial_values(x: np.ndarray, k: int, kind: str, seed: int = 1) -> dict:
    """Deliberately rough starting parameters shared by both implementations."""
    rng = np.random.default_rng(seed)
    d = x.shape[1]
    means = x[rng.choice(len(x), k, replace=False)]
    weights = rng.uniform(0.5, 1.5, k)
    weights /= weights.sum()
    var = x.var(axis=0) + 1e-3
    precisions = {
        "full": np.stack([np.diag(1.0 / var)] * k),
        "tied": np.diag(1.0 / var),
        "diag": np.tile(1.0 / var, (k, 1)),
        "spherical": np.full(k, 1.0 / var.mean()),
    }[kind]
    assert precisions.shape[-1 if kind != "spherical" else 0] in (d, k)
    return {"means_init": means, "weights_init": weights, "precisions_init": precisions}


def fit_both(x: np.ndarray, k: int, kind: str, **kwargs) -> tuple:
    init = initial_values(x, k, kind)
    options = {"covariance_type": kind, "tol": 1e-6, "max_iter": 40, **kwargs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = GaussianMixture(k, **options, **init).fit(x)
        theirs = SkGaussianMixture(k, **options, **init).fit(x)
    return ours, theirs


def assert_same_fit(ours, theirs, rtol: float = 1e-6) -> None:
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.converged_ == theirs.converged_
    np.testing.assert_allclose(ours.weights_, theirs.weights_, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(ours.means_, theirs.means_, rtol=rtol, atol=1e-9)
    np.testing.assert_allclose(ours.covariances_, theirs.covariances_, rtol=rtol, atol=1e-9)
    np.testing.assert_allclose(
        ours.precisions_cholesky_, theirs.precisions_cholesky_, rtol=rtol, atol=1e-9
    )
    np.testing.assert_allclose(ours.precisions_, theirs.precisions_, rtol=rtol, atol=1e-9)
    assert ours.lower_bound_ == pytest.approx(theirs.lower_bound_, rel=rtol)


@pytest.mark.parametrize("kind", KINDS)
def test_matches_sklearn_from_same_initial_parameters(kind):
    x = blobs()
    ours, theirs = fit_both(x, 3, kind)
    assert_same_fit(ours, theirs)
    np.testing.assert_allclose(ours.lower_bounds_, theirs.lower_bounds_, rtol=1e-9)
    np.testing.assert_allclose(ours.score_samples(x), theirs.score_samples(x), rtol=1e-9)
    np.testing.assert_allclose(ours.predict_proba(x), theirs.predict_proba(x), atol=1e-9)
    np.testing.assert_array_equal(ours.predict(x), theirs.predict(x))
    assert ours.score(x) == pytest.approx(theirs.score(x), rel=1e-12)
    assert ours.bic(x) == pytest.approx(theirs.bic(x), rel=1e-12)
    assert ours.aic(x) == pytest.approx(theirs.aic(x), rel=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_random_init_draws_like_sklearn(kind):
    # Same RandomState, same uniform responsibilities, so the whole fit agrees with no init given.
    x = blobs(seed=3)
    options = {"covariance_type": kind, "init_params": "random", "random_state": 7, "n_init": 2}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = GaussianMixture(3, max_iter=30, **options).fit(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = SkGaussianMixture(3, max_iter=30, **options).fit(x)
    assert_same_fit(ours, theirs)


@requires_fashion_mnist
@pytest.mark.parametrize("kind", KINDS)
def test_matches_sklearn_on_fashion_mnist_subset(kind):
    from keras_gan.data import load_arrays

    images, _ = load_arrays("fashion_mnist", split="test")
    x = images[:300].astype(np.float64) / 255.0
    if kind in ("full", "tied"):  # 7x7 means of 4x4 blocks keep the full matrices small
        x = x.reshape(300, 7, 4, 7, 4).mean(axis=(2, 4))
    x = x.reshape(300, -1)
    ours, theirs = fit_both(x, 4, kind, max_iter=8, reg_covar=1e-3)
    assert_same_fit(ours, theirs)


@pytest.mark.parametrize("kind", KINDS)
def test_lower_bound_never_decreases(kind):
    x = blobs(seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gmm = GaussianMixture(4, kind, tol=0.0, max_iter=25, random_state=0).fit(x)
    bounds = np.array(gmm.lower_bounds_)
    assert len(bounds) == 25 and gmm.lower_bound_ == bounds[-1]
    assert np.all(np.diff(bounds) >= -1e-10), np.diff(bounds).min()


@pytest.mark.parametrize("kind", ["full", "diag"])
@pytest.mark.parametrize("init_params", ["kmeans", "random"])
def test_streaming_fit_matches_in_memory(kind, init_params):
    x = blobs(n=450, seed=2)
    # A k-means subset smaller than the data exercises the chunk-independent subset choice.
    options = {"covariance_type": kind, "init_params": init_params, "random_state": 3}
    options.update(max_iter=20, tol=1e-8, init_sample_size=200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        memory = GaussianMixture(3, **options).fit(x)
        labels = np.zeros(len(x), np.int64)
        dataset = tf.data.Dataset.from_tensor_slices((x, labels)).batch(37)
        streamed = GaussianMixture(3, **options).fit(dataset)
    assert streamed.n_iter_ == memory.n_iter_
    np.testing.assert_allclose(streamed.means_, memory.means_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(streamed.covariances_, memory.covariances_, rtol=1e-9)
    np.testing.assert_allclose(streamed.weights_, memory.weights_, rtol=1e-9)
    assert streamed.lower_bound_ == pytest.approx(memory.lower_bound_, rel=1e-12)


def test_streaming_images_are_flattened():
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(64, 4, 4, 1))
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(10)
    gmm = GaussianMixture(2, "diag", random_state=0, max_iter=5, tol=1e-12)
    with pytest.warns(ConvergenceWarning):
        gmm.fit(dataset)
    assert gmm.means_.shape == (2, 16) and gmm.image_shape_ == (4, 4, 1)
    reference = GaussianMixture(2, "diag", random_state=0, max_iter=5, tol=1e-12)
    with pytest.warns(ConvergenceWarning):
        reference.fit(images)
    np.testing.assert_allclose(gmm.means_, reference.means_, rtol=1e-9)


def pinned_blobs(n: int = 900, seed: int = 0) -> np.ndarray:
    """Image-like data: one cluster holds half the features at exactly 0, others far from it.

    With the default reg_covar those features get precisions of 1e6 in that cluster, around a
    mean far from the data mean: the case where a float32 E step loses digits to cancellation.
    """
    rng = np.random.default_rng(seed)
    third = n // 3
    a = np.c_[np.zeros((third, 10)), rng.uniform(0.2, 1.0, (third, 10))]
    b = rng.uniform(0.4, 1.0, (third, 20))
    c = rng.normal(0.8, 0.1, (third, 20))
    return np.concatenate([a, b, c]) + 100.0  # an offset the centring must absorb


@pytest.mark.parametrize("kind", KINDS)
def test_float32_fit_matches_float64_from_same_start(kind):
    x = pinned_blobs()
    init = initial_values(x, 3, kind)
    fits = {}
    for dtype in ("float64", "float32"):
        gmm = GaussianMixture(3, kind, max_iter=10, tol=0.0, dtype=dtype, **init)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fits[dtype] = gmm.fit(x)
    f64, f32 = fits["float64"], fits["float32"]
    assert f32.means_.dtype == np.float32 and f32.covariances_.dtype == np.float32
    assert f32.lower_bound_ == pytest.approx(f64.lower_bound_, rel=1e-5)
    # The iteration where a component collapses onto the constant features is the least
    # precise one (its variances are round-off sized); the fits meet again after it.
    np.testing.assert_allclose(f32.lower_bounds_, f64.lower_bounds_, rtol=1e-3)
    np.testing.assert_allclose(f32.means_, f64.means_, rtol=1e-5, atol=1e-4)
    assert f32.score(x) == pytest.approx(f64.score(x), rel=1e-5)


@requires_fashion_mnist
def test_float32_matches_float64_on_fashion_mnist_subset():
    from keras_gan.data import load_arrays

    images, _ = load_arrays("fashion_mnist", split="test")
    x = images[:2000].reshape(2000, -1) / 255.0  # uint8 in, one conversion
    start = GaussianMixture(5, "diag", max_iter=0, random_state=0).fit(x)
    init = {"weights_init": start.weights_, "means_init": start.means_}
    init["precisions_init"] = start.precisions_
    bounds = {}
    for dtype in ("float64", "float32"):
        gmm = GaussianMixture(5, "diag", max_iter=8, tol=0.0, dtype=dtype, **init)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            bounds[dtype] = gmm.fit(x).lower_bound_
    assert bounds["float32"] == pytest.approx(bounds["float64"], rel=1e-5)


def test_later_estimators_do_not_retrace():
    x = blobs(seed=4)
    options = {"max_iter": 3, "tol": 0.0, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        first = GaussianMixture(3, "diag", **options).fit(x)
        first.predict(x)
        traces = dict(ops.TRACE_COUNTS)
        # Other estimators, sample counts, feature counts, component counts and a stream.
        GaussianMixture(3, "diag", **options).fit(x)
        GaussianMixture(2, "diag", **options).fit(x[:301, :2]).score(x[:7, :2])
        GaussianMixture(4, "diag", init_params="random", **options).fit(x[:100])
        dataset = tf.data.Dataset.from_tensor_slices(x).batch(64)
        GaussianMixture(3, "diag", **options).fit(dataset)
        traced_once = dict(ops.TRACE_COUNTS)
        GaussianMixture(3, "diag", **options).fit(tf.data.Dataset.from_tensor_slices(x).batch(9))
    assert ops.TRACE_COUNTS[("array_iteration", "diag", "float64")] == 1
    assert ops.TRACE_COUNTS[("log_resp", "diag", "float64")] == 1
    assert ops.TRACE_COUNTS[("statistics_from_resp", "diag", "float64")] == 1
    assert ops.TRACE_COUNTS[("dataset_iteration", "diag", "float64")] == 1
    assert {key: traces[key] for key in traces} == {key: traced_once[key] for key in traces}
    assert dict(ops.TRACE_COUNTS) == traced_once


def test_fit_keeps_one_copy_of_the_data():
    import tracemalloc

    x = np.random.default_rng(0).normal(size=(20_000, 50))
    peaks = {}
    for dtype in ("float64", "float32"):
        tracemalloc.start()  # numpy's allocations are traced, TensorFlow's are not
        data = TrainingData.from_input(x, dtype)
        peaks[dtype] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert data.array.dtype.name == dtype and data.array.shape == x.shape
        expected = (x - x.mean(axis=0)).astype(dtype)
        np.testing.assert_allclose(data.array.numpy(), expected, rtol=1e-6)
    # One centred copy in the fit's dtype, which TensorFlow then uses in place.
    assert x.nbytes <= peaks["float64"] < 1.1 * x.nbytes
    assert x.nbytes / 2 <= peaks["float32"] < 0.55 * x.nbytes
    x[3, 2] = np.inf
    with pytest.raises(ValueError, match=r"X\[3, 2\]=inf"):
        TrainingData.from_input(x, "float64")


def test_sample_reproduces_fitted_moments():
    x = blobs(seed=6)
    for kind in KINDS:
        gmm = GaussianMixture(3, kind, random_state=0).fit(x)
        draws, labels = gmm.sample(200_000, seed=1)
        assert draws.shape == (200_000, 3) and labels.shape == (200_000,)
        weights = gmm.weights_
        np.testing.assert_allclose(np.bincount(labels) / 200_000, weights, atol=0.005)
        covariances = {
            "full": lambda c: c,
            "tied": lambda c: np.stack([c] * 3),
            "diag": lambda c: np.stack([np.diag(row) for row in c]),
            "spherical": lambda c: np.stack([np.eye(3) * v for v in c]),
        }[kind](gmm.covariances_)
        mean = weights @ gmm.means_
        second = np.einsum(
            "k,kij->ij", weights, covariances + np.einsum("ki,kj->kij", *[gmm.means_] * 2)
        )
        np.testing.assert_allclose(draws.mean(axis=0), mean, atol=0.02)
        np.testing.assert_allclose(np.cov(draws.T), second - np.outer(mean, mean), atol=0.05)
        for k in range(3):  # every component's own covariance, not just the total
            np.testing.assert_allclose(np.cov(draws[labels == k].T), covariances[k], atol=0.05)


def test_convergence_warning_says_what_to_try():
    with pytest.warns(ConvergenceWarning, match=r"max_iter=2 .*Try a larger max_iter"):
        gmm = GaussianMixture(3, "diag", max_iter=2, tol=0.0, random_state=0).fit(blobs())
    assert not gmm.converged_ and gmm.n_iter_ == 2


def test_converges_and_keeps_best_initialisation():
    x = blobs(seed=8)
    gmm = GaussianMixture(3, "full", n_init=3, random_state=0).fit(x)
    assert gmm.converged_ and gmm.n_iter_ < 100
    singles = []
    rng = np.random.RandomState(0)
    for _ in range(3):  # the same three starts, one at a time
        singles.append(GaussianMixture(3, "full", random_state=rng).fit(x).lower_bound_)
    assert gmm.lower_bound_ == pytest.approx(max(singles), rel=1e-12)


def test_constant_feature_and_duplicates_are_handled():
    rng = np.random.default_rng(0)
    x = np.c_[rng.normal(size=(200, 2)), np.full(200, 3.0)]
    for kind in ("full", "diag"):
        gmm = GaussianMixture(2, kind, random_state=0).fit(x)
        assert np.all(np.isfinite(gmm.score_samples(x)))
        variances = gmm.covariances_[:, 2, 2] if kind == "full" else gmm.covariances_[:, 2]
        np.testing.assert_allclose(variances, 1e-6, rtol=1e-3)
    points = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0]]), 50, axis=0)
    with pytest.warns(UserWarning, match="2 distinct clusters, fewer than n_components=3"):
        gmm = GaussianMixture(3, "diag", random_state=0).fit(points)
    assert np.all(np.isfinite(gmm.score_samples(points)))


def test_singular_covariance_error_names_reg_covar():
    x = np.c_[np.random.default_rng(0).normal(size=(50, 2)), np.zeros(50)]
    message = r"not positive definite .* Raise reg_covar \(now reg_covar=0\.0\), scale the data"
    for kind in ("full", "tied", "diag"):
        with pytest.raises(ValueError, match=message):
            GaussianMixture(2, kind, reg_covar=0.0, random_state=0).fit(x)
    # A spherical variance averages over features: only data with no spread at all is singular.
    with pytest.raises(ValueError, match=message):
        GaussianMixture(1, "spherical", reg_covar=0.0).fit(np.ones((10, 3)))


def test_too_few_samples_and_bad_arguments():
    with pytest.raises(ValueError, match="n_samples=3, n_components=5"):
        GaussianMixture(5).fit(np.random.default_rng(0).normal(size=(3, 2)))
    bad = [
        ({"n_components": 0}, "n_components=0"),
        ({"covariance_type": "wide"}, "covariance_type='wide'"),
        ({"tol": -1.0}, "tol=-1.0"),
        ({"reg_covar": -1e-3}, "reg_covar=-0.001"),
        ({"init_params": "kmeans++"}, "init_params='kmeans++'"),
        ({"dtype": "float16"}, "dtype='float16'"),
        ({"n_init": 0}, "n_init=0"),
    ]
    for kwargs, message in bad:
        with pytest.raises(ValueError, match=re.escape(message)):
            GaussianMixture(**kwargs)
    gmm = GaussianMixture(2)
    gmm.max_iter = -1  # set after construction: fit validates again
    with pytest.raises(ValueError, match="max_iter=-1"):
        gmm.fit(blobs())
    x = blobs()
    x[5, 1] = np.nan
    with pytest.raises(ValueError, match=r"X\[5, 1\]=nan"):
        GaussianMixture(2).fit(x)
    with pytest.raises(ValueError, match=r"means_init must have shape \(2, 3\)"):
        GaussianMixture(2, means_init=np.zeros((2, 4))).fit(blobs())
    with pytest.raises(ValueError, match="sum to 1"):
        GaussianMixture(2, weights_init=[0.5, 0.6]).fit(blobs())
    with pytest.raises(ValueError, match="not fitted"):
        GaussianMixture(2).predict(blobs())
    fitted = GaussianMixture(2, "diag", random_state=0).fit(blobs())
    with pytest.raises(ValueError, match="X has 2 features"):
        fitted.score_samples(np.zeros((4, 2)))


def test_verbose_reports_each_iteration(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        GaussianMixture(2, "diag", verbose=2, random_state=0, max_iter=3, tol=0.0).fit(blobs())
    err = capsys.readouterr().err
    assert err.count("Iteration") == 3 and "did not converge" in err
