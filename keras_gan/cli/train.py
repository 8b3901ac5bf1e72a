"""``keras-gan train``: train a GAN variant (or the Gaussian mixture) and write a run directory.

Outputs in ``--out`` (``runs/<model>`` by default):

- ``model.keras``: the whole GAN (reload with ``keras.models.load_model`` and keep training);
- ``generator.keras``: the sampling generator (the EMA copy when ``--ema-decay`` is set);
- ``run.json``: what was trained (model, dataset, epochs, latent_dim, image_shape, seed, ...);
- ``history.json`` and ``loss.png``: metrics per epoch;
- ``samples/epoch_NNN.png``: a grid from a fixed latent batch after each epoch (images), or
  ``scatter.png`` and the mode coverage in ``run.json`` (2-D ``ring``/``grid`` data);
- ``keras-gan-run.json``: the manifest (what the run writes, its settings, whether it finished):
  only a directory holding one is ever reused, and only the files it lists are ever removed;
- ``backup/``: the ``BackupAndRestore`` checkpoint (after each epoch, and every
  ``--backup-every`` steps) and the run's seed while training runs (removed when it ends); a
  killed run restarted with ``--resume`` continues from it and ends with the weights an
  uninterrupted run would have (see ``docs/distributed.md``). Non-chief workers of a
  multi-worker run keep theirs in ``backup-worker-<i>/``.

An ``--out`` that is neither new, empty nor a keras-gan run is refused; a finished run is
replaced only with ``--overwrite``, an interrupted one continued with ``--resume`` (with its
recorded settings) or replaced with ``--overwrite``, and only once the arguments and the data
have been checked (see ``docs/training.md``).

Example:
    $ keras-gan train --model dcgan --dataset fashion_mnist --epochs 5 --out runs/dcgan
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import secrets
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from keras_gan import rundir

from . import CommandError

HELP = "train resize_conv, gan, dcgan, wgan, wgan_gp (or gmm) on images or a 2-D mixture"

MODELS = ("resize_conv", "gan", "dcgan", "wgan", "wgan_gp", "points", "gmm")
POINT_DATASETS = ("ring", "grid")
#: ``--model`` when it is not given: the recommended preset for the kind of data.
DEFAULT_IMAGE_MODEL = "resize_conv"
DEFAULT_POINT_MODEL = "points"

# Settings a resumed run keeps (the recorded ones are its defaults): setting -> flag.
RESUME_SETTINGS = {
    "model": "--model",
    "dataset": "--dataset",
    "limit": "--limit",
    "seed": "--seed",
    "batch_size": "--batch-size",
    "latent_dim": "--latent-dim",
    "width": "--width",
    "d_lr": "--d-lr",
    "g_lr": "--g-lr",
    "discriminator_steps": "--discriminator-steps",
    "loss": "--loss",
    "ema_decay": "--ema-decay",
    "precision": "--precision",
}
# Defaults applied after the recorded settings of a resumed run.
# (--model, --batch-size and --epochs depend on the data: see _resolve_defaults.)
DEFAULTS = {"dataset": "fashion_mnist", "precision": "float32"}


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
        help="fashion_mnist (default), mnist, a directory of IDX files, or ring|grid (2-D "
        "mixtures)",
    )
    parser.add_argument("--data-dir", help="directory to look for the dataset first")
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
        help="base width of the convolutional networks (preset default: dcgan 64, resize_conv 16)",
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
    gmm.add_argument("--components", type=_positive_int, default=10, help="mixture components")
    gmm.add_argument("--covariance", choices=["full", "diag", "spherical", "tied"], default="diag")
    gmm.add_argument("--max-iter", type=_positive_int, default=100, help="EM iterations at most")


def _backup_dir(args: argparse.Namespace, out: Path) -> Path:
    if args.strategy != "multiworker":
        return out / "backup"
    from keras_gan import distribute

    try:
        return distribute.backup_dir(out)
    except distribute.StrategyError as error:
        raise CommandError(str(error)) from None


def _chief_from_env(args: argparse.Namespace) -> bool:
    if args.strategy != "multiworker":
        return True
    from keras_gan import distribute

    return distribute.is_chief(environ=os.environ)


def _check_out(args: argparse.Namespace) -> tuple[Path, rundir.RunState]:
    """Check ``--out`` and the flags before any work, and fill in the run's settings (the
    recorded ones on ``--resume``, then the defaults). Nothing is written or removed here."""
    out = Path(args.out or Path("runs") / (args.model or _default_model(args.dataset)))
    try:
        if _chief_from_env(args):
            run = rundir.inspect_run(out)
        elif args.resume and (out / rundir.MANIFEST).is_file():
            run = rundir.inspect_run(out)  # a worker only reads the chief's manifest
        else:
            run = rundir.RunState(out, "new")
        rundir.check_reuse(run, resume=args.resume, overwrite=args.overwrite)
        given = {key: getattr(args, key) for key in RESUME_SETTINGS}
        settings = rundir.resolve_settings(run, given, resume=args.resume, option=RESUME_SETTINGS)
    except rundir.RunDirError as error:
        raise CommandError(str(error)) from None
    for key, value in settings.items():
        setattr(args, key, DEFAULTS.get(key) if value is None else value)
    _resolve_defaults(args)
    return out, run


def _claim_out(
    args: argparse.Namespace,
    out: Path,
    run: rundir.RunState,
    backup: Path,
    settings: dict[str, Any],
    points: bool,
) -> None:
    """Make ``out`` this run's directory once arguments and data are valid: remove the files of
    a run being overwritten (its own only) and record what this run writes."""
    if not _chief_from_env(args):
        if args.overwrite and backup.exists():
            shutil.rmtree(backup)  # this worker's own backup
        return
    files = ["model.keras", "generator.keras", "run.json", "history.json", "loss.png"]
    if points:
        files.append("scatter.png")
    else:
        files += [f"samples/epoch_{epoch:03d}.png" for epoch in range(1, args.epochs + 1)]
    dirs = [backup.relative_to(out).as_posix()] + (["tensorboard"] if args.tensorboard else [])
    if args.resume and run.state == "interrupted":
        files += run.files
        dirs += run.dirs
    rundir.claim(
        out,
        files=files,
        dirs=dirs,
        settings=settings,
        replace=run if args.overwrite else None,
    )
    if args.resume and not backup.exists():
        print(f"keras-gan train: no backup in {backup}; starting from scratch", file=sys.stderr)


def _run_seed(args: argparse.Namespace, backup: Path) -> int:
    """The run's seed: --seed, else the one an interrupted run recorded, else a new one."""
    record = backup / "seed.json"
    if args.seed is None and record.is_file():
        try:
            return int(json.loads(record.read_text())["seed"])
        except (ValueError, KeyError, TypeError):
            pass
    return args.seed if args.seed is not None else secrets.randbelow(2**31)


def _record_seed(backup: Path, seed: int) -> None:
    """Write the seed into the backup directory (atomically) just before training starts, so
    a resumed run draws the same noise, data order and initial weights as the one it continues.
    """
    from keras_gan import _atomic

    _atomic.write_json(backup / "seed.json", {"seed": seed})


def _save_keras(model: Any, path: Path) -> None:
    from keras_gan import _atomic

    with _atomic.write_with(path) as tmp:
        model.save(tmp)


def _get_strategy(name: str) -> Any:
    from keras_gan import distribute

    try:
        return distribute.get_strategy(name)
    except distribute.StrategyError as error:
        raise CommandError(str(error)) from None


def _is_chief(strategy: Any) -> bool:
    from keras_gan import distribute

    return bool(distribute.is_chief(strategy))


def _default_model(dataset: str | None) -> str:
    return DEFAULT_POINT_MODEL if dataset in POINT_DATASETS else DEFAULT_IMAGE_MODEL


def _resolve_defaults(args: argparse.Namespace) -> None:
    """Fill ``--model``, ``--epochs`` and ``--batch-size`` left out (after a resumed run's
    recorded settings): the recommended preset for the data, and its recommended training for
    2-D mixtures."""
    points = args.dataset in POINT_DATASETS
    if args.model is None:
        args.model = _default_model(args.dataset)
    preset = None
    if points and args.model != "gmm":
        from keras_gan.models import PRESETS

        preset = PRESETS[args.model]
    if args.epochs is None:
        args.epochs = preset.point_epochs if preset is not None else 5
    if args.batch_size is None:
        args.batch_size = preset.point_batch_size if preset is not None else 128


def run(args: argparse.Namespace) -> int:
    """Run ``keras-gan train``.

    Example:
        >>> run(build_parser().parse_args(["train", "--limit", "256"]))  # doctest: +SKIP
        0
    """
    out, run_state = _check_out(args)
    if args.model == "gmm":
        if args.resume:
            raise CommandError(
                "--model gmm fits in one go and cannot be resumed: pass --overwrite to fit again"
            )
        try:
            from keras_gan.mixture.cli import run_train
        except ImportError as error:
            raise CommandError(
                f"the gmm model is not available in this install ({error})"
            ) from None
        args.out = str(out)
        return int(run_train(args) or 0)
    if args.ema_decay is not None and not 0.0 < args.ema_decay < 1.0:
        raise CommandError(f"--ema-decay must be in (0, 1), got {args.ema_decay}")

    import keras
    import numpy as np
    import tensorflow as tf

    from keras_gan import callbacks as cb
    from keras_gan import distribute
    from keras_gan.data import DatasetError
    from keras_gan.models import PRESETS, build

    if args.strategy == "multiworker" and args.seed is None:
        raise CommandError(
            "--strategy multiworker needs --seed: every worker must draw the same noise and "
            "data order"
        )
    # A multi-worker strategy must exist before TensorFlow runs any op.
    strategy = _get_strategy(args.strategy)
    if args.deterministic:
        tf.config.experimental.enable_op_determinism()
    chief = _is_chief(strategy)
    backup_dir = _backup_dir(args, out)
    seed = _run_seed(args, backup_dir)
    keras.utils.set_random_seed(seed)
    points = args.dataset in POINT_DATASETS
    steps = args.discriminator_steps
    try:
        with strategy.scope():
            probe = build(args.model, image_shape=(2,) if points else (28, 28, 1), compile=False)
            k = steps or probe.discriminator_steps
            del probe
        step_batch = args.batch_size * k
        if points:
            from keras_gan.data import mixture_of_gaussians

            data = mixture_of_gaussians(args.dataset, n=args.limit or 100_000, seed=seed)
            data = data.astype(np.float32)
            transform = None
        else:
            from keras_gan.data import load_arrays, scale_images

            data, _ = load_arrays(args.dataset, "train", data_dir=args.data_dir)
            if args.limit is not None:
                data = data[: args.limit]
            transform = scale_images
        if len(data) < step_batch:
            raise CommandError(
                f"{len(data)} samples make no full step batch of {step_batch} "
                f"(batch size {args.batch_size} x {k} discriminator steps)"
            )
        sample_shape: tuple[int, ...] = tuple(int(d) for d in data.shape[1:])
        steps_per_epoch = len(data) // step_batch
        gan = distribute.build_in_scope(
            strategy,
            build,
            args.model,
            image_shape=sample_shape,
            latent_dim=args.latent_dim,
            width=args.width,
            d_lr=args.d_lr,
            g_lr=args.g_lr,
            discriminator_steps=steps,
            loss=args.loss,
            ema_decay=args.ema_decay,
            seed=seed,
            total_steps=args.epochs * steps_per_epoch,
            # Root mean square of the coordinates: the scale the points preset works at.
            data_scale=float(np.sqrt(np.mean(np.square(data)))) if points else None,
            precision=args.precision,
        )
    except DatasetError as error:
        raise CommandError(str(error)) from None
    except ValueError as error:
        raise CommandError(str(error)) from None
    settings = {key: getattr(args, key) for key in RESUME_SETTINGS}
    settings.update(
        seed=seed,
        latent_dim=gan.latent_dim,
        discriminator_steps=gan.discriminator_steps,
        loss=gan.loss_pair.name,
        ema_decay=gan.ema_decay,
    )
    _claim_out(args, out, run_state, backup_dir, settings, points)
    if strategy.num_replicas_in_sync > 1:
        # Batch norm over the global batch, so N replicas compute what one device would.
        distribute.synchronize_batch_norm(gan)

    # Small networks run several steps per call (one graph call, one fetch, one round of
    # callbacks); a divisor of the epoch, so that calls never straddle epochs.
    per_call = 1
    if points:
        preset = PRESETS[args.model]
        per_call = distribute.steps_per_call_for(steps_per_epoch, preset.point_steps_per_call)
    try:
        step = distribute.restore_step(gan, backup_dir)
    except distribute.BackupError as error:
        raise CommandError(str(error)) from None
    if step % per_call:
        raise CommandError(
            f"the backup in {backup_dir} is at step {step}, not a multiple of the {per_call} "
            "steps this run fuses into one call; it was written by another configuration"
        )
    if step:
        print(f"resuming from {backup_dir} at step {step}", flush=True)
    backup_every = None if args.backup_every is None else max(1, args.backup_every // per_call)
    backup = distribute.StepBackup(backup_dir, save_freq=backup_every or "epoch")
    callbacks: list[keras.callbacks.Callback] = [
        cb.DivergenceGuard(backup_dir=str(backup_dir)),
        backup,
    ]
    if chief:
        callbacks.append(cb.HistoryWriter(out))
        if not points:
            callbacks.append(
                cb.SampleGrid(
                    out / "samples",
                    n=64,
                    seed=0,
                    tensorboard_dir=out / "tensorboard" if args.tensorboard else None,
                )
            )
        if args.tensorboard:
            callbacks.append(keras.callbacks.TensorBoard(str(out / "tensorboard")))
    print(
        f"training {args.model} on {args.dataset}: {gan.generator.count_params():,} generator and "
        f"{gan.discriminator.count_params():,} discriminator parameters, batch {args.batch_size} "
        f"x {gan.discriminator_steps} discriminator step(s), {args.epochs} epoch(s) of "
        f"{steps_per_epoch} steps, {per_call} step(s) per call, "
        f"{strategy.num_replicas_in_sync} replica(s)",
        flush=True,
    )
    started = time.perf_counter()
    phases = distribute.fit_phases(step // per_call, args.epochs, steps_per_epoch // per_call)
    _record_seed(backup_dir, seed)
    try:
        for number, (first_epoch, end_epoch, phase_calls, first_call) in enumerate(phases):
            dataset = distribute.resumable_dataset(
                data,
                step_batch,
                seed=seed,
                start_step=first_call * per_call,
                total_steps=end_epoch * steps_per_epoch,
                transform=transform,
                steps_per_call=per_call,
            )
            # Keep the backup between the fit calls of a resumed partial epoch and the rest.
            backup.delete_checkpoint = number == len(phases) - 1
            gan._initial_epoch = None  # set by BackupAndRestore; the phases say where to start
            gan.fit(
                dataset,
                initial_epoch=first_epoch,
                epochs=end_epoch,
                steps_per_epoch=phase_calls,
                callbacks=callbacks,
                verbose="auto",
                shuffle=False,
            )
    except (cb.NonFiniteLossError, distribute.BackupError) as error:
        raise CommandError(str(error)) from None
    if not phases:  # killed after the last epoch's backup: nothing was left to train
        shutil.rmtree(backup_dir, ignore_errors=True)
    seconds = time.perf_counter() - started

    run_info: dict[str, Any] = {
        "model": args.model,
        "dataset": args.dataset,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "discriminator_steps": gan.discriminator_steps,
        "latent_dim": gan.latent_dim,
        "image_shape": list(sample_shape),
        "seed": gan.seed,
        "limit": args.limit,
        "steps": int(gan.g_optimizer.iterations.numpy()),
        "loss": gan.loss_pair.name,
        "ema_decay": gan.ema_decay,
        "precision": args.precision,
        "strategy": args.strategy,
        "train_seconds": round(seconds, 2),
    }
    # Every worker saves (a save may need collectives); only the chief's files are kept.
    target = distribute.worker_dir(out, strategy)
    try:
        _save_keras(gan, target / "model.keras")
        _save_keras(gan.sampling_generator, target / "generator.keras")
    finally:
        distribute.remove_worker_dir(target, out)
    if chief:
        if points:
            run_info["mode_coverage"] = _evaluate_points(gan, args.dataset, out)
        cb.write_json_atomic(out / "run.json", run_info)
        rundir.finish(out)
        print(f"wrote {out}/model.keras, generator.keras, history.json, loss.png")
        if points:
            print(f"2-D samples: {out}/scatter.png; coverage {run_info['mode_coverage']}")
        else:
            print(f"sample grids: {out}/samples/epoch_NNN.png")
    return 0


def _evaluate_points(gan: Any, kind: str, out: Path) -> dict[str, float]:
    from keras_gan.data import mixture_centers
    from keras_gan.metrics import mode_coverage
    from keras_gan.plotting import scatter_points

    samples = gan.generate(2500, seed=0)
    centers, std = mixture_centers(kind)
    coverage = mode_coverage(samples, centers, std)
    values = dataclasses.asdict(coverage) if dataclasses.is_dataclass(coverage) else dict(coverage)
    scatter_points(samples, centers, out / "scatter.png", title=f"{gan.name} on {kind}")
    return {key: float(value) for key, value in values.items()}
