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

Example:
    $ python benchmarks/quality.py --budget 0.05 --num-samples 2000
    $ python benchmarks/quality.py --budget 1 --models gmm dcgan wgan_gp
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

#: Epochs of each GAN preset at --budget 1 (on 60,000 images).
BASE = {"gan": 10, "dcgan": 3, "wgan": 3, "wgan_gp": 3}
MODELS = ("gmm", "gan", "dcgan", "wgan", "wgan_gp")
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
    name: str, budget: float, seed: int, batch_size: int, width: int
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
        default=64,
        help="DCGAN base width (64: the preset's; 16 costs about 1/16 of the convolutions)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/quality", help="grids and reports (runs/quality)")
    parser.add_argument(
        "--classifier-epochs", type=int, default=7, help="feature classifier epochs (default 7)"
    )
    parser.add_argument(
        "--classifier-limit", type=int, help="train the classifier on N images (quick checks)"
    )
    args = parser.parse_args(argv)
    if not args.budget > 0:
        parser.error(f"--budget must be positive, got {args.budget}")

    from keras_gan.metrics import load_classifier
    from keras_gan.metrics.evaluation import (
        GeneratorSampler,
        Reference,
        compute_metrics,
        evaluate,
    )

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
        sampler = GeneratorSampler(
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
        f"budget {args.budget}, DCGAN width {args.width}, {args.num_samples} samples per model "
        "vs the 10,000 test images; "
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
