"""Array metrics with known answers: Frechet distance, KID, PRDC, class and mode coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest

from keras_gan.metrics import (
    _arrays,
    class_coverage,
    class_histogram,
    density_coverage,
    feature_moments,
    frechet_distance,
    frechet_distance_from_moments,
    kernel_inception_distance,
    mode_coverage,
    polynomial_mmd2,
    prdc,
    precision_recall,
)


def _reference_prdc(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    """The density/coverage paper's reference code (clovaai/generative-evaluation-prdc)."""
    from sklearn.metrics import pairwise_distances

    def kth(d: np.ndarray, kk: int) -> np.ndarray:
        idx = np.argpartition(d, kk - 1, axis=-1)[..., :kk]
        return np.take_along_axis(d, idx, axis=-1).max(axis=-1)

    real_nn = kth(pairwise_distances(real, real), k + 1)
    fake_nn = kth(pairwise_distances(fake, fake), k + 1)
    d = pairwise_distances(real, fake)
    return {
        "precision": float((d < real_nn[:, None]).any(axis=0).mean()),
        "recall": float((d < fake_nn[None, :]).any(axis=1).mean()),
        "density": float((d < real_nn[:, None]).sum(axis=0).mean() / k),
        "coverage": float((d.min(axis=1) < real_nn).mean()),
    }


# --------------------------------------------------------------------------- Frechet distance


def _random_covariance(rng: np.random.Generator, d: int) -> np.ndarray:
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def test_frechet_of_a_set_with_itself_is_zero() -> None:
    x = np.random.default_rng(0).normal(size=(2000, 64)) * np.linspace(0.1, 3.0, 64)
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)


def test_frechet_with_fewer_rows_than_features_stays_real_and_zero_on_itself() -> None:
    # Rank-deficient covariance (n < d): the square root must not produce complex parts or NaN.
    x = np.random.default_rng(1).normal(size=(20, 100))
    value = frechet_distance(x, x)
    assert isinstance(value, float) and math.isfinite(value)
    assert value == pytest.approx(0.0, abs=1e-7)
    y = np.random.default_rng(2).normal(size=(30, 100))
    assert math.isfinite(frechet_distance(x, y)) and frechet_distance(x, y) > 0


def test_frechet_from_moments_matches_scipy_sqrtm() -> None:
    from scipy import linalg

    rng = np.random.default_rng(3)
    d = 6
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    s1, s2 = _random_covariance(rng, d), _random_covariance(rng, d)
    covmean = linalg.sqrtm(s1 @ s2).real
    expected = float((mu1 - mu2) @ (mu1 - mu2) + np.trace(s1 + s2 - 2.0 * covmean))
    assert frechet_distance_from_moments(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)
    # Symmetric in its two Gaussians.
    assert frechet_distance_from_moments(mu2, s2, mu1, s1) == pytest.approx(expected, rel=1e-9)


def test_frechet_from_moments_diagonal_closed_form() -> None:
    # Commuting (diagonal) covariances: |mu1 - mu2|^2 + sum (sqrt(a_i) - sqrt(b_i))^2.
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 0.25])
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    expected = 1.0 + 0.0 + 4.0 + (1 - 2) ** 2 + (2 - 1) ** 2 + (3 - 0.5) ** 2
    assert frechet_distance_from_moments(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(
        expected, rel=1e-12
    )


def test_frechet_between_gaussian_samples_matches_the_closed_form() -> None:
    rng = np.random.default_rng(4)
    d, n = 4, 100_000
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    s1, s2 = _random_covariance(rng, d), _random_covariance(rng, d)
    exact = frechet_distance_from_moments(mu1, s1, mu2, s2)
    a = rng.multivariate_normal(mu1, s1, size=n)
    b = rng.multivariate_normal(mu2, s2, size=n)
    estimate = frechet_distance(a, b)
    # Sampling error of the mean term ~ 2 |mu1 - mu2| sqrt(tr(S)/n) plus O(d/n) bias: ~0.02.
    assert estimate == pytest.approx(exact, abs=0.05)
    assert exact > 1.0  # the two Gaussians really differ


def test_feature_moments_are_unbiased() -> None:
    x = np.random.default_rng(5).normal(size=(50, 3))
    mu, sigma = feature_moments(x)
    np.testing.assert_allclose(mu, x.mean(0))
    np.testing.assert_allclose(sigma, np.cov(x.T, ddof=1))


@pytest.mark.parametrize(
    ("a", "b", "match"),
    [
        (np.zeros((10, 3)), np.zeros((10, 4)), "same feature size"),
        (np.zeros(10), np.zeros((10, 1)), r"\(n, d\)"),
        (np.zeros((1, 3)), np.zeros((10, 3)), "at least 2 rows"),
        (np.full((10, 3), np.nan), np.zeros((10, 3)), "NaN"),
    ],
)
def test_frechet_rejects_bad_inputs(a: np.ndarray, b: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        frechet_distance(a, b)


def test_frechet_from_moments_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="sigma2 must have shape"):
        frechet_distance_from_moments(np.zeros(2), np.eye(2), np.zeros(2), np.eye(3))


# --------------------------------------------------------------------------------------- KID


def test_polynomial_mmd2_matches_a_loop() -> None:
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(7, 3)), rng.normal(0.5, size=(5, 3))

    def k(u: np.ndarray, v: np.ndarray) -> float:
        return (u @ v / 3 + 1.0) ** 3

    xx = sum(k(x[i], x[j]) for i in range(7) for j in range(7) if i != j) / (7 * 6)
    yy = sum(k(y[i], y[j]) for i in range(5) for j in range(5) if i != j) / (5 * 4)
    xy = sum(k(x[i], y[j]) for i in range(7) for j in range(5)) / (7 * 5)
    assert polynomial_mmd2(x, y) == pytest.approx(xx + yy - 2 * xy, rel=1e-12)


def test_kid_of_identical_distributions_is_about_zero() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(2000, 16)), rng.normal(size=(2000, 16))
    result = kernel_inception_distance(a, b, num_subsets=20, subset_size=500)
    # Unbiased: the mean is within a few standard errors of 0 and may be negative.
    assert abs(result.mean) < 4 * result.std / math.sqrt(result.num_subsets) + 1e-3
    assert result.subset_size == 500 and result.num_subsets == 20


def test_kid_of_shifted_distributions_is_positive_and_grows_with_the_shift() -> None:
    rng = np.random.default_rng(8)
    a = rng.normal(size=(2000, 16))
    small = kernel_inception_distance(a, rng.normal(0.3, size=(2000, 16)), 20, 500)
    large = kernel_inception_distance(a, rng.normal(1.0, size=(2000, 16)), 20, 500)
    assert small.mean > 5 * small.std / math.sqrt(20)
    assert large.mean > 5 * small.mean


def test_kid_caps_the_subset_size_and_is_seeded() -> None:
    rng = np.random.default_rng(9)
    a, b = rng.normal(size=(50, 4)), rng.normal(size=(80, 4))
    first = kernel_inception_distance(a, b, num_subsets=5, subset_size=1000, seed=1)
    assert first.subset_size == 50
    assert kernel_inception_distance(a, b, 5, 1000, seed=1) == first


def test_kid_rejects_bad_subsets() -> None:
    x = np.zeros((10, 2))
    with pytest.raises(ValueError, match="num_subsets must be a positive integer"):
        kernel_inception_distance(x, x, num_subsets=0)
    with pytest.raises(ValueError, match="subset_size"):
        kernel_inception_distance(x, x, subset_size=2.5)  # type: ignore[arg-type]


# -------------------------------------------------------------------------------------- PRDC


def test_prdc_equals_the_reference_code() -> None:
    rng = np.random.default_rng(10)
    real, fake = rng.normal(size=(400, 50)), rng.normal(0.2, size=(300, 50))
    ours = prdc(real, fake, k_pr=5, k_dc=5)
    reference = _reference_prdc(real, fake, 5)
    for name, value in reference.items():
        assert getattr(ours, name) == pytest.approx(value, abs=1e-12), name


def test_prdc_is_the_same_block_by_block(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(11)
    real, fake = rng.normal(size=(300, 20)), rng.normal(size=(250, 20))
    whole = prdc(real, fake)
    monkeypatch.setattr(_arrays, "BLOCK_ELEMENTS", 1000)  # 3-4 rows per block
    assert len(list(_arrays.row_chunks(300, 300))) == 100
    assert prdc(real, fake) == whole


def test_prdc_on_1000d_normals_small() -> None:
    # Same protocol as the published figures at 2,000 vs 2,000 samples, against the reference
    # code; the figures at this size are larger (fewer samples -> larger balls) but ordered alike.
    rng = np.random.default_rng(12)
    real, fake = rng.standard_normal((2000, 1000)), rng.standard_normal((2000, 1000))
    ours = prdc(real, fake, k_pr=5, k_dc=5)
    reference = _reference_prdc(real, fake, 5)
    for name, value in reference.items():
        assert getattr(ours, name) == pytest.approx(value, abs=1e-12), name
    assert 0.3 < ours.precision < 0.8 and 0.3 < ours.recall < 0.8
    assert 0.8 < ours.density < 1.4 and ours.coverage > 0.9


# Spread over seeds 0-4 of default_rng (10k vs 10k, 1000-d), largest distance to the published
# figure: precision 0.021, recall 0.022, density 0.143, coverage 0.018.
PRDC_TOL = {"precision": 0.05, "recall": 0.05, "density": 0.2, "coverage": 0.03}


@pytest.mark.slow
def test_prdc_published_figures_10k_vs_10k_1000d() -> None:
    # Naeem et al. 2020, reference code README: precision 0.4772, recall 0.4705,
    # density 1.0555, coverage 0.9738. In 1000-d the figures vary between draws (density most);
    # the tolerances cover the spread measured over seeds (about 13 s on 2 cores).
    rng = np.random.default_rng(0)
    real, fake = rng.standard_normal((10_000, 1000)), rng.standard_normal((10_000, 1000))
    result = prdc(real, fake, k_pr=5, k_dc=5)
    assert result.precision == pytest.approx(0.4772, abs=PRDC_TOL["precision"])
    assert result.recall == pytest.approx(0.4705, abs=PRDC_TOL["recall"])
    assert result.density == pytest.approx(1.0555, abs=PRDC_TOL["density"])
    assert result.coverage == pytest.approx(0.9738, abs=PRDC_TOL["coverage"])


def test_prdc_separated_sets_score_zero_and_equal_sets_full_coverage() -> None:
    x = np.random.default_rng(13).normal(size=(200, 5))
    assert precision_recall(x, x + 100.0) == (0.0, 0.0)
    assert density_coverage(x, x + 100.0) == (0.0, 0.0)
    same = prdc(x, x)
    assert same.precision == 1.0 and same.recall == 1.0 and same.coverage == 1.0


def test_prdc_sees_collapse_as_low_recall_and_coverage() -> None:
    rng = np.random.default_rng(14)
    real = rng.normal(size=(1000, 8))
    collapsed = real[:50][rng.integers(0, 50, 1000)] + 0.01 * rng.normal(size=(1000, 8))
    result = prdc(real, collapsed)
    healthy = prdc(real, rng.normal(size=(1000, 8)))
    assert result.precision > 0.9  # samples are realistic ...
    assert result.recall < 0.1 and result.coverage < 0.4  # ... but cover a small part
    assert healthy.recall > 0.5 and healthy.coverage > 0.9


def test_prdc_rejects_k_too_large() -> None:
    x = np.zeros((5, 2))
    with pytest.raises(ValueError, match="k=5 needs more than 5 rows"):
        prdc(x, x, k_pr=3, k_dc=5)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        prdc(x, x, k_pr=0)


# ---------------------------------------------------------------------------- class coverage


def test_class_coverage_collapsed_vs_balanced() -> None:
    rng = np.random.default_rng(15)
    reference = np.arange(10_000) % 10
    balanced = np.eye(10)[rng.permutation(np.arange(1000) % 10)] * 0.9 + 0.01
    collapsed = np.tile(np.eye(10)[3] * 0.5 + 0.05, (1000, 1))
    good = class_coverage(balanced, reference)
    bad = class_coverage(collapsed, reference)
    assert good.classes_hit == 10 and good.kl == pytest.approx(0.0, abs=1e-9)
    assert good.confidence == pytest.approx(0.91)
    assert bad.classes_hit == 1 and bad.kl == pytest.approx(math.log(10), rel=1e-6)
    assert bad.confidence == pytest.approx(0.55)
    assert bad.histogram[3] == 1.0 and sum(bad.histogram) == pytest.approx(1.0)


def test_class_coverage_partial_collapse_kl() -> None:
    # Half the classes, evenly: KL = log 2 against a balanced reference.
    probs = np.eye(10)[np.arange(1000) % 5]
    result = class_coverage(probs, np.full(10, 0.1))
    assert result.classes_hit == 5 and result.kl == pytest.approx(math.log(2), rel=1e-6)


def test_class_coverage_reference_forms_agree() -> None:
    rng = np.random.default_rng(16)
    labels = rng.integers(0, 4, 500)
    probs = rng.dirichlet(np.ones(4), 300)
    from_labels = class_coverage(probs, labels)
    assert class_coverage(probs, np.eye(4)[labels]) == from_labels
    assert class_coverage(probs, class_histogram(labels, 4)) == from_labels


def test_class_coverage_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError, match="probs must be class probabilities"):
        class_coverage(np.zeros(10), np.arange(10))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        class_coverage(np.eye(3), [0, 1, 5])
    with pytest.raises(ValueError, match="sum to 1"):
        class_coverage(np.eye(3), np.array([0.5, 0.2, 0.2]))


# ----------------------------------------------------------------------------- mode coverage


@pytest.mark.parametrize("kind", ["ring", "grid"])
def test_mode_coverage_all_modes(kind: str) -> None:
    from keras_gan.data import mixture_centers

    centers, std = mixture_centers(kind)
    rng = np.random.default_rng(17)
    samples = np.repeat(centers, 100, axis=0) + rng.normal(0, std, (len(centers) * 100, 2))
    result = mode_coverage(samples, centers, std)
    assert result.modes == len(centers)
    assert result.high_quality > 0.97  # 3 std in 2-D holds 98.9% of a Gaussian
    assert result.reverse_kl < 0.01


@pytest.mark.parametrize("kind", ["ring", "grid"])
def test_mode_coverage_one_mode(kind: str) -> None:
    from keras_gan.data import mixture_centers

    centers, std = mixture_centers(kind)
    samples = centers[2] + np.random.default_rng(18).normal(0, std / 2, (2500, 2))
    result = mode_coverage(samples, centers, std)
    assert result.modes == 1
    assert result.high_quality == 1.0
    assert result.reverse_kl == pytest.approx(math.log(len(centers)), rel=1e-9)


def test_mode_coverage_off_mode_samples() -> None:
    from keras_gan.data import mixture_centers

    centers, std = mixture_centers("grid")
    on = np.repeat(centers, 4, axis=0)  # 100 samples, every mode
    off = np.repeat(centers[:10] + 1.0, 30, axis=0)  # 300 between the modes
    result = mode_coverage(np.concatenate([on, off]), centers, std)
    assert result.modes == 25
    assert result.high_quality == pytest.approx(100 / 400)
    assert result.reverse_kl == pytest.approx(0.0, abs=1e-12)
    nothing = mode_coverage(off, centers, std)
    assert nothing.modes == 0 and nothing.high_quality == 0.0 and nothing.reverse_kl == math.inf


def test_mode_coverage_min_count_and_errors() -> None:
    centers = np.array([[0.0, 0.0], [1.0, 0.0]])
    samples = np.array([[0.0, 0.0]] * 3 + [[1.0, 0.0]])
    assert mode_coverage(samples, centers, 0.1).modes == 2
    assert mode_coverage(samples, centers, 0.1, min_count=2).modes == 1
    with pytest.raises(ValueError, match="std must be a positive number"):
        mode_coverage(samples, centers, 0.0)
    with pytest.raises(ValueError, match=r"samples must be \(n, 2\)"):
        mode_coverage(np.zeros((3, 3)), centers, 0.1)
    with pytest.raises(ValueError, match="NaN"):
        mode_coverage(np.full((3, 2), np.nan), centers, 0.1)


def test_metrics_import_no_tensorflow() -> None:
    import subprocess
    import sys

    code = (
        "import sys, keras_gan.metrics as m; m.frechet_distance; "
        "sys.exit(1 if 'tensorflow' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
