"""``keras-gan data``: check where a dataset resolves, build its TFDS copy offline, or write
it as a folder of PNG files (class sub-folders), plain or stacked (three images as R, G, B).

Example:
    $ keras-gan data check fashion_mnist
    $ keras-gan data prepare fashion_mnist --source /usr/share/datasets/fashion-mnist
    $ keras-gan data folder fashion_mnist --out fmnist-png --limit 6000
    $ keras-gan data stacked fashion_mnist --out stacked-fmnist --num 60000 --size 64
"""

from __future__ import annotations

import argparse

from . import CommandError

HELP = (
    "check a dataset's files, prepare its TensorFlow Datasets copy, or write it as a folder of "
    "PNG files (plain or stacked in colour)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``data`` arguments.

    Example:
        >>> add_arguments(argparse.ArgumentParser())
    """
    parser.add_argument(
        "action",
        choices=["check", "prepare", "folder", "stacked"],
        help="check; prepare (TFDS); folder (PNG files in class sub-folders); stacked (colour "
        "images of three, one a channel: 1000 modes)",
    )
    parser.add_argument("dataset", help="fashion_mnist, mnist, or a directory of IDX files")
    parser.add_argument("--data-dir", help="directory to look in first (check, folder, stacked)")
    parser.add_argument("--out", help="the folder to create (folder, stacked)")
    parser.add_argument("--split", default="train", choices=["train", "test"], help="(folder)")
    parser.add_argument("--limit", type=int, help="the first N images only (folder)")
    parser.add_argument("--num", type=int, default=60_000, help="stacked images (60000)")
    parser.add_argument("--seed", type=int, default=0, help="which images are stacked (0)")
    parser.add_argument(
        "--size", type=int, help="resize the images to N x N (default: their own size)"
    )
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
        if args.action in ("folder", "stacked"):
            return _write(args)
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


def _write(args: argparse.Namespace) -> int:
    """``keras-gan data folder|stacked``: write PNG files into a new folder."""
    import numpy as np

    from keras_gan.data import load_arrays
    from keras_gan.data.classes import CLASS_NAMES
    from keras_gan.data.folders import stacked, write_folder

    if not args.out:
        raise CommandError(f"data {args.action} needs --out FOLDER (a folder to create)")
    for flag, value in (("--limit", args.limit), ("--num", args.num), ("--size", args.size)):
        if value is not None and value < 1:
            raise CommandError(f"{flag} must be a positive integer. Received: {value}")
    split = args.split if args.action == "folder" else "train"
    images, labels = load_arrays(args.dataset, split, data_dir=args.data_dir)
    if args.action == "folder":
        if args.limit is not None:
            images, labels = images[: args.limit], labels[: args.limit]
        names = CLASS_NAMES.get(str(args.dataset))
        class_names = [n.lower().replace("/", "-") for n in names] if names else None
        stems = None
    else:
        images, modes = stacked(images, labels, args.num, seed=args.seed)
        labels, class_names = None, None
        stems = [f"{i:06d}_{m:03d}" for i, m in enumerate(modes.tolist())]
    if args.size is not None and args.size != images.shape[1]:
        import tensorflow as tf

        resized = tf.image.resize(images, (args.size, args.size), method="bilinear")
        images = np.clip(np.rint(resized.numpy()), 0, 255).astype(np.uint8)
    try:
        out = write_folder(args.out, images, labels, class_names, names=stems)
    except FileExistsError as error:
        raise CommandError(str(error)) from None
    shape = "x".join(str(d) for d in images.shape[1:])
    what = "in class sub-folders" if labels is not None else "(the mode in each file name)"
    print(f"wrote {len(images):,} PNG files of {shape} {what} to {out}")
    return 0
