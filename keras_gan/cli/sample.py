"""``keras-gan sample``: draw images from an exported generator with onnxruntime alone.

This path imports neither TensorFlow nor Keras (only numpy and onnxruntime), so it runs on a
serving host with the base install.

A class-conditional export takes ``--label``: a class name (compared without regard to
case) or an index.

Example:
    $ keras-gan sample runs/dcgan/export -n 64 --seed 0 --out grid.png
    $ keras-gan sample models/dcgan/3/model.onnx -n 1000 --out samples.npy
    $ keras-gan sample runs/cgan/export --label sneaker -n 16 --out sneakers.png
    $ keras-gan sample --pretrained fashion-mnist -n 64 --seed 0 --out grid.png
    $ keras-gan sample --pretrained fashion-mnist-cgan --label all -n 60 --out classes.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

from . import CommandError, check_positive_flag

HELP = "sample an exported generator (.onnx, version dir or base path) with onnxruntime"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``sample`` arguments.

    Example:
        >>> add_arguments(argparse.ArgumentParser())
    """
    parser.add_argument(
        "model",
        metavar="MODEL",
        nargs="?",
        help="a .onnx file, a version directory, or a model base path (its highest version)",
    )
    parser.add_argument(
        "--pretrained",
        metavar="NAME",
        help="sample a generator shipped in the package instead of MODEL: fashion-mnist "
        "(the default preset) or fashion-mnist-cgan (class-conditional, takes --label)",
    )
    parser.add_argument("-n", "--num", type=int, default=64, help="number of samples (default 64)")
    parser.add_argument(
        "--seed", type=int, help="signed 64-bit seed (default: a fresh random seed, printed)"
    )
    parser.add_argument(
        "--out",
        default="samples.png",
        help="a .png grid, or a .npy file of the raw samples (default: samples.png)",
    )
    parser.add_argument("--columns", type=int, help="images per grid row (default: ceil(sqrt(n)))")
    parser.add_argument(
        "--scale",
        type=int,
        help="enlarge each image of the grid this many times (default: 28-pixel images x4, "
        "32 x3, 64 x2, 96 and up x1)",
    )
    parser.add_argument(
        "--batch-size", type=int, help="run the generator in chunks of this many samples"
    )
    parser.add_argument(
        "--label",
        help="the class of every sample, a name or an index; 'all': one row per class, named, "
        "n // classes samples a row from the same latents (class-conditional exports only)",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``keras-gan sample``.

    Example:
        >>> run(build_parser().parse_args(["sample", "m.onnx", "--out", "g.png"]))  # doctest: +SKIP
        0
    """
    import secrets

    import numpy as np

    from keras_gan.serving.images import write_bytes_atomic
    from keras_gan.serving.sampler import Sampler

    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".npy"):
        raise CommandError(f"--out must end in .png or .npy. Received: {out}")
    for flag, value in (
        ("-n", args.num),
        ("--columns", args.columns),
        ("--batch-size", args.batch_size),
        ("--scale", args.scale),
    ):
        check_positive_flag(value, flag)
    seed = secrets.randbits(63) if args.seed is None else args.seed
    if not -(2**63) <= seed < 2**63:
        raise CommandError(f"--seed must fit in a signed 64-bit integer. Received: {seed}")
    if (args.model is None) == (args.pretrained is None):
        raise CommandError("give either MODEL or --pretrained NAME")
    try:
        if args.pretrained is not None:
            sampler = Sampler.pretrained(args.pretrained)
        else:
            sampler = Sampler(args.model)
    except (FileNotFoundError, ValueError) as error:
        raise CommandError(str(error)) from error
    label = None
    if args.label is not None and args.label.casefold() == "all" and sampler.conditional:
        return _all_classes(args, sampler, out, seed)
    if args.label is not None or sampler.conditional:
        try:
            label = sampler.label_index(args.label)
        except ValueError as error:
            hint = " Use --label NAME or --label INDEX." if args.label is None else ""
            raise CommandError(f"{error}{hint}") from None
    samples = sampler.sample(args.num, seed=seed, label=label, batch_size=args.batch_size)
    if out.suffix.lower() == ".npy":
        import io

        buffer = io.BytesIO()
        np.save(buffer, samples)
        write_bytes_atomic(out, buffer.getvalue())
    else:
        if len(sampler.image_shape) not in (2, 3):
            raise CommandError(
                f"{sampler.files.onnx} generates flat samples of shape {sampler.image_shape}, "
                "which make no image grid; use --out FILE.npy"
            )
        sampler.save_grid(samples, out, columns=args.columns, scale=args.scale)
    shape = "x".join(str(d) for d in sampler.image_shape)
    of_class = "" if label is None else f" of class {sampler.class_names[label]!r} ({label})"
    print(
        f"wrote {out}: {args.num} samples{of_class} of {shape} from {sampler.files.onnx} "
        f"(seed {seed})"
    )
    return 0


def _all_classes(args: argparse.Namespace, sampler: object, out: Path, seed: int) -> int:
    """``--label all``: a row per class from the same latents, each row named."""
    import io

    import numpy as np

    from keras_gan.serving.images import write_bytes_atomic

    names = list(sampler.class_names)
    per = max(1, args.num // len(names))
    rows = [
        sampler.sample(per, seed=seed, label=c, batch_size=args.batch_size)
        for c in range(len(names))
    ]
    samples = np.concatenate(rows)
    if out.suffix.lower() == ".npy":
        buffer = io.BytesIO()
        np.save(buffer, samples)
        write_bytes_atomic(out, buffer.getvalue())
    else:
        sampler.save_grid(samples, out, columns=per, scale=args.scale, row_labels=names)
    print(
        f"wrote {out}: {per} samples of each of {len(names)} classes from {sampler.files.onnx} "
        f"(seed {seed})"
    )
    return 0
