"""``keras-gan classifier``: train or inspect the feature classifier used by ``evaluate``.

Example:
    $ keras-gan classifier train --dataset fashion_mnist
    $ keras-gan classifier info --dataset fashion_mnist
"""

from __future__ import annotations

import argparse
import json

from . import CommandError

HELP = "train (once, cached) or show the feature classifier that evaluation scores are computed in"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``classifier`` arguments: an action (``train`` or ``info``) and training settings.

    Example:
        >>> add_arguments(argparse.ArgumentParser())
    """
    parser.add_argument("action", choices=("train", "info"), help="train it, or print its record")
    parser.add_argument(
        "--dataset",
        default="fashion_mnist",
        help="fashion_mnist, mnist or a directory of IDX files (default: fashion_mnist)",
    )
    parser.add_argument("--epochs", type=int, default=7, help="training epochs (default: 7)")
    parser.add_argument("--batch-size", type=int, default=128, help="batch size (default: 128)")
    parser.add_argument("--seed", type=int, default=0, help="training seed (default: 0)")
    parser.add_argument("--limit", type=int, help="train on the first N images only")
    parser.add_argument(
        "--cache-dir", help="cache root (default: $KERAS_GAN_CACHE or ~/.cache/keras_gan)"
    )
    parser.add_argument("--data-dir", help="a directory to look for the dataset first")
    parser.add_argument("--force", action="store_true", help="retrain even when cached")


def run(args: argparse.Namespace) -> int:
    """Run ``keras-gan classifier``.

    Example:
        >>> from keras_gan.cli import build_parser
        >>> run(build_parser().parse_args(["classifier", "info"]))  # doctest: +SKIP
        0
    """
    from keras_gan.data import DatasetError
    from keras_gan.evaluation.classifier import INFO_FILE, classifier_dir, train_classifier

    settings = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "limit": args.limit,
    }
    try:
        directory = classifier_dir(args.dataset, cache_dir=args.cache_dir, **settings)
    except ValueError as error:
        raise CommandError(str(error)) from None
    if args.action == "info":
        if not (directory / INFO_FILE).is_file():
            raise CommandError(
                f"no classifier in {directory}; run `keras-gan classifier train "
                f"--dataset {args.dataset}` with the same settings"
            )
        print(f"{directory}")
        print((directory / INFO_FILE).read_text().rstrip())
        return 0
    cached = (directory / INFO_FILE).is_file() and not args.force
    if not cached:
        print(f"training the feature classifier on {args.dataset} ({settings})", flush=True)
    try:
        clf = train_classifier(
            args.dataset,
            cache_dir=args.cache_dir,
            data_dir=args.data_dir,
            force=args.force,
            verbose=2,
            **settings,
        )
    except (DatasetError, ValueError) as error:
        raise CommandError(str(error)) from None
    state = "cached" if cached else f"trained in {clf.info.get('train_seconds')} s"
    print(
        f"classifier {clf.info['key']} ({state}): test accuracy {clf.accuracy:.4f} on "
        f"{clf.info['test_images']} images; {clf.path}"
    )
    print(json.dumps({"accuracy": clf.accuracy, "path": str(clf.path)}))
    return 0
