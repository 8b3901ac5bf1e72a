"""The feature classifier: training, cache key and layout, atomic save, features; the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from keras_gan.cli import main
from keras_gan.evaluation import classifier as clf_module
from keras_gan.evaluation.classifier import (
    INFO_FILE,
    MODEL_FILE,
    FeatureClassifier,
    as_model_input,
    cache_root,
    classifier_dir,
    load_classifier,
    train_classifier,
)
from tests._metrics_data import BATCH, CLASSES, EPOCHS, SIZE, make_images, train_tiny, write_dataset
from tests.conftest import requires_fashion_mnist


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[FeatureClassifier, Path, Path]:
    return train_tiny(tmp_path_factory)


def test_classifier_learns_the_synthetic_classes(trained) -> None:
    clf = trained[0]
    assert clf.accuracy >= 0.9
    assert clf.input_shape == (SIZE, SIZE, 1) and clf.num_classes == CLASSES
    labels = np.arange(40) % CLASSES
    features, probs = clf.predict(make_images(labels, np.random.default_rng(5)))
    assert features.shape == (40, 128) and probs.shape == (40, CLASSES)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert (features >= 0).all()  # ReLU features
    assert (probs.argmax(axis=1) == labels).mean() >= 0.9


def test_classifier_cache_layout_and_record(trained) -> None:
    clf, data, cache = trained
    expected = classifier_dir(data, epochs=EPOCHS, batch_size=BATCH, cache_dir=cache)
    assert clf.path == expected and expected.parent == cache / "classifiers"
    assert sorted(p.name for p in expected.iterdir()) == [INFO_FILE, MODEL_FILE]
    assert [p.name for p in expected.parent.iterdir()] == [expected.name]  # no staging left
    info = json.loads((expected / INFO_FILE).read_text())
    assert info["accuracy"] == clf.accuracy and info["epochs"] == EPOCHS
    assert expected.name.endswith(info["key"])


def test_classifier_is_loaded_not_retrained(trained, monkeypatch: pytest.MonkeyPatch) -> None:
    clf, data, cache = trained

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("retrained a cached classifier")

    monkeypatch.setattr(clf_module, "build_network", fail)
    again = load_classifier(data, epochs=EPOCHS, batch_size=BATCH, cache_dir=cache)
    assert again.info == clf.info
    x = make_images(np.arange(10), np.random.default_rng(1))
    np.testing.assert_allclose(again.predict(x)[1], clf.predict(x)[1], atol=1e-6)
    with pytest.raises(FileNotFoundError, match="keras-gan classifier train"):
        load_classifier(data, epochs=EPOCHS + 1, batch_size=BATCH, cache_dir=cache, train=False)


def test_cache_key_depends_on_settings_and_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = classifier_dir("fashion_mnist", cache_dir=tmp_path)
    assert base.name.startswith("fashion_mnist-")
    others = {
        classifier_dir("fashion_mnist", cache_dir=tmp_path, seed=1),
        classifier_dir("fashion_mnist", cache_dir=tmp_path, epochs=2),
        classifier_dir("mnist", cache_dir=tmp_path),
    }
    assert base not in others and len(others) == 3
    monkeypatch.setitem(clf_module.ARCHITECTURE, "features", 64)
    assert classifier_dir("fashion_mnist", cache_dir=tmp_path) != base
    monkeypatch.setenv("KERAS_GAN_CACHE", str(tmp_path / "env"))
    assert cache_root() == tmp_path / "env"
    monkeypatch.delenv("KERAS_GAN_CACHE")
    assert cache_root() == Path.home() / ".cache" / "keras_gan"
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        classifier_dir("fashion_mnist", epochs=0)


def test_failed_training_leaves_no_directory(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "data", n_train=40, n_test=20)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        train_classifier(data, batch_size=0, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_as_model_input_scales_and_checks() -> None:
    assert as_model_input(np.full((1, 2, 2), 255, np.uint8), (2, 2, 1)).max() == 1.0
    assert as_model_input(np.full((1, 2, 2, 1), 3.0), (2, 2, 1)).max() == 1.0  # clipped
    with pytest.raises(ValueError, match=r"images must have shape \(n, 28, 28, 1\)"):
        as_model_input(np.zeros((2, 16, 16, 1)), (28, 28, 1))
    with pytest.raises(ValueError, match="NaN"):
        as_model_input(np.full((1, 2, 2, 1), np.nan), (2, 2, 1))


def test_cli_classifier_train_and_info(trained, capsys: pytest.CaptureFixture[str]) -> None:
    clf, data, cache = trained
    common = ["--dataset", str(data), "--epochs", str(EPOCHS), "--batch-size", str(BATCH)]
    assert main(["classifier", "train", *common, "--cache-dir", str(cache)]) == 0
    out = capsys.readouterr().out
    assert "(cached)" in out and f"{clf.accuracy:.4f}" in out
    assert main(["classifier", "info", *common, "--cache-dir", str(cache)]) == 0
    assert str(clf.path) in capsys.readouterr().out
    assert main(["classifier", "info", *common, "--cache-dir", str(cache / "none")]) == 2
    assert "no classifier in" in capsys.readouterr().err


@pytest.mark.slow
@requires_fashion_mnist
def test_full_classifier_reaches_92_percent_on_fashion_mnist(tmp_path: Path) -> None:
    clf = train_classifier("fashion_mnist", cache_dir=tmp_path)
    assert clf.accuracy >= 0.92


def test_weights_hash_identifies_the_network_not_its_settings(tmp_path, idx_dir):
    """Two classifiers under one settings key but with other weights are told apart, and a
    cache entry whose weights changed is refused."""
    import json

    import keras
    import pytest

    from keras_gan.evaluation.classifier import load_classifier, weights_hash

    first = train_classifier(idx_dir, epochs=1, batch_size=16, cache_dir=tmp_path / "c")
    assert first.info["weights_sha256"] == weights_hash(first.model)
    assert first.identity == first.info["weights_sha256"][:12]
    again = load_classifier(idx_dir, epochs=1, batch_size=16, cache_dir=tmp_path / "c")
    assert again.identity == first.identity
    # Another network saved under the same key: its weights no longer match the record.
    model = keras.models.clone_model(first.model)
    model.set_weights([w * 0 for w in first.model.get_weights()])
    model.save(first.path / "classifier.keras")
    with pytest.raises(ValueError, match=r"has weights [0-9a-f]{12} but its record says"):
        load_classifier(idx_dir, epochs=1, batch_size=16, cache_dir=tmp_path / "c")
    info = json.loads((first.path / "classifier.json").read_text())
    assert weights_hash(model) != info["weights_sha256"]
