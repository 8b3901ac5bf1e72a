"""``keras-gan evaluate``: score a generator against a dataset's test split.

Writes ``evaluation.json``, ``evaluation.md``, ``samples.png`` and ``class_histogram.png`` into
``--out`` (default: the run directory, or beside a file target) and prints the metric table
with the real-data floor (real train images against the same test split).

Example:
    $ keras-gan evaluate runs/dcgan --dataset fashion_mnist --num-samples 10000
    $ keras-gan evaluate models/dcgan/1/model.onnx --out reports/dcgan
"""

from __future__ import annotations

import argparse
from pathlib import Path

from . import CommandError

HELP = (
    "score a generator (run dir, .keras, SavedModel, .onnx): FID, KID, precision/recall, coverage"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``evaluate`` arguments.

    Example:
        >>> add_arguments(argparse.ArgumentParser())
    """
    parser.add_argument(
        "target",
        metavar="TARGET",
        help="a run directory, a generator .keras file, a mixture.npz, a SavedModel directory, "
        "a .onnx file or an export base directory",
    )
    parser.add_argument(
        "--dataset",
        default="fashion_mnist",
        help="dataset the generator imitates; its test split is the reference "
        "(default: fashion_mnist)",
    )
    parser.add_argument(
        "--num-samples",
        type=int,
        help="generated images (default: 10000; 26000 with --stacked)",
    )
    parser.add_argument("--out", help="output directory (default: the run dir or beside TARGET)")
    parser.add_argument("--seed", type=int, default=0, help="latent seed (default: 0)")
    parser.add_argument("--no-floor", action="store_true", help="skip the real-data floor")
    parser.add_argument(
        "--stacked",
        action="store_true",
        help="a generator of stacked Fashion-MNIST (keras-gan data stacked): count its 1000 "
        "modes and their KL from uniform with the classifier on each channel (26,000 samples "
        "unless --num-samples), beside real stacked test images; writes stacked.json",
    )
    parser.add_argument("--data-dir", help="a directory to look for the dataset first")
    parser.add_argument(
        "--cache-dir",
        help="classifier cache root (default: $KERAS_GAN_CACHE or ~/.cache/keras_gan)",
    )
    parser.add_argument(
        "--classifier-epochs",
        type=int,
        default=7,
        help="training epochs of the classifier (selects the cache entry; default: 7)",
    )
    parser.add_argument(
        "--classifier-batch-size",
        type=int,
        default=128,
        help="training batch size of the classifier (selects the cache entry; default: 128)",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``keras-gan evaluate``.

    Example:
        >>> from keras_gan.cli import build_parser
        >>> run(build_parser().parse_args(["evaluate", "runs/dcgan"]))  # doctest: +SKIP
        0
    """
    from pathlib import Path

    if not Path(args.target).expanduser().exists():
        raise CommandError(f"{args.target}: no such file or directory")
    if args.num_samples is None:
        args.num_samples = 26_000 if args.stacked else 10_000
    if args.num_samples < 10:
        raise CommandError(f"--num-samples must be >= 10, got {args.num_samples}")

    from keras_gan.data import DatasetError
    from keras_gan.evaluation.pipeline import (
        default_out_dir,
        evaluate,
        format_per_class,
        format_table,
    )
    from keras_gan.runs.loading import load_generator

    try:
        generator = load_generator(args.target)
    except (ValueError, OSError) as error:
        raise CommandError(str(error)) from None
    if args.stacked:
        return _stacked(args, generator)
    try:
        classifier = _classifier(args, args.dataset)
        report = evaluate(
            generator,
            args.dataset,
            args.num_samples,
            args.out if args.out is not None else default_out_dir(args.target),
            classifier=classifier,
            seed=args.seed,
            floor=not args.no_floor,
            data_dir=args.data_dir,
        )
    except (DatasetError, ValueError) as error:
        raise CommandError(str(error)) from None
    columns = {"generated": report["metrics"]}
    if report["floor"]:
        columns["floor (real train vs test)"] = report["floor"]
    clf = report["classifier"]
    print(
        f"{report['target']}: {report['num_samples']} samples vs {report['num_reference']} "
        f"{report['dataset']} test images; classifier weights {clf['weights']} (settings "
        f"{clf['key']}, test accuracy {clf['accuracy']:.4f})"
    )
    print(format_table(columns))
    if report.get("per_class"):
        print(format_per_class(report))
    print(f"wrote {report['files']['json']}, evaluation.md, samples.png, class_histogram.png")
    return 0


def _stacked(args: argparse.Namespace, generator: object) -> int:
    """``keras-gan evaluate --stacked``: modes and KL of stacked Fashion-MNIST samples."""
    import json

    from keras_gan import _atomic
    from keras_gan.data import DatasetError
    from keras_gan.evaluation.pipeline import default_out_dir
    from keras_gan.evaluation.stacked import evaluate_stacked

    num_samples = args.num_samples
    try:
        classifier = _classifier(args, "fashion_mnist")
        report = evaluate_stacked(
            generator,
            classifier,
            num_samples=num_samples,
            seed=args.seed,
            floor=not args.no_floor,
            data_dir=args.data_dir,
        )
    except (DatasetError, ValueError) as error:
        raise CommandError(str(error)) from None
    report["target"] = str(args.target)
    report["classifier"] = {
        "key": classifier.info.get("key"),
        "weights": classifier.identity,
        "accuracy": classifier.accuracy,
    }
    out = Path(args.out) if args.out is not None else default_out_dir(args.target)
    out.mkdir(parents=True, exist_ok=True)
    _atomic.write_bytes(out / "stacked.json", (json.dumps(report, indent=2) + "\n").encode())
    generated, floor = report["generated"], report["floor"]
    print(
        f"{args.target}: {num_samples} samples; modes hit {generated['modes']} of 1000, "
        f"KL {generated['kl']:.3f}"
        + (f" (real stacked test images: {floor['modes']}, KL {floor['kl']:.3f})" if floor else "")
        + f"; a uniform generator hits {report['uniform_expected_modes']:.1f} on average"
    )
    print(f"wrote {out / 'stacked.json'}")
    return 0


def _classifier(args: argparse.Namespace, dataset: str) -> object:
    """The cached feature classifier of ``dataset`` for the command's classifier flags."""
    from keras_gan.evaluation.classifier import load_classifier

    return load_classifier(
        dataset,
        epochs=args.classifier_epochs,
        batch_size=args.classifier_batch_size,
        cache_dir=args.cache_dir,
        data_dir=args.data_dir,
        verbose=2,
    )
