"""``keras-gan data``: check where a dataset resolves, or build its TFDS copy offline.

Example:
    $ keras-gan data check fashion_mnist
    $ keras-gan data prepare fashion_mnist --source /usr/share/datasets/fashion-mnist
"""

from __future__ import annotations

import argparse

from . import CommandError

HELP = "check a dataset's files, or prepare the TensorFlow Datasets copy from local IDX files"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``data`` arguments.

    Example:
        >>> add_arguments(argparse.ArgumentParser())
    """
    parser.add_argument("action", choices=["check", "prepare"], help="what to do")
    parser.add_argument("dataset", help="fashion_mnist, mnist, or a directory of IDX files")
    parser.add_argument("--data-dir", help="directory to look in first (check)")
    parser.add_argument("--source", help="directory of the four .gz IDX files (prepare)")
    parser.add_argument("--tfds-dir", help="TensorFlow Datasets data dir (prepare)")


def run(args: argparse.Namespace) -> int:
    """Run ``keras-gan data``.

    Example:
        >>> run(argparse.Namespace(action="check", dataset="fashion_mnist"))  # doctest: +SKIP
        0
    """
    from keras_gan.data import DatasetError, load_arrays

    try:
        if args.action == "prepare":
            from keras_gan.data import prepare

            path = prepare(args.dataset, source=args.source, data_dir=args.tfds_dir)
            print(f"prepared {args.dataset} for TensorFlow Datasets in {path}")
            return 0
        for split in ("train", "test"):
            images, labels = load_arrays(args.dataset, split, data_dir=args.data_dir)
            classes = len(set(labels.tolist()))
            print(
                f"{args.dataset} {split}: {len(images)} images of {images.shape[1:]} uint8, "
                f"{classes} classes"
            )
    except DatasetError as error:
        raise CommandError(str(error)) from None
    return 0
