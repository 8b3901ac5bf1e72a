"""``keras-gan serve``: a REST server with TF Serving's API for exported generators.

Runs ``keras_gan.serving.server`` (onnxruntime, no TensorFlow) under waitress, the
``[serve]`` extra. The model base path is the directory ``keras-gan export --out`` writes;
the highest version is served and a new version directory is picked up while running.

Example:
    $ keras-gan serve --model-base-path runs/dcgan/export --model-name dcgan --port 8501
    $ keras-gan serve --pretrained fashion-mnist
    $ curl -d '{"signature_name": "sample", "inputs": {"n": 4, "seed": 0}}' \\
        http://127.0.0.1:8501/v1/models/dcgan:predict
"""

from __future__ import annotations

import argparse
import logging
import sys

from . import CommandError, check_positive_flag

HELP = "serve exported generators over TF Serving's REST API (onnxruntime + waitress)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``serve`` arguments.

    Example:
        >>> add_arguments(argparse.ArgumentParser())
    """
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--model-base-path",
        metavar="DIR",
        help="directory of numeric version directories (the --out of `keras-gan export`)",
    )
    source.add_argument(
        "--pretrained",
        metavar="NAME",
        help="serve a generator shipped in the package: fashion-mnist or fashion-mnist-cgan "
        "(named NAME in URLs unless --model-name is given)",
    )
    source.add_argument(
        "--model-config-file",
        metavar="FILE",
        help="a TF Serving models.config (model_config_list) naming several models",
    )
    parser.add_argument(
        "--model-name",
        help="model name in URLs (default: default, or the --pretrained NAME)",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine)"
    )
    parser.add_argument("--port", type=int, default=8501, help="TCP port (default 8501; 0: any)")
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=16 * 2**20,
        help="largest request body; larger ones get 413 (default 16 MiB)",
    )
    parser.add_argument(
        "--max-batch",
        type=int,
        default=1024,
        help="most rows of z or largest n per request; more get 413 (default 1024)",
    )
    parser.add_argument(
        "--max-reply-bytes",
        type=int,
        default=32 * 2**20,
        help="largest reply, estimated before the work (24 bytes per float, 4 per uint8); "
        "larger ones get 413 (default 32 MiB)",
    )
    parser.add_argument(
        "--threads", type=int, default=8, help="concurrent requests (waitress threads, default 8)"
    )
    parser.add_argument(
        "--ort-threads",
        type=int,
        default=1,
        help="onnxruntime intra-op threads per request (default 1: concurrent requests, not "
        "threads within one, use the cores; 0: onnxruntime's default, one per core)",
    )
    parser.add_argument(
        "--poll-seconds",
        type=float,
        default=1.0,
        help="longest time before a new version directory is noticed (default 1)",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``keras-gan serve`` until interrupted.

    Example:
        >>> run(build_parser().parse_args(["serve", "--model-base-path", "m"]))  # doctest: +SKIP
    """
    from keras_gan.serving import server as serving

    if not 0 <= args.port < 65536:
        raise CommandError(f"--port must be 0..65535. Received: {args.port}")
    for flag, value in (
        ("--max-body-bytes", args.max_body_bytes),
        ("--max-batch", args.max_batch),
        ("--max-reply-bytes", args.max_reply_bytes),
        ("--threads", args.threads),
    ):
        check_positive_flag(value, flag)
    if args.ort_threads < 0:
        raise CommandError(f"--ort-threads must be >= 0. Received: {args.ort_threads}")
    if args.poll_seconds < 0:
        raise CommandError(f"--poll-seconds must be >= 0. Received: {args.poll_seconds}")
    if args.model_config_file:
        from keras_gan.serving.config import read_models_config

        try:
            models = read_models_config(args.model_config_file)
        except (OSError, ValueError) as error:
            raise CommandError(str(error)) from error
    else:
        base_path = args.model_base_path
        name = args.model_name or "default"
        if args.pretrained is not None:
            from keras_gan.serving import pretrained

            try:
                base_path = pretrained.path(args.pretrained)
            except ValueError as error:
                raise CommandError(str(error)) from error
            name = args.model_name or args.pretrained
        try:
            serving.check_model_name(name)
        except ValueError as error:
            raise CommandError(str(error)) from error
        models = {name: base_path}
    limits = serving.Limits(
        max_body_bytes=args.max_body_bytes,
        max_batch=args.max_batch,
        max_reply_bytes=args.max_reply_bytes,
    )
    try:
        app = serving.make_multi_app(
            models,
            limits=limits,
            poll_seconds=args.poll_seconds,
            threads=args.ort_threads,
        )
        # waitress logs every queued request under load; its warnings are not errors here.
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        server = serving.create_server(app, host=args.host, port=args.port, threads=args.threads)
    except (FileNotFoundError, ValueError, ImportError, OSError) as error:
        raise CommandError(str(error)) from error
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{server.effective_port}"
    for name, source in app.models.items():
        version, sampler = source.current()
        print(f"serving model {name!r} version {version} ({sampler.files.onnx})")
        print(f"  {url}/v1/models/{name}")
        if sampler.conditional:
            print(f"  classes: {sampler.describe_classes()}")
    print(f"listening on {url} (Ctrl-C to stop)", flush=True)
    sys.stdout.flush()
    try:
        server.run()
    finally:
        server.close()
        app.close()
    return 0
