"""The ``keras-gan`` command line.

Each sub-command lives in its own module of this package, which defines ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args) -> int``. Command modules import TensorFlow inside
``run`` only, so ``keras-gan sample`` and ``keras-gan serve`` start without it.

Example:
    $ keras-gan train --model dcgan --dataset fashion_mnist --epochs 5 --out runs/dcgan
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

# Sub-command name -> module (relative to this package).
COMMANDS: dict[str, str] = {
    "train": ".train",
    "evaluate": ".evaluate",
    "classifier": ".classifier",
    "export": ".export",
    "sample": ".sample",
    "serve": ".serve",
    "serving-config": ".serving_config",
    "data": ".data",
}


class CommandError(Exception):
    """A user-facing failure: printed as one line, exit status 2, no traceback.

    Example:
        >>> raise CommandError("--epochs must be >= 1, got 0")  # doctest: +SKIP
    """


def check_positive_flag(value: int | None, flag: str) -> None:
    """Refuse a flag's integer below 1 (None passes): the one check the commands share.

    Raises:
        CommandError: ``"{flag} must be a positive integer. Received: {value}"``.

    Example:
        >>> check_positive_flag(3, "-n")
    """
    if value is not None and value < 1:
        raise CommandError(f"{flag} must be a positive integer. Received: {value}")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every registered sub-command.

    Returns:
        The top-level parser.

    Example:
        >>> build_parser().prog
        'keras-gan'
    """
    from keras_gan import __version__

    parser = argparse.ArgumentParser(
        prog="keras-gan",
        description="Train, evaluate, export, sample and serve GANs built on Keras 3.",
    )
    parser.add_argument("--version", action="version", version=f"keras-gan {__version__}")
    verbose_help = (
        "show TensorFlow's C++ log lines (hidden by default; a TF_CPP_MIN_LOG_LEVEL of your own "
        "also shows them)"
    )
    parser.add_argument("--verbose", action="store_true", help=verbose_help)
    # The same flag after the command name; SUPPRESS keeps a sub-command's default from
    # overwriting a --verbose given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--verbose", action="store_true", default=argparse.SUPPRESS, help=verbose_help
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(module_name, __name__)
        except ModuleNotFoundError as error:
            # A command whose module is not part of this install is left out of the parser.
            if error.name != f"{__name__}{module_name}":
                raise
            continue
        command_parser = sub.add_parser(
            name, help=module.HELP, description=module.HELP, parents=[common]
        )
        module.add_arguments(command_parser)
        command_parser.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: arguments without the program name; ``sys.argv[1:]`` when None.

    Returns:
        The process exit status.

    Example:
        >>> main(["--help"])  # doctest: +SKIP
    """
    args = build_parser().parse_args(argv)
    quiet = not args.verbose and "TF_CPP_MIN_LOG_LEVEL" not in os.environ
    if not quiet:
        return _run(args)
    # Quiet TensorFlow's C++ logging before anything can import it; the lines it logs through
    # Abseil whatever the level are filtered out of standard error (keras_gan.cli.quiet).
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    from .quiet import NativeLogFilter

    with NativeLogFilter():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args._module.run(args) or 0)
    except CommandError as error:
        print(f"keras-gan {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"keras-gan {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
