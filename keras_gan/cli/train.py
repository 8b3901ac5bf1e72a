"""``keras-gan train``: train a GAN preset (or the Gaussian mixture) into a run directory.

Argument parsing and printing over :func:`keras_gan.runs.train`, which documents the run
directory (``model.keras``, ``generator.keras``, ``run.json``, ``history.json``, ``loss.png``,
``samples/`` or ``scatter.png``, the manifest ``keras-gan-run.json`` and ``backup/``) and its
rules: an ``--out`` that is neither new, empty nor a keras-gan run is refused; a finished run is
replaced only with ``--overwrite``, an interrupted one continued with ``--resume`` (with its
recorded settings) or replaced with ``--overwrite``, and only once the arguments and the data
have been checked (see ``docs/training.md``).

Example:
    $ keras-gan train --model dcgan --dataset fashion_mnist --epochs 5 --out runs/dcgan
"""

from __future__ import annotations

import argparse
from typing import Any

from keras_gan.mixture.defaults import COVARIANCE_TYPES, TRAIN_DEFAULTS
from keras_gan.runs.settings import DEFAULT_IMAGE_MODEL, DEFAULT_POINT_MODEL, MODELS, is_points

from . import CommandError

HELP = "train a GAN preset (clustered by default for images, points for 2-D) or the gmm baseline"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``train`` arguments.

    Example:
        >>> add_arguments(argparse.ArgumentParser())
    """
    parser.add_argument(
        "--model",
        choices=MODELS,
        help=f"variant (default: {DEFAULT_IMAGE_MODEL} for images, {DEFAULT_POINT_MODEL} for the "
        "2-D mixtures)",
    )
    parser.add_argument(
        "--dataset",
        help="fashion_mnist (default), mnist, a directory of IDX files, a folder of images "
        "(PNG/JPEG/BMP/GIF/TIFF/WebP, searched recursively; class sub-folders are labels), or "
        "ring|grid (2-D mixtures)",
    )
    parser.add_argument("--data-dir", help="directory to look for the dataset first")
    images = parser.add_argument_group("a folder of images")
    images.add_argument(
        "--image-size",
        type=_positive_int,
        metavar="N",
        help="train on N x N images (default: the images' own size when all are square and "
        "of one size)",
    )
    images.add_argument(
        "--channels",
        type=int,
        choices=(1, 3),
        help="1 (grayscale) or 3 (RGB; transparency on white); default 1 when every image is "
        "grayscale, else 3",
    )
    images.add_argument(
        "--resize",
        choices=("crop", "pad", "stretch"),
        help="how a non-square image becomes square: centre crop (default), pad with white, "
        "or stretch",
    )
    parser.add_argument(
        "--epochs",
        type=_positive_int,
        help="passes over the data (default 5 for images; the preset's for 2-D mixtures, "
        "e.g. 180 x 195 steps for points)",
    )
    parser.add_argument(
        "--batch-size",
        type=_positive_int,
        help="global batch of each discriminator step (a generator step uses "
        "discriminator-steps batches; default 128 for images, the preset's for 2-D mixtures)",
    )
    parser.add_argument("--out", help="run directory (default runs/<model>)")
    parser.add_argument("--limit", type=_positive_int, help="use only the first N training samples")
    parser.add_argument("--seed", type=int, help="seed of weights, noise and data order")
    parser.add_argument("--latent-dim", type=_positive_int, help="latent size (preset default)")
    parser.add_argument("--d-lr", type=_positive_float, help="discriminator learning rate")
    parser.add_argument("--g-lr", type=_positive_float, help="generator learning rate")
    parser.add_argument(
        "--discriminator-steps", type=_positive_int, help="critic steps per generator step"
    )
    parser.add_argument(
        "--loss",
        choices=["minimax", "non_saturating", "wasserstein", "hinge", "least_squares"],
        help="loss pair (preset default)",
    )
    parser.add_argument("--ema-decay", type=float, help="EMA of generator weights, e.g. 0.999")
    parser.add_argument(
        "--width",
        type=_positive_int,
        help="base width of the convolutional networks (preset default: dcgan 64, "
        "resize_conv and clustered 16)",
    )
    parser.add_argument(
        "--precision",
        choices=["float32", "mixed_bfloat16", "mixed_float16"],
        help="Keras dtype policy of the networks, default float32 (mixed_bfloat16 needs CPU "
        "bfloat16 support such as AVX512_BF16 or AMX to be faster, mixed_float16 a GPU)",
    )
    parser.add_argument("--tensorboard", action="store_true", help="log to OUT/tensorboard")
    parser.add_argument(
        "--strategy",
        choices=["default", "mirrored", "multiworker"],
        default="default",
        help="tf.distribute strategy (multiworker reads TF_CONFIG)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the interrupted run in OUT from OUT/backup, with its recorded settings",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the keras-gan run in OUT (only its own files are removed)",
    )
    parser.add_argument(
        "--backup-every",
        type=_positive_int,
        help="back up every N steps as well as after each epoch (default: after each epoch)",
    )
    parser.add_argument(
        "--deterministic",
        action="store_true",
        help="enable TensorFlow op determinism (bitwise-reproducible runs, slower on GPU)",
    )
    gmm = parser.add_argument_group("gmm")
    gmm.add_argument(
        "--components",
        type=_positive_int,
        help=f"mixture components (default {TRAIN_DEFAULTS['n_components']})",
    )
    gmm.add_argument(
        "--covariance",
        choices=COVARIANCE_TYPES,
        help=f"covariance type (default {TRAIN_DEFAULTS['covariance_type']})",
    )
    gmm.add_argument(
        "--max-iter",
        type=_positive_int,
        help=f"EM iterations at most (default {TRAIN_DEFAULTS['max_iter']})",
    )


#: Flags that apply to the Gaussian mixture (the rest are the GANs').
_GMM_FLAGS = ("limit", "seed", "data_dir", "overwrite", "resume", "components", "covariance")
_GAN_FLAGS = (
    "epochs batch_size limit seed latent_dim width d_lr g_lr discriminator_steps loss ema_decay "
    "precision strategy data_dir backup_every tensorboard deterministic resume overwrite "
    "image_size channels resize"
).split()


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of :func:`keras_gan.runs.train` from the parsed flags."""
    names = (*_GMM_FLAGS, "max_iter") if args.model == "gmm" else _GAN_FLAGS
    return {name: getattr(args, name) for name in names}


def run(args: argparse.Namespace) -> int:
    """Run ``keras-gan train``.

    Example:
        >>> run(build_parser().parse_args(["train", "--limit", "256"]))  # doctest: +SKIP
        0
    """
    from keras_gan import runs
    from keras_gan.callbacks import NonFiniteLossError
    from keras_gan.data import DatasetError

    try:
        trained = runs.train(args.model, args.dataset, args.out, **_settings(args))
    except (runs.RunError, DatasetError, runs.BackupError, NonFiniteLossError) as error:
        raise CommandError(str(error)) from None
    out, info = trained.out, trained.info
    if info.get("model") == "gmm":
        print(f"wrote {out}")
        return 0
    if (out / "run.json").is_file():
        print(f"wrote {out}/model.keras, generator.keras, history.json, loss.png")
        if is_points(info["dataset"]):
            print(f"2-D samples: {out}/scatter.png; coverage {info['mode_coverage']}")
        else:
            print(f"sample grids: {out}/samples/epoch_NNN.png")
    return 0
