"""Sample quality of every model on Fashion-MNIST beside the real-data floor, in one run.

Each available model (the Gaussian mixture baseline, then the GAN, DCGAN, WGAN and WGAN-GP
presets) is trained on Fashion-MNIST for a budget that fits a 2-core CPU, then scored with the
same feature classifier, the same latent seed and the same reference set (the 10,000 test
images): FID, KID, precision, recall, density, coverage and class coverage. The floor is real
train images scored the same way; the ``FID/floor`` column is each model's FID divided by the
floor's, both measured in this run. Sample grids and per-model reports go to ``--out``.

``--budget`` scales the training: at 1.0 the GANs train for their ``BASE`` epochs on all
60,000 images and the mixture runs 100 EM iterations; below one epoch's worth the GANs train
one epoch on a prefix of the data (``budget * epochs * 60000`` images), so the same script
serves a quick check (``--budget 0.05``) and a long run (``--budget 10``).

``--minutes 5 15 30 60`` is the frontier mode instead (the class-conditional presets ``cgan``
and ``acgan`` are measured in this mode only, on labelled images, sampled class-balanced and
also scored per class; so is ``clustered``, whose k-means clustering of the train images
counts as training time): each GAN preset trains for that many
minutes of wall-clock training time (evaluation excluded) on the batches ``keras-gan train``
feeds (:func:`keras_gan.data.resumable.resumable_dataset`), in ONE run per model that is scored
at each budget on the way (so the 60-minute figure continues the 30-minute model). After each
budget the model is saved to ``--out/<model>/checkpoint.keras`` with its training seconds, and
the row goes to ``--out/frontier.json``; ``--resume`` skips the measured budgets and continues
training from the checkpoint, so the long budgets can run in parts. Each budget writes
``--out/<model>/<m>min/`` (evaluation report and ``samples.png``), and the run rewrites
``--out/frontier.md`` (the table) and ``--out/frontier.png`` (FID, recall and coverage against
minutes) from every row measured so far. ``--merge DIR ...`` writes one table and plot to
``--out`` from several such runs (same classifier, samples and batch size; one run per model).

Example:
    $ python benchmarks/quality.py --budget 0.05 --num-samples 2000
    $ python benchmarks/quality.py --budget 1 --models gmm dcgan wgan_gp
    $ python benchmarks/quality.py --minutes 5 15 30 --models resize_conv dcgan --resume
    $ python benchmarks/quality.py --merge runs/frontier-cgan runs/frontier-dcgan --out runs/all
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from _machine import cpu_description, load_average

from keras_gan._atomic import write_bytes, write_json

#: Epochs of each GAN preset at --budget 1 (on 60,000 images).
BASE = {"gan": 10, "resize_conv": 3, "dcgan": 3, "wgan": 3, "wgan_gp": 3}
MODELS = ("gmm", "gan", "clustered", "resize_conv", "dcgan", "wgan", "wgan_gp", "cgan", "acgan")
#: Class-conditional presets: frontier mode only (trained on labelled images, scored per class).
CONDITIONAL = ("cgan", "acgan")
#: Presets trained on k-means clusters of the images: frontier mode only. The clustering is
#: part of the training time of the first budget.
CLUSTERED = ("clustered",)
FRONTIER_ONLY = CONDITIONAL + CLUSTERED
TRAIN_IMAGES = 60_000


def schedule(budget: float, base_epochs: float) -> tuple[int, int]:
    """``(epochs, images)`` for a budget: whole epochs on all images, or one on a prefix.

    Example:
        >>> schedule(1.0, 3), schedule(0.1, 3)
        ((3, 60000), (1, 18000))
    """
    total = budget * base_epochs
    if total >= 1:
        return round(total), TRAIN_IMAGES
    return 1, max(1024, round(total * TRAIN_IMAGES))


def train_gmm(budget: float, seed: int) -> tuple[Any, dict[str, Any]]:
    """Fit a 20-component diagonal mixture on [0, 1] pixels; its Keras generator and settings."""
    from keras_gan.data import load_arrays
    from keras_gan.mixture import GaussianMixture

    images, _ = load_arrays("fashion_mnist", "train")
    limit = TRAIN_IMAGES if budget >= 1 else max(2000, int(budget * TRAIN_IMAGES))
    x = images[:limit].reshape(limit, -1).astype(np.float64) / 255.0
    max_iter = max(5, round(100 * min(budget, 1.0)))
    gmm = GaussianMixture(20, "diag", max_iter=max_iter, random_state=seed)
    gmm.fit(x)
    gmm.image_shape_ = (28, 28, 1)
    gmm.data_range_ = (0.0, 1.0)
    return gmm.as_generator(), {"images": limit, "em_iterations": int(gmm.n_iter_)}


def train_gan(
    name: str, budget: float, seed: int, batch_size: int, width: int | None
) -> tuple[Any, dict[str, Any]]:
    """Train a preset with ``fit``; its sampling generator and settings."""
    import keras

    from keras_gan.data import load_images
    from keras_gan.models import build

    keras.utils.set_random_seed(seed)
    gan = build(name, image_shape=(28, 28, 1), seed=seed, width=width)
    epochs, images = schedule(budget, BASE[name])
    step_batch = batch_size * gan.discriminator_steps
    dataset = load_images("fashion_mnist", "train", batch_size=step_batch, limit=images, seed=seed)
    gan.fit(dataset, epochs=epochs, verbose=0, shuffle=False)
    settings = {"images": images, "epochs": epochs}
    if name != "gan":
        settings["width"] = width
    return gan.sampling_generator, settings


class TimeBudget:
    """Stops ``fit`` once the training seconds (counted from ``already`` on) reach ``seconds``.

    Only time inside ``fit`` counts, checked after every batch; ``seconds_trained`` holds the
    total when ``fit`` returns.

    Example:
        >>> budget = TimeBudget(300.0, already=0.0)
        >>> budget.seconds_trained
        0.0
    """

    def __init__(self, seconds: float, already: float = 0.0) -> None:
        import keras

        class _Callback(keras.callbacks.Callback):
            def on_train_begin(inner, logs: Any = None) -> None:
                self._started = time.perf_counter()

            def on_train_batch_end(inner, batch: int, logs: Any = None) -> None:
                if self._elapsed() >= self.seconds:
                    inner.model.stop_training = True

            def on_train_end(inner, logs: Any = None) -> None:
                self.seconds_trained = self._elapsed()
                self._started = None

        self.seconds = float(seconds)
        self.seconds_trained = float(already)
        self._started: float | None = None
        self.callback = _Callback()

    def _elapsed(self) -> float:
        if self._started is None:
            return self.seconds_trained
        return self.seconds_trained + time.perf_counter() - self._started


FRONTIER_COLUMNS = [
    ("FID", "fid", "{:.2f}"),
    ("FID/floor", None, "{:.1f}"),
    ("precision", "precision", "{:.3f}"),
    ("recall", "recall", "{:.3f}"),
    ("density", "density", "{:.3f}"),
    ("coverage", "coverage", "{:.3f}"),
    ("classes", "classes_hit", "{:.0f}"),
    ("class KL", "class_kl", "{:.3f}"),
    ("steps", "steps", "{:.0f}"),
    ("min class acc.", "min_class_accuracy", "{:.3f}"),
    ("intra-class FID", "intra_class_fid", "{:.2f}"),
]


def frontier_table(record: dict[str, Any]) -> str:
    """The markdown table of every measured (model, minutes) row, with the floor first.

    Example:
        >>> rec = {"floor": {"fid": 0.5}, "rows": {}, "num_samples": 10}
        >>> frontier_table(rec).splitlines()[0].split(" | ")[-3:]
        ['steps', 'min class acc.', 'intra-class FID |']
    """
    floor = record["floor"]
    head = "| model | minutes | " + " | ".join(c[0] for c in FRONTIER_COLUMNS) + " |"
    lines = [head, "|---" * (len(FRONTIER_COLUMNS) + 2) + "|"]
    entries = [("floor (real train)", "-", {**floor, "steps": math.nan})]
    for model, budgets in record["rows"].items():
        for minutes in sorted(budgets, key=float):
            entries.append((model, minutes, budgets[minutes]))
    for model, minutes, row in entries:
        cells = []
        for _, key, fmt in FRONTIER_COLUMNS:
            value = row["fid"] / floor["fid"] if key is None else row.get(key, math.nan)
            cells.append(fmt.format(value) if math.isfinite(value) else "-")
        lines.append(f"| {model} | {minutes} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def frontier_plot(record: dict[str, Any], path: Path) -> None:
    """FID (log scale) and recall/coverage against training minutes, one line per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_fid, ax_rc) = plt.subplots(1, 2, figsize=(10, 4))
    for model, budgets in record["rows"].items():
        minutes = sorted(budgets, key=float)
        x = [float(m) for m in minutes]
        (line,) = ax_fid.plot(x, [budgets[m]["fid"] for m in minutes], "o-", label=model)
        color = line.get_color()
        ax_rc.plot(x, [budgets[m]["recall"] for m in minutes], "o-", color=color, label=model)
        ax_rc.plot(x, [budgets[m]["coverage"] for m in minutes], "s--", color=color)
    ax_fid.axhline(record["floor"]["fid"], color="grey", lw=0.8, ls=":", label="floor")
    ax_fid.set(xlabel="minutes of training", ylabel="FID (classifier features)", yscale="log")
    ax_rc.set(xlabel="minutes of training", ylabel="recall (o-) / coverage (s--)", ylim=(0, 1))
    ax_fid.legend()
    ax_rc.legend()
    fig.suptitle(f"Fashion-MNIST, {record['num_samples']} samples vs the test split")
    fig.tight_layout()
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)


#: Fields that must agree between frontier runs for their rows to share one table.
MERGE_KEYS = ("num_samples", "classifier", "batch_size")


def merge_frontiers(records: list[dict[str, Any]], names: list[str]) -> dict[str, Any]:
    """One frontier record from several runs' ``frontier.json`` (``--merge``).

    The runs must have scored the same number of samples with the same classifier and batch
    size, and each model may come from one run only; ``names`` (the runs' directories) name the
    offending run in the error.

    Example:
        >>> base = {"num_samples": 10, "classifier": "k", "batch_size": 128,
        ...         "floor": {"fid": 0.3}, "cpu": "AMD EPYC"}
        >>> a = {**base, "rows": {"cgan": {"5": {"fid": 9.0}}}}
        >>> b = {**base, "rows": {"dcgan": {"5": {"fid": 50.0}}}}
        >>> sorted(merge_frontiers([a, b], ["runs/a", "runs/b"])["rows"])
        ['cgan', 'dcgan']
        >>> merge_frontiers([a, {**b, "classifier": "other"}], ["runs/a", "runs/b"])
        Traceback (most recent call last):
        ...
        ValueError: runs/b: classifier is 'other', but runs/a has 'k'
        >>> merge_frontiers([a, a], ["runs/a", "runs/c"])
        Traceback (most recent call last):
        ...
        ValueError: runs/c: model cgan is also in runs/a
    """
    if not records:
        raise ValueError("no frontier runs to merge")
    first, first_name = records[0], names[0]
    merged: dict[str, Any] = {
        **{k: v for k, v in first.items() if k != "rows"},
        "rows": {},
        "merged_from": list(names),
    }
    origin: dict[str, str] = {}
    for record, name in zip(records, names, strict=True):
        for key in MERGE_KEYS:
            if record.get(key) != first.get(key):
                raise ValueError(
                    f"{name}: {key} is {record.get(key)!r}, but {first_name} has {first.get(key)!r}"
                )
        for model, budgets in record["rows"].items():
            if model in origin:
                raise ValueError(f"{name}: model {model} is also in {origin[model]}")
            origin[model] = name
            merged["rows"][model] = budgets
    return merged


def merge(dirs: list[str], out: Path) -> None:
    """Write ``out/frontier.{json,md,png}`` from the ``frontier.json`` of each run in ``dirs``.

    Refuses to overwrite an ``out/frontier.json`` that a training run (not a merge) wrote.

    Example:
        >>> merge(["runs/frontier-cgan", "runs/frontier-dcgan"], Path("runs/all"))  # doctest: +SKIP
    """
    records = []
    for directory in dirs:
        path = Path(directory) / "frontier.json"
        if not path.is_file():
            raise SystemExit(f"--merge {directory}: no frontier.json (a --minutes run's --out)")
        records.append(json.loads(path.read_text()))
    try:
        record = merge_frontiers(records, list(dirs))
    except ValueError as error:
        raise SystemExit(f"--merge: {error}") from None
    out.mkdir(parents=True, exist_ok=True)
    target = out / "frontier.json"
    if target.is_file() and "merged_from" not in json.loads(target.read_text()):
        raise SystemExit(f"{target} is a training run's record: pick another --out for the merge")
    write_json(target, record)
    table = frontier_table(record)
    write_bytes(out / "frontier.md", (table + "\n").encode())
    frontier_plot(record, out / "frontier.png")
    print(table)


def frontier(args: argparse.Namespace, classifier: Any, reference: Any, floor: Any) -> None:
    """Train each preset for ``args.minutes`` (cumulative), scoring and saving at each budget."""
    import keras

    from keras_gan.data import load_arrays, scale_images
    from keras_gan.data.resumable import resumable_dataset
    from keras_gan.evaluation import evaluate
    from keras_gan.mixture import image_clusters
    from keras_gan.models import PRESETS, build
    from keras_gan.runs import LoadedGenerator

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    record_path = out / "frontier.json"
    record: dict[str, Any] = {"rows": {}}
    if args.resume and record_path.is_file():
        record = json.loads(record_path.read_text())
    elif record_path.is_file() and not args.resume:
        raise SystemExit(f"{record_path} exists: pass --resume to continue it, or another --out")
    record.update(
        num_samples=args.num_samples,
        classifier=classifier.info["key"],
        classifier_accuracy=classifier.accuracy,
        floor={k: float(v) for k, v in floor.items()},
        batch_size=args.batch_size,
        cpu_count=os.cpu_count(),
        cpu=cpu_description(),
    )
    budgets = sorted(args.minutes)
    for name in args.models:
        rows = record["rows"].setdefault(name, {})
        todo = [m for m in budgets if f"{m:g}" not in rows]
        if not todo:
            print(f"{name}: every budget measured", flush=True)
            continue
        model_dir = out / name
        model_dir.mkdir(parents=True, exist_ok=True)
        checkpoint, progress_path = model_dir / "checkpoint.keras", model_dir / "progress.json"
        seconds = 0.0
        images, labels = load_arrays("fashion_mnist", "train")
        clusters, n_clusters = None, PRESETS[name].clusters
        if n_clusters is not None:
            started = time.perf_counter()
            clusters = image_clusters(images, n_clusters, seed=args.seed)
            seconds = time.perf_counter() - started
            print(f"{name}: {n_clusters} k-means clusters in {seconds:.1f} s", flush=True)
        if args.resume and checkpoint.is_file() and progress_path.is_file():
            gan = keras.models.load_model(checkpoint)
            seconds = float(json.loads(progress_path.read_text())["train_seconds"])
            print(f"{name}: resuming at {seconds / 60:.1f} min", flush=True)
        else:
            keras.utils.set_random_seed(args.seed)
            classes = {}
            if name in CONDITIONAL:
                from keras_gan.data.classes import CLASS_NAMES

                names = CLASS_NAMES["fashion_mnist"]
                classes = {"num_classes": len(names), "class_names": names}
            if clusters is not None:
                classes = {"cluster_prior": clusters.prior.tolist()}
            gan = build(name, image_shape=(28, 28, 1), seed=args.seed, width=args.width, **classes)
        conditional = getattr(gan, "num_classes", None) is not None
        step_batch = args.batch_size * gan.discriminator_steps
        for minutes in todo:
            if seconds < minutes * 60:
                budget = TimeBudget(minutes * 60, already=seconds)
                part = int(gan.g_optimizer.iterations.numpy())
                # keras-gan train's pipeline: the order a function of (seed, step).
                data = images
                if clusters is not None:
                    data = (images, clusters.labels)
                elif conditional:
                    data = (images, labels)
                dataset = resumable_dataset(
                    data, step_batch, seed=args.seed, start_step=part, transform=scale_images
                )
                print(f"{name}: training to {minutes:g} min", flush=True)
                gan.fit(dataset, epochs=10_000, verbose=0, callbacks=[budget.callback])
                seconds = budget.seconds_trained
                tmp = model_dir / f".checkpoint.tmp-{os.getpid()}.keras"
                gan.save(tmp)
                os.replace(tmp, checkpoint)
                write_json(progress_path, {"train_seconds": seconds})
            generator = gan.sampling_generator

            def generate(z: np.ndarray, labels: np.ndarray | None = None, g: Any = generator):
                return np.asarray(g(z if labels is None else [z, labels], training=False))

            sampler = LoadedGenerator(
                generate,
                gan.latent_dim,
                "keras",
                name,
                gan.num_classes if conditional else None,
                gan.class_names if conditional else None,
            )
            report = evaluate(
                sampler,
                "fashion_mnist",
                args.num_samples,
                model_dir / f"{minutes:g}min",
                classifier=classifier,
                reference=reference,
                seed=args.seed,
                floor=False,
            )
            steps = int(gan.g_optimizer.iterations.numpy())
            rows[f"{minutes:g}"] = {
                **{k: float(v) for k, v in report["metrics"].items()},
                "train_seconds": seconds,
                "steps": steps,
                "load_average": load_average(),
            }
            if report.get("per_class"):
                per_class = report["per_class"]
                rows[f"{minutes:g}"].update(
                    min_class_accuracy=per_class["min_accuracy"],
                    intra_class_fid=per_class["mean_fid"],
                    class_accuracy=per_class["accuracy"],
                    class_fid=per_class["fid"],
                )
            write_json(record_path, record)
            table = frontier_table(record)
            (out / "frontier.md").write_text(table + "\n")
            frontier_plot(record, out / "frontier.png")
            print(
                f"  {name} {minutes:g} min ({steps} steps): FID {report['metrics']['fid']:.2f}, "
                f"classes {report['metrics']['classes_hit']:.0f}",
                flush=True,
            )
    print(frontier_table(record))


def main(argv: list[str] | None = None) -> int:
    """Train, evaluate and print the table.

    Example:
        >>> main(["--budget", "0.02", "--models", "gmm", "--num-samples", "500"])  # doctest: +SKIP
        0
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=1.0, help="training budget (default 1)")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--num-samples", type=int, default=10_000, help="samples per model")
    parser.add_argument("--batch-size", type=int, default=128, help="GAN batch size")
    parser.add_argument(
        "--width",
        type=int,
        default=None,
        help="base width of the convolutional presets (default: each preset's; dcgan 64, "
        "where 16 costs about 1/16 of the convolutions)",
    )
    parser.add_argument(
        "--minutes",
        type=float,
        nargs="+",
        help="frontier mode: train each GAN preset for these minutes of training, scoring at each",
    )
    parser.add_argument(
        "--resume", action="store_true", help="frontier mode: continue from --out's checkpoints"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/quality", help="grids and reports (runs/quality)")
    parser.add_argument(
        "--classifier-epochs", type=int, default=7, help="feature classifier epochs (default 7)"
    )
    parser.add_argument(
        "--classifier-limit", type=int, help="train the classifier on N images (quick checks)"
    )
    parser.add_argument(
        "--merge",
        nargs="+",
        metavar="DIR",
        help="write one frontier table and plot to --out from these --minutes runs' --out",
    )
    args = parser.parse_args(argv)
    if args.merge:
        merge(args.merge, Path(args.out))
        return 0
    if not args.budget > 0:
        parser.error(f"--budget must be positive, got {args.budget}")
    if args.minutes is not None:
        if any(not m > 0 for m in args.minutes):
            parser.error(f"--minutes must be positive, got {args.minutes}")
        if "gmm" in args.models:
            if args.models == list(MODELS):
                args.models = [m for m in MODELS if m != "gmm"]
            else:
                parser.error("--minutes trains GAN presets only; leave gmm out of --models")
    elif set(args.models) & set(FRONTIER_ONLY):
        if args.models == list(MODELS):
            args.models = [m for m in MODELS if m not in FRONTIER_ONLY]
        else:
            parser.error(f"{', '.join(FRONTIER_ONLY)} are measured with --minutes only")

    from keras_gan.evaluation import Reference, evaluate, load_classifier
    from keras_gan.metrics import compute_metrics
    from keras_gan.runs import LoadedGenerator

    out = Path(args.out)
    started = time.perf_counter()
    classifier = load_classifier(
        "fashion_mnist", epochs=args.classifier_epochs, limit=args.classifier_limit, verbose=2
    )
    print(
        f"classifier {classifier.info['key']}: test accuracy {classifier.accuracy:.4f} "
        f"({time.perf_counter() - started:.0f} s to load or train)",
        flush=True,
    )
    reference = Reference.build(classifier, "fashion_mnist", args.num_samples, seed=args.seed)
    floor = compute_metrics(
        reference.features, reference.probs, reference.train_features, reference.train_probs
    )
    if args.minutes is not None:
        frontier(args, classifier, reference, floor)
        print(f"total {time.perf_counter() - started:.0f} s")
        return 0
    rows: dict[str, dict[str, Any]] = {"floor (real train)": {**floor, "train_s": 0.0}}
    for name in args.models:
        print(f"training {name} (budget {args.budget})", flush=True)
        t0 = time.perf_counter()
        if name == "gmm":
            generator, settings = train_gmm(args.budget, args.seed)
        else:
            generator, settings = train_gan(
                name, args.budget, args.seed, args.batch_size, args.width
            )
        seconds = time.perf_counter() - t0
        latent_dim = int(generator.input_shape[1])
        sampler = LoadedGenerator(
            lambda z, g=generator: np.asarray(g(z, training=False)), latent_dim, "keras", name
        )
        report = evaluate(
            sampler,
            "fashion_mnist",
            args.num_samples,
            out / name,
            classifier=classifier,
            reference=reference,
            seed=args.seed,
            floor=False,
        )
        rows[name] = {**report["metrics"], "train_s": seconds, **settings}
        print(
            f"  {name}: {settings}, {seconds:.0f} s, FID {report['metrics']['fid']:.2f}", flush=True
        )

    columns = [
        ("FID", "fid", "{:.2f}"),
        ("FID/floor", None, "{:.1f}"),
        ("KID", "kid", "{:.4f}"),
        ("precision", "precision", "{:.3f}"),
        ("recall", "recall", "{:.3f}"),
        ("density", "density", "{:.3f}"),
        ("coverage", "coverage", "{:.3f}"),
        ("classes", "classes_hit", "{:.0f}"),
        ("class KL", "class_kl", "{:.3f}"),
        ("train s", "train_s", "{:.0f}"),
    ]
    floor_fid = rows["floor (real train)"]["fid"]
    lines = [
        f"budget {args.budget}, width {args.width or 'preset'}, {args.num_samples} samples per "
        "model vs the 10,000 test images; "
        f"classifier {classifier.info['key']} (test accuracy {classifier.accuracy:.4f})",
        "| model | " + " | ".join(c[0] for c in columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for name, row in rows.items():
        cells = []
        for _, key, fmt in columns:
            value = row["fid"] / floor_fid if key is None else row[key]
            cells.append(fmt.format(value) if math.isfinite(value) else "inf")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print(table)
    out.mkdir(parents=True, exist_ok=True)
    (out / "table.md").write_text(table + "\n")
    (out / "results.json").write_text(
        json.dumps({"budget": args.budget, "num_samples": args.num_samples, "rows": rows}, indent=2)
    )
    print(f"grids: {out}/<model>/samples.png; total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
