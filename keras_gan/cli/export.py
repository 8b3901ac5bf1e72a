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
import json
from pathlib import Path
from typing import Any

from . import CommandError

HELP = "export a trained generator or mixture to SavedModel (TF Serving layout) and/or ONNX"

FORMATS = {"saved_model": ("saved_model",), "onnx": ("onnx",), "all": ("saved_model", "onnx")}
# run.json keys copied into the export metadata (run.json name -> metadata name).
_RUN_KEYS = {
    "model": "model_kind",
    "dataset": "dataset",
    "epochs": "epochs",
    "latent_dim": "latent_dim",
    "image_shape": "image_shape",
    "seed": "training_seed",
}


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
    source = Path(args.source)
    if not source.exists():
        raise CommandError(f"No run directory or model file at {source}")
    if args.version is not None and args.version < 1:
        raise CommandError(f"--version must be a positive integer. Received: {args.version}")
    model, metadata, run_dir = load_source(source)
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


def load_source(source: Path) -> tuple[Any, dict[str, Any], Path]:
    """Load what ``source`` names, with the metadata its run directory records.

    Args:
        source: a run directory (``generator.keras``, ``model.keras`` or ``mixture.npz``, with
            ``run.json`` and optionally ``evaluation.json``), a ``.keras`` file or a ``.npz``
            mixture.

    Returns:
        ``(model, metadata, directory)``: the model to export, metadata entries from
        ``run.json``/``evaluation.json``, and the directory the default ``--out`` goes in.

    Example:
        >>> model, metadata, run_dir = load_source(Path("runs/dcgan"))  # doctest: +SKIP
    """
    if source.is_dir():
        run_dir = source
        candidates = ("generator.keras", "mixture.npz", "model.keras")
        found = [run_dir / name for name in candidates if (run_dir / name).is_file()]
        if not found:
            raise CommandError(f"{run_dir} holds none of {', '.join(candidates)}")
        run_info = _read_json(run_dir / "run.json")
        if run_info.get("model") == "gmm" and (run_dir / "mixture.npz").is_file():
            model_file = run_dir / "mixture.npz"
        else:
            model_file = found[0]
    else:
        run_dir, model_file = source.parent, source
        run_info = _read_json(run_dir / "run.json")
    metadata = {_RUN_KEYS[k]: v for k, v in run_info.items() if k in _RUN_KEYS and v is not None}
    if isinstance(metadata.get("model_kind"), str):
        metadata["model_kind"] = metadata["model_kind"].lower().replace("-", "_")
    evaluation = _read_json(run_dir / "evaluation.json")
    if evaluation:
        metadata["evaluation"] = evaluation
    if model_file.suffix == ".npz":
        model = _load_mixture(model_file)
        metadata.setdefault("model_kind", "gmm")
    elif model_file.suffix == ".keras":
        model = _load_keras(model_file)
    else:
        raise CommandError(f"Expected a .keras file or a mixture .npz. Received: {model_file}")
    return model, metadata, run_dir


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CommandError(f"Cannot read {path}: {error}") from None
    if not isinstance(data, dict):
        raise CommandError(f"{path} must hold a JSON object. Received: {type(data).__name__}")
    return data


def _load_keras(path: Path) -> Any:
    import importlib

    import keras

    # Register the library's serialisable classes before loading.
    for module in ("keras_gan.networks", "keras_gan.losses", "keras_gan.models"):
        try:
            importlib.import_module(module)
        except ImportError:
            pass
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as error:
        raise CommandError(f"Cannot load {path}: {error}") from None


def _load_mixture(path: Path) -> Any:
    try:
        from keras_gan.mixture import load
    except ImportError:
        raise CommandError(
            f"keras_gan.mixture.load is not available in this install; cannot read {path}"
        ) from None
    try:
        return load(path)
    except (OSError, ValueError, KeyError) as error:
        raise CommandError(f"Cannot load the mixture {path}: {error}") from None
