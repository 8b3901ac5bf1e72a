"""evaluate (every target kind), compute_metrics, the evaluate CLI and QualityCallback."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from keras_gan.cli import main
from keras_gan.evaluation import QualityCallback, Reference, default_out_dir, evaluate, format_table
from keras_gan.evaluation.classifier import FeatureClassifier
from keras_gan.metrics import METRIC_NAMES, compute_metrics
from keras_gan.runs import LoadedGenerator, load_generator
from tests._metrics_data import (
    BATCH,
    EPOCHS,
    LATENT,
    SIZE,
    conditional_template_generator,
    template_generator,
    train_tiny,
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[FeatureClassifier, Path, Path]:
    return train_tiny(tmp_path_factory)


@pytest.fixture(scope="module")
def reference(trained) -> Reference:
    clf, data, _ = trained
    return Reference.build(clf, data, 300)


@pytest.fixture(scope="module")
def generators(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("generators")
    paths = {"balanced": root / "balanced.keras", "collapsed": root / "collapsed.keras"}
    template_generator().save(paths["balanced"])
    template_generator([3] * 10).save(paths["collapsed"])
    return paths


def test_compute_metrics_names_and_subsets() -> None:
    rng = np.random.default_rng(0)
    f, p = rng.normal(size=(200, 6)), rng.dirichlet(np.ones(4), 200)
    full = compute_metrics(f, p, f + 1.0, p, kid_subsets=5, kid_subset_size=100)
    assert tuple(full) == METRIC_NAMES
    assert full["fid"] == pytest.approx(6.0, rel=1e-9)  # mean shift of 1 in 6 dimensions
    only = compute_metrics(f, p, f + 1.0, p, names=["fid", "coverage"])
    assert set(only) == {"fid", "coverage"}
    assert set(compute_metrics(f, p, f, p, names=["kid"], kid_subset_size=50)) == {"kid", "kid_std"}
    assert only["fid"] == full["fid"]
    with pytest.raises(ValueError, match="unknown metrics"):
        compute_metrics(f, p, f, p, names=["inception_score"])


def test_evaluate_balanced_vs_collapsed(trained, reference, generators, tmp_path) -> None:
    clf, data, _ = trained
    reports = {
        name: evaluate(
            path, data, 300, tmp_path / name, classifier=clf, reference=reference, kid_subsets=10
        )
        for name, path in generators.items()
    }
    good, bad = reports["balanced"]["metrics"], reports["collapsed"]["metrics"]
    assert good["classes_hit"] == 10 and bad["classes_hit"] == 1
    assert bad["class_kl"] == pytest.approx(np.log(10), abs=0.05) and good["class_kl"] < 0.05
    assert bad["fid"] > 5 * good["fid"]
    assert bad["recall"] < good["recall"] and bad["coverage"] < good["coverage"]
    assert reports["collapsed"]["histogram"]["generated"][3] == 1.0
    floor = reports["balanced"]["floor"]
    assert floor["classes_hit"] == 10 and floor["fid"] < bad["fid"]
    assert floor["coverage"] > 0.8
    out = tmp_path / "balanced"
    names = sorted(p.name for p in out.iterdir())
    assert names == ["class_histogram.png", "evaluation.json", "evaluation.md", "samples.png"]
    saved = json.loads((out / "evaluation.json").read_text())
    assert (
        saved["metrics"] == pytest.approx(good) and saved["classifier"]["accuracy"] == clf.accuracy
    )
    assert (out / "samples.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    markdown = (out / "evaluation.md").read_text()
    assert "| fid |" in markdown and "floor (real train vs test)" in markdown


def test_evaluate_is_reproducible_for_a_seed(trained, reference, generators, tmp_path) -> None:
    clf, data, _ = trained
    sampler = load_generator(generators["balanced"])
    args = {"classifier": clf, "reference": reference, "floor": False, "kid_subsets": 5}
    first = evaluate(sampler, data, 100, tmp_path / "a", seed=1, **args)
    second = evaluate(sampler, data, 100, tmp_path / "b", seed=1, **args)
    other = evaluate(sampler, data, 100, tmp_path / "c", seed=2, **args)
    assert first["metrics"] == second["metrics"] and first["floor"] is None
    assert other["metrics"]["fid"] != first["metrics"]["fid"]


def test_load_generator_run_dir_saved_model_and_onnx(generators, tmp_path) -> None:
    from keras_gan.export import export

    model = template_generator()
    run = tmp_path / "run"
    run.mkdir()
    model.save(run / "generator.keras")
    (run / "run.json").write_text("{}")
    base = tmp_path / "export"
    version = export(model, base, formats=("saved_model", "onnx"))
    z = np.random.default_rng(0).standard_normal((6, LATENT)).astype(np.float32)
    expected = np.asarray(model(z))
    for target, kind in (
        (run, "keras"),
        (generators["balanced"], "keras"),
        (version, "saved_model"),
        (base, "onnx"),
        (version / "model.onnx", "onnx"),
    ):
        sampler = load_generator(target)
        assert (sampler.kind, sampler.latent_dim) == (kind, LATENT), target
        np.testing.assert_allclose(
            sampler.generate_fn(z).reshape(expected.shape), expected, atol=1e-4
        )
        assert sampler.sample(3, seed=0).shape == (3, SIZE, SIZE, 1)
    assert default_out_dir(run) == run
    assert default_out_dir(generators["balanced"]) == generators["balanced"].parent


def test_load_generator_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_generator(tmp_path / "missing.keras")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="unknown generator file"):
        load_generator(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="no generator found"):
        load_generator(tmp_path)
    (tmp_path / "bad.keras").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a loadable Keras model"):
        load_generator(tmp_path / "bad.keras")


def test_evaluate_rejects_a_generator_of_the_wrong_shape(trained, reference, tmp_path) -> None:
    clf, data, _ = trained
    sampler = LoadedGenerator(lambda z: np.zeros((len(z), 28, 28, 1)), 4, "fn", "zeros")
    with pytest.raises(ValueError, match=r"expects \(16, 16, 1\)"):
        evaluate(sampler, data, 20, tmp_path, classifier=clf, reference=reference)


def test_cli_evaluate(trained, generators, tmp_path, capsys) -> None:
    _, data, cache = trained
    argv = [
        "evaluate",
        str(generators["collapsed"]),
        "--dataset",
        str(data),
        "--num-samples",
        "200",
        "--out",
        str(tmp_path / "report"),
        "--cache-dir",
        str(cache),
        "--classifier-epochs",
        str(EPOCHS),
        "--classifier-batch-size",
        str(BATCH),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "| classes_hit | 1 | 10 |" in out and "floor (real train vs test)" in out
    report = json.loads((tmp_path / "report" / "evaluation.json").read_text())
    assert report["metrics"]["classes_hit"] == 1.0 and report["num_samples"] == 200
    assert main(["evaluate", str(tmp_path / "nothing"), "--dataset", str(data)]) == 2
    assert "no such file or directory" in capsys.readouterr().err
    assert main([*argv[:4], "--num-samples", "5"]) == 2


def test_format_table() -> None:
    table = format_table({"a": {"fid": 1.0, "classes_hit": 3.0}, "b": {"fid": 2.5}})
    assert table.splitlines() == [
        "| metric | a | b |",
        "|---|---|---|",
        "| fid | 1.000 | 2.500 |",
        "| classes_hit | 3 |  |",
    ]


def test_quality_callback_logs_history_and_tensorboard(trained, tmp_path) -> None:
    import tensorflow as tf

    from keras_gan.callbacks import HistoryWriter
    from keras_gan.data import load_arrays
    from keras_gan.models import build

    clf, data, _ = trained
    images, _ = load_arrays(data, "train")
    x = images[:256, ..., None].astype(np.float32) / 127.5 - 1.0
    gan = build("gan", image_shape=(SIZE, SIZE, 1), latent_dim=8, hidden=(32,), seed=0)
    callback = QualityCallback(
        clf, images[:200], every=2, num_samples=100, tensorboard_dir=tmp_path / "tb", kid_subsets=5
    )
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(64, drop_remainder=True)
    callbacks = [callback, HistoryWriter(tmp_path)]
    history = gan.fit(dataset, epochs=3, callbacks=callbacks, verbose=0, shuffle=False)
    assert [row["epoch"] for row in callback.history] == [2.0, 3.0]  # every 2nd and the last
    assert len(history.history["quality/fid"]) == 2
    assert history.history["quality/fid"] == [row["fid"] for row in callback.history]
    rows = json.loads((tmp_path / "history.json").read_text())["epochs"]
    assert "quality/fid" not in rows[0] and "quality/coverage" in rows[1]
    assert list((tmp_path / "tb" / "quality").glob("events.out.tfevents.*"))
    with pytest.raises(ValueError, match="unknown metrics"):
        QualityCallback(clf, images, metrics=["is"])
    with pytest.raises(ValueError, match="every must be a positive integer"):
        QualityCallback(clf, images, every=0)


def test_conditional_evaluation_reports_per_class_accuracy_and_fid(
    trained, reference, tmp_path
) -> None:
    clf, data, _ = trained
    right, wrong = tmp_path / "right.keras", tmp_path / "wrong.keras"
    conditional_template_generator().save(right)
    conditional_template_generator([(c + 1) % 10 for c in range(10)]).save(wrong)
    loaded = load_generator(right)
    assert loaded.num_classes == 10  # read from the label embedding
    args = {"classifier": clf, "reference": reference, "kid_subsets": 5, "kid_subset_size": 100}
    good = evaluate(right, data, 300, tmp_path / "good", **args)
    bad = evaluate(wrong, data, 300, tmp_path / "bad", floor=False, **args)
    assert good["num_classes"] == 10 and good["per_class"]["count"] == [30] * 10
    assert good["per_class"]["min_accuracy"] == 1.0
    assert bad["per_class"]["accuracy"] == [0.0] * 10
    # Every class is drawn, so the unconditional metrics cannot tell; the intra-class FID can.
    assert bad["metrics"]["classes_hit"] == 10
    assert bad["per_class"]["mean_fid"] > 5 * good["per_class"]["mean_fid"]
    assert len(good["per_class"]["floor_fid"]) == 10 and "floor_fid" not in bad["per_class"]
    markdown = (tmp_path / "good" / "evaluation.md").read_text()
    assert "| class | accuracy | intra-class FID |" in markdown and "| mean | 1.000 |" in markdown


def test_conditional_sampling_checks_its_labels(tmp_path) -> None:
    path = tmp_path / "g.keras"
    conditional_template_generator().save(path)
    loaded = load_generator(path)
    assert loaded.sample(4, seed=0, labels=3).shape == (4, 16, 16, 1)
    with pytest.raises(ValueError, match="class-conditional"):
        loaded.sample(4, seed=0)
    with pytest.raises(ValueError, match=r"Class index 10 is out of range.*\[0, 10\)"):
        loaded.sample(2, seed=0, labels=[1, 10])
    with pytest.raises(ValueError, match="unconditional generator: it takes no labels"):
        load_generator(_unconditional(tmp_path)).sample(2, seed=0, labels=1)


def _unconditional(tmp_path: Path) -> Path:
    path = tmp_path / "u.keras"
    template_generator().save(path)
    return path
