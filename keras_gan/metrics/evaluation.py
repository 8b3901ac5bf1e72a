"""Evaluate a generator against a dataset's test split in the feature classifier's space.

:func:`evaluate` loads a generator (:func:`load_sampler`), draws ``num_samples`` images,
computes FID, KID, precision/recall, density/coverage and class coverage against the test
split (:func:`compute_metrics`), and the same metrics for real train images against the test
split (the *floor*: what a perfect generator would score with this classifier and sample
size). It writes ``evaluation.json``, ``evaluation.md``, ``samples.png`` and
``class_histogram.png``, each atomically.

Targets :func:`load_sampler` accepts:

- a run directory of ``keras-gan train`` (``generator.keras``, or ``mixture.npz`` for gmm);
- a ``.keras`` file: any Keras model from latent vectors ``(n, d)`` to images (a saved
  ``GAN`` uses its sampling generator);
- a ``mixture.npz`` of :class:`keras_gan.mixture.GaussianMixture`;
- a SavedModel directory (its ``generate`` signature, else the serving default);
- a ``.onnx`` file, an export version directory or an export base directory (through
  :class:`keras_gan.serving.Sampler` when installed, else onnxruntime directly).

Latent vectors are standard normal, drawn with ``numpy.random.default_rng(seed)``.

Example:
    >>> report = evaluate("runs/dcgan", num_samples=10000)  # doctest: +SKIP
    >>> report["metrics"]["fid"], report["floor"]["fid"]  # doctest: +SKIP
    (41.2, 0.61)
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from keras_gan import _atomic

from .classes import class_coverage
from .frechet import frechet_distance
from .kid import kernel_inception_distance
from .manifold import prdc

#: Metric names in table order.
METRIC_NAMES = (
    "fid",
    "kid",
    "kid_std",
    "precision",
    "recall",
    "density",
    "coverage",
    "classes_hit",
    "class_kl",
    "confidence",
)
CLASS_NAMES = {
    "fashion_mnist": (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
}


def compute_metrics(
    real_features: Any,
    real_probs: Any,
    fake_features: Any,
    fake_probs: Any,
    *,
    names: Sequence[str] | None = None,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    """Every metric of generated against real features, as a flat ``{name: float}`` dict.

    Args:
        real_features, fake_features: classifier features ``(n, d)`` and ``(m, d)``.
        real_probs, fake_probs: class probabilities ``(n, C)`` and ``(m, C)``.
        names: a subset of :data:`METRIC_NAMES` to return (all when None); ``kid`` brings
            ``kid_std``.
        kid_subsets, kid_subset_size: KID subsets and their size.
        seed: seed of the KID subsets.

    Returns:
        ``{"fid": ..., "kid": ..., "kid_std": ..., "precision": ..., ...}``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> f, p = rng.normal(size=(300, 8)), rng.dirichlet(np.ones(3), 300)
        >>> m = compute_metrics(f, p, f, p, kid_subset_size=100, kid_subsets=5)
        >>> round(m["fid"], 6), m["coverage"], m["classes_hit"]
        (0.0, 1.0, 3.0)
    """
    wanted = set(METRIC_NAMES if names is None else names)
    unknown = wanted - set(METRIC_NAMES)
    if unknown:
        raise ValueError(f"unknown metrics {sorted(unknown)}; expected names from {METRIC_NAMES}")
    out: dict[str, float] = {}
    if "fid" in wanted:
        out["fid"] = frechet_distance(real_features, fake_features)
    if wanted & {"kid", "kid_std"}:
        kid = kernel_inception_distance(
            real_features, fake_features, kid_subsets, kid_subset_size, seed=seed
        )
        out["kid"], out["kid_std"] = kid.mean, kid.std
    if wanted & {"precision", "recall", "density", "coverage"}:
        out.update(dataclasses.asdict(prdc(real_features, fake_features, k_pr=3, k_dc=5)))
    if wanted & {"classes_hit", "class_kl", "confidence"}:
        cc = class_coverage(fake_probs, np.asarray(real_probs).argmax(axis=1))
        out.update(classes_hit=float(cc.classes_hit), class_kl=cc.kl, confidence=cc.confidence)
    if "kid" in wanted:
        wanted.add("kid_std")
    return {name: float(out[name]) for name in METRIC_NAMES if name in wanted}


# ----------------------------------------------------------------------------------- samplers


@dataclass
class GeneratorSampler:
    """A generator seen as ``z -> images`` with its latent size, whatever its format.

    Attributes:
        generate_fn: maps float32 latent vectors ``(n, latent_dim)`` to images in [-1, 1].
        latent_dim: size of one latent vector.
        kind: what was loaded (``keras``, ``mixture``, ``saved_model``, ``onnx``).
        source: the file or directory it was loaded from.

    Example:
        >>> s = GeneratorSampler(lambda z: np.tanh(z[:, :4].reshape(-1, 2, 2, 1)), 8, "fn", "")
        >>> s.sample(3, seed=0).shape
        (3, 2, 2, 1)
    """

    generate_fn: Callable[[np.ndarray], Any]
    latent_dim: int
    kind: str
    source: str

    def sample(self, n: int, seed: int = 0, batch_size: int = 500) -> np.ndarray:
        """``n`` samples from standard-normal latents drawn with ``default_rng(seed)``.

        Example:
            >>> sampler.sample(16, seed=0).shape  # doctest: +SKIP
            (16, 28, 28, 1)
        """
        z = np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype(np.float32)
        parts = [
            np.asarray(self.generate_fn(z[i : i + batch_size]), dtype=np.float32)
            for i in range(0, n, batch_size)
        ]
        return np.concatenate(parts) if parts else np.zeros((0,), np.float32)


def _keras_latent_dim(model: Any, source: Path) -> int:
    shape = model.input_shape
    if isinstance(shape, list):
        if len(shape) != 1:
            raise ValueError(f"{source}: expected a generator with one input, found {len(shape)}")
        shape = shape[0]
    if len(shape) != 2 or shape[1] is None:
        raise ValueError(
            f"{source}: expected a generator from latent vectors (None, d) to images. "
            f"Received: input shape {shape}"
        )
    return int(shape[1])


def _from_keras_model(model: Any, source: Path) -> GeneratorSampler:
    generator = getattr(model, "sampling_generator", None) or model
    latent_dim = getattr(model, "latent_dim", None) or _keras_latent_dim(generator, source)

    def generate(z: np.ndarray) -> np.ndarray:
        return np.asarray(generator(z, training=False))

    return GeneratorSampler(generate, int(latent_dim), "keras", str(source))


def _load_keras_file(path: Path) -> GeneratorSampler:
    import importlib

    import keras

    # Importing these registers GAN, WGAN, the network layers and MixtureSampler with Keras.
    for module in ("keras_gan.models", "keras_gan.networks", "keras_gan.mixture.generator"):
        importlib.import_module(module)

    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as error:  # Keras raises many types for a bad file
        raise ValueError(f"{path}: not a loadable Keras model ({error})") from error
    return _from_keras_model(model, path)


def _load_mixture(path: Path) -> GeneratorSampler:
    from keras_gan.mixture import GaussianMixture

    gmm = GaussianMixture.load(path)
    return _from_keras_model(gmm.as_generator(), path)


def _load_saved_model(path: Path) -> GeneratorSampler:
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    signatures = dict(loaded.signatures)
    fn = signatures.get("generate") or signatures.get("serving_default")
    if fn is None:
        raise ValueError(f"{path}: SavedModel without a 'generate' or 'serving_default' signature")
    _, kwargs = fn.structured_input_signature
    if len(kwargs) != 1:
        raise ValueError(f"{path}: expected a signature with one input z, found {sorted(kwargs)}")
    ((input_name, spec),) = kwargs.items()
    if spec.shape.rank != 2 or spec.shape[1] is None:
        raise ValueError(f"{path}: signature input {input_name} is not (None, d): {spec.shape}")

    def generate(z: np.ndarray) -> np.ndarray:
        outputs = fn(**{input_name: tf.constant(z, spec.dtype)})
        return np.asarray(next(iter(outputs.values())))

    return GeneratorSampler(generate, int(spec.shape[1]), "saved_model", str(path))


def _load_onnx(path: Path) -> GeneratorSampler:
    try:
        from keras_gan.serving.sampler import Sampler
    except ImportError:
        Sampler = None
    if Sampler is not None:
        sampler = Sampler(path)
        source = str(sampler.files.onnx)
        return GeneratorSampler(sampler.generate, int(sampler.latent_dim), "onnx", source)
    import onnxruntime as ort

    onnx = path
    if path.is_dir():
        versions = sorted(
            (int(p.name), p)
            for p in path.iterdir()
            if p.name.isdigit() and (p / "model.onnx").is_file()
        )
        onnx = path / "model.onnx" if (path / "model.onnx").is_file() else None
        if onnx is None and versions:
            onnx = versions[-1][1] / "model.onnx"
        if onnx is None:
            raise ValueError(f"{path}: no model.onnx in it or in a numeric version directory")
    session = ort.InferenceSession(str(onnx), providers=["CPUExecutionProvider"])
    (inp,), (out,) = session.get_inputs(), session.get_outputs()
    if len(inp.shape) != 2 or not isinstance(inp.shape[1], int):
        raise ValueError(f"{onnx}: input {inp.name} is not (N, d): {inp.shape}")

    def generate(z: np.ndarray) -> np.ndarray:
        return session.run([out.name], {inp.name: z.astype(np.float32)})[0]

    return GeneratorSampler(generate, int(inp.shape[1]), "onnx", str(onnx))


def load_sampler(target: str | os.PathLike[str]) -> GeneratorSampler:
    """Load a generator from a run directory, ``.keras``, ``.npz``, SavedModel or ONNX export.

    Args:
        target: see the module docstring for the accepted forms.

    Returns:
        A :class:`GeneratorSampler`.

    Raises:
        FileNotFoundError: ``target`` does not exist.
        ValueError: ``target`` exists but holds no recognisable generator; the message lists
            what was looked for.

    Example:
        >>> load_sampler("runs/dcgan").latent_dim  # doctest: +SKIP
        100
    """
    path = Path(target).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    if path.is_file():
        if path.suffix == ".keras":
            return _load_keras_file(path)
        if path.suffix == ".npz":
            return _load_mixture(path)
        if path.suffix == ".onnx":
            return _load_onnx(path)
        raise ValueError(
            f"{path}: unknown generator file; expected a .keras, mixture .npz or .onnx file"
        )
    if (path / "generator.keras").is_file():
        return _load_keras_file(path / "generator.keras")
    if (path / "mixture.npz").is_file():
        return _load_mixture(path / "mixture.npz")
    if (path / "saved_model.pb").is_file():
        return _load_saved_model(path)
    if (path / "model.onnx").is_file() or any(
        p.name.isdigit() and (p / "model.onnx").is_file() for p in path.iterdir()
    ):
        return _load_onnx(path)
    versions = sorted(
        (int(p.name), p)
        for p in path.iterdir()
        if p.name.isdigit() and (p / "saved_model.pb").is_file()
    )
    if versions:
        return _load_saved_model(versions[-1][1])
    raise ValueError(
        f"{path}: no generator found; expected generator.keras or mixture.npz (run directory), "
        "saved_model.pb (SavedModel), model.onnx, or numeric version directories (export base)"
    )


def default_out_dir(target: str | os.PathLike[str]) -> Path:
    """Where :func:`evaluate` writes by default: a run directory itself, else beside TARGET.

    Example:
        >>> default_out_dir("models/g.keras")
        PosixPath('models')
    """
    path = Path(target).expanduser()
    if path.is_dir() and any(
        (path / n).is_file() for n in ("generator.keras", "mixture.npz", "run.json")
    ):
        return path
    return path.parent


# ------------------------------------------------------------------------------------ evaluate


def _write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    _atomic.write_callback(path, write)


def _write_text(path: Path, text: str) -> None:
    _write_atomic(path, lambda tmp: tmp.write_text(text))


def _plot_histogram(
    path: Path, generated: Sequence[float], real: Sequence[float], labels: Sequence[str]
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.arange(len(generated))
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.bar(x - 0.2, real, width=0.4, label="real (test)", color="0.6")
    ax.bar(x + 0.2, generated, width=0.4, label="generated", color="C0")
    ax.set_xticks(x, labels, rotation=30, ha="right")
    ax.set_ylabel("fraction of samples")
    ax.set_title("predicted classes")
    ax.legend()
    fig.tight_layout()
    try:
        _write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    finally:
        plt.close(fig)


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

        test, _ = load_arrays(dataset, "test", data_dir=data_dir)
        train, _ = load_arrays(dataset, "train", data_dir=data_dir)
        rows = np.random.default_rng(seed).choice(len(train), min(num_train, len(train)), False)
        f, p = classifier.predict(test)
        tf_, tp = classifier.predict(train[np.sort(rows)])
        return cls(f, p, tf_, tp)


def evaluate(
    target: str | os.PathLike[str] | GeneratorSampler,
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
        target: a generator path (see :func:`load_sampler`) or a :class:`GeneratorSampler`.
        dataset: the dataset the generator imitates (its test split is the reference).
        num_samples: generated images (and real train images for the floor).
        out: output directory (default :func:`default_out_dir`; required for a sampler).
        classifier: a :class:`~keras_gan.metrics.classifier.FeatureClassifier` (default:
            :func:`~keras_gan.metrics.classifier.load_classifier` for ``dataset``, trained
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
    if isinstance(target, GeneratorSampler):
        sampler = target
        if out is None:
            raise ValueError("out is required when target is a GeneratorSampler")
    else:
        sampler = load_sampler(target)
    out_dir = Path(out).expanduser() if out is not None else default_out_dir(target)  # type: ignore[arg-type]
    if classifier is None:
        from .classifier import load_classifier

        classifier = load_classifier(dataset, data_dir=data_dir)
    if reference is None:
        reference = Reference.build(classifier, dataset, num_samples, data_dir=data_dir, seed=seed)

    started = time.perf_counter()
    images = sampler.sample(num_samples, seed=seed)
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
    generated_hist = np.bincount(probs.argmax(1), minlength=num_classes) / len(probs)
    real_hist = np.bincount(reference.probs.argmax(1), minlength=num_classes) / len(reference.probs)
    labels = CLASS_NAMES.get(os.fspath(dataset), tuple(str(i) for i in range(num_classes)))

    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "json": out_dir / "evaluation.json",
        "markdown": out_dir / "evaluation.md",
        "samples": out_dir / "samples.png",
        "histogram": out_dir / "class_histogram.png",
    }
    grid = images[:64]
    _write_atomic(files["samples"], lambda tmp: save_grid(grid, tmp))
    _plot_histogram(files["histogram"], generated_hist.tolist(), real_hist.tolist(), labels)
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
            "accuracy": classifier.accuracy,
            "epochs": classifier.info.get("epochs"),
            "seed": classifier.info.get("seed"),
        },
        "histogram": {
            "classes": list(labels),
            "generated": [round(float(v), 5) for v in generated_hist],
            "real": [round(float(v), 5) for v in real_hist],
        },
        "sample_seconds": round(sample_seconds, 3),
        "files": {k: str(v) for k, v in files.items()},
    }
    _write_text(files["json"], json.dumps(report, indent=2, allow_nan=True) + "\n")
    _write_text(files["markdown"], markdown_summary(report))
    return report


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
        f"classifier `{clf['key']}` (test accuracy {clf['accuracy']:.4f}). Scores are comparable "
        "only between evaluations that share this classifier and sample size.",
        "",
        format_table(columns),
        "",
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
