"""``keras-gan serving-config``: a TF Serving ``models.config`` for several exported models.

Each DIR is a model base path written by ``keras-gan export --format all`` (numeric version
directories holding a SavedModel). The file lists them under ``/models/<name>`` (the bind-mount
targets of the ``tensorflow/serving`` container; ``--host-paths`` writes the directories' own
absolute paths instead), and the matching ``docker run`` command is printed.

Example:
    $ keras-gan serving-config runs/dcgan/export runs/wgan_gp/export --out models.config
    $ keras-gan serve --model-config-file models.config     # with --host-paths
"""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

from . import CommandError

HELP = "write a TF Serving models.config (model_config_list) for exported models"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``serving-config`` arguments.

    Example:
        >>> add_arguments(argparse.ArgumentParser())
    """
    parser.add_argument(
        "dirs", nargs="+", metavar="DIR", help="model base paths (`keras-gan export --out`)"
    )
    parser.add_argument("--out", default="models.config", help="file to write (models.config)")
    parser.add_argument(
        "--name",
        action="append",
        dest="names",
        metavar="NAME",
        help="model name, once per DIR in order (default: the directory's name, or its "
        "parent's for a run's `export` directory)",
    )
    parser.add_argument(
        "--container-root",
        default="/models",
        help="where the container sees the models (default: /models)",
    )
    parser.add_argument(
        "--host-paths",
        action="store_true",
        help="write each DIR's absolute path as base_path (for tensorflow_model_server or "
        "`keras-gan serve --model-config-file` on this machine)",
    )


def default_name(directory: Path) -> str:
    """A model name for a base path: its name, or its parent's for ``<run>/export``.

    Example:
        >>> default_name(Path("runs/dcgan/export"))
        'dcgan'
    """
    directory = directory.resolve()
    name = directory.parent.name if directory.name == "export" else directory.name
    name = re.sub(r"[^A-Za-z0-9_.\-]", "_", name).lstrip("._-")
    return name or "model"


def check_base_path(directory: Path) -> list[str]:
    """Check that TF Serving can serve ``directory``; returns warnings, raises for errors.

    Example:
        >>> check_base_path(Path("runs/dcgan/export"))  # doctest: +SKIP
        []
    """
    if not directory.is_dir():
        raise CommandError(f"No model base path at {directory}")
    versions = sorted(
        (int(p.name) for p in directory.iterdir() if p.name.isdigit() and p.is_dir()),
    )
    if not versions:
        raise CommandError(
            f"{directory} holds no numeric version directory; expected the --out directory "
            "of `keras-gan export`"
        )
    saved = [v for v in versions if (directory / str(v) / "saved_model.pb").is_file()]
    if not saved:
        raise CommandError(
            f"No version under {directory} holds a SavedModel (saved_model.pb), which TF "
            "Serving needs; export with `keras-gan export --format all`"
        )
    onnx_only = sorted(set(versions) - set(saved))
    if onnx_only:
        return [
            f"warning: versions {onnx_only} of {directory} hold no SavedModel; TF Serving "
            "logs an error for them (move them out of the base path)"
        ]
    return []


def run(args: argparse.Namespace) -> int:
    """Run ``keras-gan serving-config``.

    Example:
        >>> run(build_parser().parse_args(["serving-config", "m/a"]))  # doctest: +SKIP
        0
    """
    from keras_gan.serving.config import write_models_config
    from keras_gan.serving.server import check_model_name

    dirs = [Path(d) for d in args.dirs]
    if args.names and len(args.names) != len(dirs):
        raise CommandError(
            f"--name must be given once per DIR: {len(dirs)} DIRs, {len(args.names)} names"
        )
    names = args.names or [default_name(d) for d in dirs]
    warnings: list[str] = []
    models: dict[str, str] = {}
    mounts: list[tuple[Path, str]] = []
    for name, directory in zip(names, dirs, strict=True):
        try:
            check_model_name(name)
        except ValueError as error:
            raise CommandError(f"{error} (give names with --name)") from error
        if name in models:
            raise CommandError(f"Two models are named {name!r}; give names with --name")
        warnings += check_base_path(directory)
        target = f"{args.container_root.rstrip('/')}/{name}"
        models[name] = str(directory.resolve()) if args.host_paths else target
        mounts.append((directory.resolve(), target))
    out = Path(args.out)
    try:
        write_models_config(models, out)
    except (OSError, ValueError) as error:
        raise CommandError(f"Cannot write {out}: {error}") from error
    for line in warnings:
        print(line)
    print(f"wrote {out} ({len(models)} models: {', '.join(models)})")
    if not args.host_paths:
        config_target = f"{args.container_root.rstrip('/')}/models.config"
        parts = ["docker run -p 8501:8501 -p 8500:8500"]
        parts += [
            f"--mount type=bind,source={shlex.quote(str(source))},target={target}"
            for source, target in mounts
        ]
        parts.append(
            f"--mount type=bind,source={shlex.quote(str(out.resolve()))},target={config_target}"
        )
        parts.append(f"-t tensorflow/serving --model_config_file={config_target}")
        print("run TF Serving with:\n  " + " \\\n    ".join(parts))
    return 0
