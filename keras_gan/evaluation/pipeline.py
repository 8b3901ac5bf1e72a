"""Evaluate a generator against a dataset's test split in the feature classifier's space.

:func:`evaluate` loads a generator (:func:`keras_gan.runs.load_generator`: run directory,
``.keras``, mixture, SavedModel or ONNX export), draws ``num_samples`` images by the latent
recipe every sampler of the library shares, computes FID, KID, precision/recall,
density/coverage and class coverage against the test split
(:func:`keras_gan.metrics.compute_metrics`), and the same metrics for real train images against
the test split (the *floor*: what a perfect generator would score with this classifier and
sample size). A class-conditional generator is sampled class-balanced (``np.arange(n) % C``)
and also scored per class (:func:`per_class_metrics`: the classifier's accuracy on the samples
of each class asked for, and the intra-class FID against that class's test images). It writes
``evaluation.json``, ``evaluation.md``, ``samples.png`` (one row per class when conditional)
and ``class_histogram.png``, each atomically.

Example:
    >>> report = evaluate("runs/dcgan", num_samples=10000)  # doctest: +SKIP
    >>> report["metrics"]["fid"], report["floor"]["fid"]  # doctest: +SKIP
    (41.2, 0.61)
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from keras_gan import _atomic
from keras_gan.data.classes import CLASS_NAMES
from keras_gan.metrics.combined import METRIC_NAMES, compute_metrics
from keras_gan.plotting import plot_class_histogram
from keras_gan.runs.directory import EVALUATION
from keras_gan.runs.loading import (
    LoadedGenerator,
    balanced_labels,
    is_run_directory,
    load_generator,
)


def default_out_dir(target: str | os.PathLike[str]) -> Path:
    """Where :func:`evaluate` writes by default: a run directory itself, else beside TARGET.

    Example:
        >>> default_out_dir("models/g.keras")
        PosixPath('models')
    """
    path = Path(target).expanduser()
    return path if is_run_directory(path) else path.parent


# ------------------------------------------------------------------------------------ evaluate


def format_table(rows: dict[str, dict[str, float]]) -> str:
    """A Markdown table with one column per entry of ``rows`` and one row per metric.

    Example:
        >>> print(format_table({"model": {"fid": 1.5}}))
        | metric | model |
        |---|---|
        | fid | 1.500 |
    """
    names = [n for n in METRIC_NAMES if any(n in r for r in rows.values())]
    lines = ["| metric | " + " | ".join(rows) + " |", "|---" * (len(rows) + 1) + "|"]
    for name in names:
        cells = []
        for r in rows.values():
            v = r.get(name)
            if v is None:
                cells.append("")
            elif name == "classes_hit":
                cells.append(f"{v:.0f}")
            elif name.startswith("kid"):
                cells.append(f"{v:.5f}")
            else:
                cells.append(f"{v:.3f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


@dataclass
class Reference:
    """Classifier outputs on the real images: test split (reference) and a train subset (floor).

    Example:
        >>> ref = Reference.build(clf, "fashion_mnist", 10000)  # doctest: +SKIP
    """

    features: np.ndarray
    probs: np.ndarray
    train_features: np.ndarray
    train_probs: np.ndarray
    labels: np.ndarray | None = None
    train_labels: np.ndarray | None = None

    @classmethod
    def build(
        cls,
        classifier: Any,
        dataset: str | os.PathLike[str],
        num_train: int,
        data_dir: Any = None,
        seed: int = 0,
    ) -> Reference:
        """Classify the test split and ``num_train`` random train images.

        Example:
            >>> Reference.build(clf, "fashion_mnist", 2000).features.shape  # doctest: +SKIP
            (10000, 128)
        """
        from keras_gan.data import load_arrays

        test, test_labels = load_arrays(dataset, "test", data_dir=data_dir)
        train, train_labels = load_arrays(dataset, "train", data_dir=data_dir)
        rows = np.random.default_rng(seed).choice(len(train), min(num_train, len(train)), False)
        rows = np.sort(rows)
        f, p = classifier.predict(test)
        tf_, tp = classifier.predict(train[rows])
        return cls(f, p, tf_, tp, np.asarray(test_labels), np.asarray(train_labels)[rows])


def per_class_metrics(
    reference_features: np.ndarray,
    reference_labels: np.ndarray,
    features: np.ndarray,
    probs: np.ndarray,
    labels: np.ndarray,
    num_classes: int,
) -> dict[str, list[float]]:
    """Per-class accuracy and intra-class FID of samples generated for known labels.

    Accuracy of class ``c``: the fraction of the samples asked for ``c`` that the classifier
    assigns to ``c`` (the "classification accuracy score" idea). Intra-class FID of ``c``: FID
    between those samples' features and the features of the reference images of class ``c``.

    Args:
        reference_features, reference_labels: real images' features and their labels.
        features, probs: the generated samples' features and class probabilities.
        labels: the class each sample was generated for.
        num_classes: the number of classes.

    Returns:
        ``{"accuracy": [...], "fid": [...], "count": [...]}``, one entry per class (NaN for a
        class without samples).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> f, y = rng.normal(size=(400, 4)), np.arange(400) % 2
        >>> m = per_class_metrics(f, y, f, np.eye(2)[y], y, 2)
        >>> m["accuracy"], [round(v, 6) for v in m["fid"]]
        ([1.0, 1.0], [0.0, 0.0])
    """
    from keras_gan.metrics import frechet_distance

    predicted = np.asarray(probs).argmax(axis=1)
    result: dict[str, list[float]] = {"accuracy": [], "fid": [], "count": []}
    for c in range(num_classes):
        mine, real = labels == c, reference_labels == c
        count = int(mine.sum())
        result["count"].append(count)
        if count < 2 or int(real.sum()) < 2:
            result["accuracy"].append(
                float(np.mean(predicted[mine] == c)) if count else float("nan")
            )
            result["fid"].append(float("nan"))
            continue
        result["accuracy"].append(float(np.mean(predicted[mine] == c)))
        result["fid"].append(float(frechet_distance(reference_features[real], features[mine])))
    return result


def evaluate(
    target: str | os.PathLike[str] | LoadedGenerator,
    dataset: str | os.PathLike[str] = "fashion_mnist",
    num_samples: int = 10_000,
    out: str | os.PathLike[str] | None = None,
    *,
    classifier: Any = None,
    reference: Reference | None = None,
    seed: int = 0,
    floor: bool = True,
    data_dir: str | os.PathLike[str] | None = None,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
) -> dict[str, Any]:
    """Sample a generator, score it against the test split, write the report files.

    Args:
        target: a generator path (see :func:`keras_gan.runs.load_generator`) or a
            :class:`~keras_gan.runs.loading.LoadedGenerator`.
        dataset: the dataset the generator imitates (its test split is the reference).
        num_samples: generated images (and real train images for the floor).
        out: output directory (default :func:`default_out_dir`; required for a sampler).
        classifier: a :class:`~keras_gan.evaluation.classifier.FeatureClassifier` (default:
            :func:`~keras_gan.evaluation.classifier.load_classifier` for ``dataset``, trained
            once if missing).
        reference: precomputed real-image outputs (to score several generators at once).
        seed: latent seed.
        floor: also score real train images against the test split.
        data_dir: a directory to look for the dataset first.
        kid_subsets, kid_subset_size: KID subsets and their size.

    Returns:
        The report written to ``evaluation.json``: ``metrics``, ``floor``, ``classifier``,
        ``histogram``, ``files`` and settings.

    Example:
        >>> report = evaluate("runs/dcgan/generator.keras", num_samples=2000)  # doctest: +SKIP
    """
    from keras_gan.serving.images import save_grid

    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 10:
        raise ValueError(f"num_samples must be an integer >= 10. Received: {num_samples!r}")
    if isinstance(target, LoadedGenerator):
        sampler = target
        if out is None:
            raise ValueError("out is required when target is a LoadedGenerator")
    else:
        sampler = load_generator(target)
    out_dir = Path(out).expanduser() if out is not None else default_out_dir(target)  # type: ignore[arg-type]
    if classifier is None:
        from .classifier import load_classifier

        classifier = load_classifier(dataset, data_dir=data_dir)
    if reference is None:
        reference = Reference.build(classifier, dataset, num_samples, data_dir=data_dir, seed=seed)

    conditional = sampler.num_classes is not None
    asked = balanced_labels(num_samples, sampler.num_classes) if conditional else None
    started = time.perf_counter()
    images = sampler.sample(num_samples, seed=seed, labels=asked)
    sample_seconds = time.perf_counter() - started
    if (
        images.shape[1:] != classifier.input_shape
        and images.shape[1:] != classifier.input_shape[:-1]
    ):
        raise ValueError(
            f"the generator makes samples of shape {images.shape[1:]}, the classifier for "
            f"{os.fspath(dataset)!r} expects {classifier.input_shape}"
        )
    features, probs = classifier.predict(images)
    kwargs = {"kid_subsets": kid_subsets, "kid_subset_size": kid_subset_size, "seed": seed}
    metrics = compute_metrics(reference.features, reference.probs, features, probs, **kwargs)
    floor_metrics = (
        compute_metrics(
            reference.features,
            reference.probs,
            reference.train_features,
            reference.train_probs,
            **kwargs,
        )
        if floor
        else None
    )
    num_classes = classifier.num_classes
    per_class = None
    if conditional:
        if reference.labels is None or reference.train_labels is None:
            raise ValueError("a conditional generator needs a reference with labels")
        if sampler.num_classes != num_classes:
            raise ValueError(
                f"the generator has {sampler.num_classes} classes, the classifier for "
                f"{os.fspath(dataset)!r} {num_classes}"
            )
        per_class = per_class_metrics(
            reference.features, reference.labels, features, probs, asked, num_classes
        )
        if floor:
            floor_class = per_class_metrics(
                reference.features,
                reference.labels,
                reference.train_features,
                reference.train_probs,
                reference.train_labels,
                num_classes,
            )
            per_class["floor_accuracy"] = floor_class["accuracy"]
            per_class["floor_fid"] = floor_class["fid"]
        per_class["mean_fid"] = float(np.nanmean(per_class["fid"]))
        per_class["min_accuracy"] = float(np.nanmin(per_class["accuracy"]))
    generated_hist = np.bincount(probs.argmax(1), minlength=num_classes) / len(probs)
    real_hist = np.bincount(reference.probs.argmax(1), minlength=num_classes) / len(reference.probs)
    labels = CLASS_NAMES.get(os.fspath(dataset), tuple(str(i) for i in range(num_classes)))
    if conditional and sampler.class_names is not None:
        labels = sampler.class_names

    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "json": out_dir / EVALUATION,
        "markdown": out_dir / "evaluation.md",
        "samples": out_dir / "samples.png",
        "histogram": out_dir / "class_histogram.png",
    }
    grid, grid_rows = _grid_images(images, asked, num_classes)
    row_labels = None if grid_rows is None else [labels[c] for c in grid_rows]
    save_grid(grid, files["samples"], columns=8, row_labels=row_labels)
    plot_class_histogram(files["histogram"], generated_hist.tolist(), real_hist.tolist(), labels)
    report: dict[str, Any] = {
        "target": sampler.source,
        "generator_kind": sampler.kind,
        "latent_dim": sampler.latent_dim,
        "dataset": os.fspath(dataset),
        "reference": "test split",
        "num_samples": num_samples,
        "num_reference": len(reference.features),
        "seed": seed,
        "metrics": metrics,
        "floor": floor_metrics,
        "classifier": {
            "path": None if classifier.path is None else str(classifier.path),
            "key": classifier.info.get("key"),
            "weights": classifier.identity,
            "accuracy": classifier.accuracy,
            "epochs": classifier.info.get("epochs"),
            "seed": classifier.info.get("seed"),
        },
        "histogram": {
            "classes": list(labels),
            "generated": [round(float(v), 5) for v in generated_hist],
            "real": [round(float(v), 5) for v in real_hist],
        },
        "num_classes": sampler.num_classes,
        "per_class": per_class,
        "sample_seconds": round(sample_seconds, 3),
        "files": {k: str(v) for k, v in files.items()},
    }
    _atomic.write_bytes(files["json"], (json.dumps(report, indent=2) + "\n").encode())
    _atomic.write_bytes(files["markdown"], markdown_summary(report).encode())
    return report


def _grid_images(
    images: np.ndarray, asked: np.ndarray | None, num_classes: int
) -> tuple[np.ndarray, list[int] | None]:
    """64 samples for the grid (8 a row); for a conditional generator, one row of 8 per class,
    with the class of each row."""
    if asked is None:
        return images[:64], None
    rows = [images[asked == c][:8] for c in range(num_classes)]
    if any(len(row) < 8 for row in rows):
        return images[:64], None
    return np.concatenate(rows), list(range(num_classes))


def format_per_class(report: dict[str, Any]) -> str:
    """The per-class table of a conditional evaluation (Markdown), or ``""``.

    Example:
        >>> print(format_per_class({"per_class": None}))
        <BLANKLINE>
    """
    per_class = report.get("per_class")
    if not per_class:
        return ""
    names = report["histogram"]["classes"]
    floor = "floor_fid" in per_class
    head = "| class | accuracy | intra-class FID |" + (
        " floor accuracy | floor FID |" if floor else ""
    )
    lines = [head, "|---" * (5 if floor else 3) + "|"]
    for c, name in enumerate(names):
        cells = [f"{per_class['accuracy'][c]:.3f}", f"{per_class['fid'][c]:.2f}"]
        if floor:
            cells += [f"{per_class['floor_accuracy'][c]:.3f}", f"{per_class['floor_fid'][c]:.2f}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append(
        f"| mean | {float(np.nanmean(per_class['accuracy'])):.3f} | {per_class['mean_fid']:.2f} |"
        + (
            f" {float(np.nanmean(per_class['floor_accuracy'])):.3f} |"
            f" {float(np.nanmean(per_class['floor_fid'])):.2f} |"
            if floor
            else ""
        )
    )
    return "\n".join(lines)


def markdown_summary(report: dict[str, Any]) -> str:
    """The Markdown summary written beside ``evaluation.json``.

    Example:
        >>> print(markdown_summary(report))  # doctest: +SKIP
    """
    columns = {"generated": report["metrics"]}
    if report.get("floor"):
        columns["floor (real train vs test)"] = report["floor"]
    clf = report["classifier"]
    hist = report["histogram"]
    lines = [
        f"# Evaluation of `{report['target']}`",
        "",
        f"{report['num_samples']} samples (seed {report['seed']}) against the "
        f"{report['num_reference']} {report['dataset']} test images, in the feature space of the "
        f"classifier with weights `{clf.get('weights', '?')}` (settings `{clf['key']}`, test "
        f"accuracy {clf['accuracy']:.4f}). Scores are comparable only between evaluations that "
        "share this classifier and sample size.",
        "",
        format_table(columns),
        "",
        *(
            [
                "Per class (samples generated for each class; accuracy: the fraction the "
                "classifier assigns to the class asked for):",
                "",
                format_per_class(report),
                "",
            ]
            if report.get("per_class")
            else []
        ),
        "![samples](samples.png)",
        "",
        "![class histogram](class_histogram.png)",
        "",
        "| class | generated | real |",
        "|---|---|---|",
        *(
            f"| {c} | {g:.3f} | {r:.3f} |"
            for c, g, r in zip(hist["classes"], hist["generated"], hist["real"], strict=True)
        ),
        "",
    ]
    return "\n".join(lines)
