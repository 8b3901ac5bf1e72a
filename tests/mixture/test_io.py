"""GaussianMixture save/load, the Keras generator (and its ONNX conversion) and train_mixture."""

from __future__ import annotations

import json
import struct
import warnings

import keras
import numpy as np
import pytest

import keras_gan.mixture as mixture
from keras_gan.mixture import ConvergenceWarning, GaussianMixture
from tests.conftest import requires_fashion_mnist


def fitted(kind: str, d: int = 4, k: int = 3, seed: int = 0) -> GaussianMixture:
    rng = np.random.default_rng(seed)
    centers = rng.uniform(0.2, 0.8, (k, d))
    x = np.concatenate([rng.normal(c, 0.05 + 0.02 * i, (300, d)) for i, c in enumerate(centers)])
    if kind in ("full", "tied"):
        x = x + 0.5 * (x[:, :1] - 0.5)  # correlated features
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return GaussianMixture(k, kind, random_state=0).fit(x)


@pytest.mark.parametrize("kind", ["full", "tied", "diag", "spherical"])
def test_save_load_round_trip(tmp_path, kind):
    gmm = fitted(kind)
    gmm.image_shape_, gmm.data_range_ = (2, 2, 1), (0.0, 1.0)
    path = gmm.save(tmp_path / "model.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]  # no temporary left
    for loaded in (GaussianMixture.load(path), mixture.load(path)):
        x = gmm.sample(100, seed=1)[0]
        np.testing.assert_array_equal(loaded.score_samples(x), gmm.score_samples(x))
        np.testing.assert_array_equal(loaded.precisions_cholesky_, gmm.precisions_cholesky_)
        assert loaded.get_config() == gmm.get_config()
        assert (loaded.n_iter_, loaded.converged_) == (gmm.n_iter_, gmm.converged_)
        assert loaded.lower_bound_ == gmm.lower_bound_
        assert loaded.image_shape_ == (2, 2, 1) and loaded.data_range_ == (0.0, 1.0)
    with np.load(path, allow_pickle=False) as npz:  # plain arrays and a JSON string
        meta = json.loads(str(npz["config"]))
    assert meta["format"] == "keras_gan.mixture.v1" and meta["config"]["covariance_type"] == kind


def test_load_rejects_other_files(tmp_path):
    np.savez(tmp_path / "other.npz", weights=np.ones(2))
    with pytest.raises(ValueError, match="no 'config' entry"):
        GaussianMixture.load(tmp_path / "other.npz")
    np.savez(tmp_path / "pickled.npz", config=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="allow_pickle"):
        GaussianMixture.load(tmp_path / "pickled.npz")
    with pytest.raises(ValueError, match="not fitted"):
        GaussianMixture(2).save(tmp_path / "unfitted.npz")


def _generator_draws(gmm: GaussianMixture, n: int, data_range=(0.0, 1.0)) -> np.ndarray:
    model = gmm.as_generator(data_range=data_range)
    z = np.random.default_rng(3).standard_normal((n, model.latent_dim)).astype(np.float32)
    out = np.asarray(model.predict(z, batch_size=8192, verbose=0), np.float64)
    low, high = data_range
    return (out + 1.0) / 2.0 * (high - low) + low


@pytest.mark.parametrize("kind", ["full", "tied", "diag", "spherical"])
def test_generator_draws_match_fitted_moments(kind):
    gmm = fitted(kind)
    # A wide data_range keeps the clip out of the way of the moments.
    draws = _generator_draws(gmm, 100_000, data_range=(-4.0, 4.0))
    reference, _ = gmm.sample(100_000, seed=2)
    np.testing.assert_allclose(draws.mean(axis=0), reference.mean(axis=0), atol=0.004)
    np.testing.assert_allclose(np.cov(draws.T), np.cov(reference.T), atol=0.003)
    # The per-component structure: the same component frequencies when assigned by predict.
    ours = np.bincount(gmm.predict(draws), minlength=3) / len(draws)
    np.testing.assert_allclose(ours, gmm.weights_, atol=0.01)


def test_generator_maps_range_clips_and_reshapes():
    gmm = fitted("diag", d=4)
    gmm.image_shape_ = (2, 2, 1)
    model = gmm.as_generator()
    assert model.latent_dim == gmm.latent_dim == 5
    assert model.input_shape == (None, 5) and model.output_shape == (None, 2, 2, 1)
    z = np.zeros((4, 5), np.float32)
    z[:, 4] = [-3.0, -0.1, 0.1, 3.0]  # Phi(z) picks components by cumulative weight
    out = model.predict(z, verbose=0)
    cumulative = np.cumsum(gmm.weights_)
    u = 0.5 * (1 + np.vectorize(__import__("math").erf)(z[:, 4] / np.sqrt(2)))
    chosen = np.searchsorted(cumulative, u)
    np.testing.assert_allclose(out.reshape(4, 4), 2 * gmm.means_[chosen] - 1, atol=1e-6)
    z[:, :4] = 50.0
    assert np.all(model.predict(z, verbose=0) == 1.0)  # clipped to [-1, 1]
    flat = gmm.as_generator(image_shape=None)
    assert flat.output_shape == (None, 2, 2, 1)  # image_shape_ is the default
    with pytest.raises(ValueError, match="image_shape must hold n_features=4"):
        gmm.as_generator(image_shape=(3, 3, 1))


def test_generator_reloads_from_keras_file(tmp_path):
    model = fitted("full").as_generator()
    model.save(tmp_path / "g.keras")
    loaded = keras.saving.load_model(tmp_path / "g.keras")
    z = np.random.default_rng(0).standard_normal((16, 5)).astype(np.float32)
    np.testing.assert_allclose(loaded.predict(z, verbose=0), model.predict(z, verbose=0))


@pytest.mark.parametrize("kind", ["full", "diag"])
def test_generator_converts_to_onnx(tmp_path, kind):
    import onnxruntime as ort

    gmm = fitted(kind, d=6)
    gmm.image_shape_ = (2, 3, 1)
    model = gmm.as_generator()
    path = tmp_path / "gmm.onnx"
    model.export(str(path), format="onnx", verbose=False, opset_version=18)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    z = np.random.default_rng(1).standard_normal((64, 7)).astype(np.float32)
    (got,) = session.run(None, {session.get_inputs()[0].name: z})
    np.testing.assert_allclose(got, model.predict(z, verbose=0), atol=1e-5)
    assert got.shape == (64, 2, 3, 1)


@requires_fashion_mnist
def test_train_mixture_writes_run_directory(tmp_path):
    from keras_gan.runs import train_mixture

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        trained = train_mixture(
            "fashion_mnist",
            tmp_path / "run",
            limit=300,
            seed=0,
            components=4,
            covariance="diag",
            max_iter=5,
        )
    assert trained.out == tmp_path / "run" and trained.model.n_components == 4
    out = tmp_path / "run"
    assert sorted(p.name for p in out.iterdir()) == [
        "keras-gan-run.json",
        "means.png",
        "mixture.npz",
        "run.json",
        "samples.png",
    ]
    run = json.loads((out / "run.json").read_text())
    assert run["model"] == "gmm" and run["components"] == 4 and run["covariance"] == "diag"
    assert run["latent_dim"] == 785 and run["image_shape"] == [28, 28, 1] and run["seed"] == 0
    gmm = mixture.load(out / "mixture.npz")
    assert gmm.n_iter_ == run["n_iter"] <= 5 and gmm.image_shape_ == (28, 28, 1)
    from keras_gan.data import load_arrays

    x = load_arrays("fashion_mnist")[0][:300].reshape(300, -1) / 255.0
    assert run["avg_log_likelihood"] == pytest.approx(gmm.score(x), rel=1e-9)
    header = (out / "samples.png").read_bytes()[:24]
    width, height = struct.unpack(">II", header[16:24])  # the PNG IHDR chunk
    # Eight 28-pixel images a side, enlarged 4x to be seen (default_scale), 2-pixel gaps.
    assert header[:8] == b"\x89PNG\r\n\x1a\n" and (width, height) == (8 * 28 * 4 + 9 * 2,) * 2
    assert gmm.as_generator().output_shape == (None, 28, 28, 1)


def test_train_mixture_reports_bad_dataset(tmp_path):
    from keras_gan.data import DatasetError
    from keras_gan.runs import train_mixture

    with pytest.raises(DatasetError, match="no such directory"):
        train_mixture(str(tmp_path / "missing"), tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_train_mixture_on_idx_directory(idx_dir, tmp_path):
    from keras_gan.runs import train_mixture

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        train_mixture(str(idx_dir), tmp_path / "run", components=2, covariance="spherical", seed=1)
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["image_shape"] == [8, 8, 1] and run["latent_dim"] == 65 and run["n_samples"] == 64


def _rewrite(path, **changes):
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays.update(changes)
    np.savez(path, **arrays)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"weights": np.ones(5)}, r"weights \(5,\) \(expected \(3,\)\)"),
        ({"covariances": np.ones((3, 2))}, r"covariances \(3, 2\) \(expected \(3, 4\)\)"),
    ],
)
def test_load_checks_the_shape_of_every_array(tmp_path, change, message):
    path = fitted("diag").save(tmp_path / "m.npz")
    _rewrite(path, **change)
    with pytest.raises(ValueError, match=message):
        GaussianMixture.load(path)


def test_a_bad_mixture_config_is_a_clear_export_error(tmp_path, capsys):
    from keras_gan.cli import main

    path = fitted("diag").save(tmp_path / "mixture.npz")
    with np.load(path, allow_pickle=False) as npz:
        meta = json.loads(str(npz["config"]))
    meta["config"]["bogus"] = 1
    _rewrite(path, config=np.array(json.dumps(meta)))
    assert main(["export", str(path), "--out", str(tmp_path / "export")]) == 2
    err = capsys.readouterr().err
    assert "is not a valid saved GaussianMixture" in err and "bogus" in err
    assert "Traceback" not in err and not (tmp_path / "export").exists()
