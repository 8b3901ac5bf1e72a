"""``keras-gan export``: write a trained generator as SavedModel and/or ONNX, then verify it.

Every format goes into one TF Serving version directory ``OUT/<version>/`` (the SavedModel,
``model.onnx`` and ``model.sample.onnx``), built aside and renamed into place only after
``keras_gan.export.verify`` has passed on it.

Example:
    $ keras-gan export runs/dcgan --format all
    $ keras-gan export runs/dcgan/generator.keras --format onnx --out models/dcgan --version 3
"""

from __future__ import annotations

import argparse
from pathlib import Path

from . import CommandError, check_positive_flag

HELP = "export a trained generator or mixture to SavedModel (TF Serving layout) and/or ONNX"

FORMATS = {"saved_model": ("saved_model",), "onnx": ("onnx",), "all": ("saved_model", "onnx")}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``export`` arguments.

    Example:
        >>> add_arguments(argparse.ArgumentParser())
    """
    parser.add_argument(
        "source",
        metavar="RUN_DIR_OR_MODEL",
        help="a run directory of `keras-gan train`, a generator .keras file or a mixture.npz",
    )
    parser.add_argument(
        "--format",
        choices=sorted(FORMATS),
        default="all",
        help="what to write into the version directory (default: all)",
    )
    parser.add_argument(
        "--out",
        help="model base path; a version directory is created inside "
        "(default: RUN_DIR/export, or 'export' beside a file)",
    )
    parser.add_argument("--version", type=int, help="version number (default: the next free one)")
    parser.add_argument("--opset", type=int, default=18, help="ONNX opset (default: 18)")
    parser.add_argument(
        "--no-verify",
        action="store_true",
        help="skip loading the export back and comparing SavedModel with ONNX",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``keras-gan export``.

    Example:
        >>> run(build_parser().parse_args(["export", "runs/dcgan"]))  # doctest: +SKIP
        0
    """
    from keras_gan.runs.directory import RunError
    from keras_gan.runs.loading import load_source

    check_positive_flag(args.version, "--version")
    try:
        model, metadata, run_dir = load_source(args.source)
    except RunError as error:
        raise CommandError(str(error)) from None
    out = Path(args.out) if args.out else run_dir / "export"

    from keras_gan.export import ExportError, export, export_and_verify

    formats = FORMATS[args.format]
    try:
        if args.no_verify:
            path = export(model, out, formats, args.version, metadata, opset=args.opset)
            print(f"wrote {path} ({', '.join(formats)}); not verified")
            return 0
        report = export_and_verify(model, out, formats, args.version, metadata, opset=args.opset)
    except (ExportError, FileExistsError, ValueError, TypeError) as error:
        raise CommandError(str(error)) from None
    print(f"wrote {report.path} ({', '.join(formats)})")
    print(report.summary())
    return 0
