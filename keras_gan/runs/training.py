"""The resumable training run: :func:`train` builds a preset, fits it and writes a run directory.

Outputs in ``out`` (``runs/<model>`` by default):

- ``model.keras``: the whole GAN (reload with ``keras.models.load_model`` and keep training);
- ``generator.keras``: the sampling generator (the EMA copy when ``ema_decay`` is set);
- ``run.json``: what was trained (model, dataset, epochs, latent_dim, image_shape, seed, ...);
- ``history.json`` and ``loss.png``: metrics per epoch;
- ``samples/epoch_NNN.png``: a grid from a fixed latent batch after each epoch (images), or
  ``scatter.png`` and the mode coverage in ``run.json`` (2-D ``ring``/``grid`` data);
- ``keras-gan-run.json``: the manifest (:mod:`keras_gan.runs.directory`): only a directory
  holding one is ever reused, and only the files it lists are ever removed;
- ``backup/``: the :class:`~keras_gan.runs.backup.StepBackup` checkpoint (after each epoch, and
  every ``backup_every`` steps) and the run's seed while training runs (removed when it ends).
  A killed run restarted with ``resume=True`` continues from it and ends with the weights an
  uninterrupted run would have (see ``docs/distributed.md``). Non-chief workers of a
  multi-worker run keep theirs in ``backup-worker-<i>/``.

A directory that is neither new, empty nor a keras-gan run is refused; a finished run is
replaced only with ``overwrite=True``, an interrupted one continued with ``resume=True`` (with
its recorded settings) or replaced with ``overwrite=True``, and only once the arguments and the
data have been checked (see ``docs/training.md``).

Example:
    >>> from keras_gan import runs
    >>> run = runs.train("dcgan", "fashion_mnist", out="runs/dcgan", epochs=5, resume=True)
    ... # doctest: +SKIP
    >>> run.model.generate(16, seed=0).shape  # doctest: +SKIP
    (16, 28, 28, 1)
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from keras_gan import _atomic
from keras_gan._checks import check_in_interval

from . import directory
from .directory import RunError, TrainedRun
from .settings import RESUME_SETTINGS, default_model, is_points, resolve_settings

#: Files a GAN run writes (besides ``samples/``, ``scatter.png`` and the backup).
GAN_OUTPUTS = ("model.keras", "generator.keras", "run.json", "history.json", "loss.png")


def fit_verbosity(verbose: str | int, stream: Any = None) -> str | int:
    """``fit``'s verbosity for ``verbose``: ``"auto"`` becomes 1 (a progress bar) when
    ``stream`` (stdout by default) is a terminal and 2 (one line per epoch) otherwise.

    Example:
        >>> import io
        >>> fit_verbosity("auto", io.StringIO()), fit_verbosity(1, io.StringIO())
        (2, 1)
    """
    if verbose != "auto":
        return verbose
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return 1 if callable(isatty) and isatty() else 2


def _message(error: BaseException) -> str:
    return str(error.args[0]) if len(error.args) == 1 else str(error)


def _run_seed(seed: int | None, backup: Path) -> int:
    """The run's seed: ``seed``, else the one an interrupted run recorded, else a new one."""
    record = backup / "seed.json"
    if seed is None and record.is_file():
        try:
            return int(json.loads(record.read_text())["seed"])
        except (ValueError, KeyError, TypeError):
            pass
    return seed if seed is not None else secrets.randbelow(2**31)


def _record_seed(backup: Path, seed: int) -> None:
    """Write the seed into the backup directory (atomically) just before training starts, so
    a resumed run draws the same noise, data order and initial weights as the one it continues.
    """
    _atomic.write_json(backup / "seed.json", {"seed": seed})


def _claim(
    out: Path,
    state: directory.RunState,
    backup: Path,
    settings: dict[str, Any],
    *,
    chief: bool,
    resume: bool,
    overwrite: bool,
    epochs: int,
    tensorboard: bool,
) -> None:
    """Make ``out`` this run's directory once arguments and data are valid: remove the files of
    a run being overwritten (its own only) and record what this run writes."""
    if not chief:
        if overwrite and backup.exists():
            shutil.rmtree(backup)  # this worker's own backup
        return
    files = list(GAN_OUTPUTS)
    if is_points(settings["dataset"]):
        files.append("scatter.png")
    else:
        files += [f"samples/epoch_{epoch:03d}.png" for epoch in range(1, epochs + 1)]
    dirs = [backup.relative_to(out).as_posix()] + (["tensorboard"] if tensorboard else [])
    if resume and state.state == "interrupted":
        files += state.files
        dirs += state.dirs
    directory.claim(
        out, files=files, dirs=dirs, settings=settings, replace=state if overwrite else None
    )
    if resume and not backup.exists():
        print(f"keras-gan: no backup in {backup}; starting from scratch", file=sys.stderr)


def train(
    model: str | None = None,
    dataset: str | None = None,
    out: str | os.PathLike[str] | None = None,
    *,
    epochs: int | None = None,
    batch_size: int | None = None,
    limit: int | None = None,
    seed: int | None = None,
    latent_dim: int | None = None,
    width: int | None = None,
    d_lr: float | None = None,
    g_lr: float | None = None,
    discriminator_steps: int | None = None,
    loss: str | None = None,
    ema_decay: float | None = None,
    precision: str | None = None,
    image_size: int | None = None,
    channels: int | None = None,
    resize: str | None = None,
    strategy: str = "default",
    data_dir: str | os.PathLike[str] | None = None,
    backup_every: int | None = None,
    tensorboard: bool = False,
    deterministic: bool = False,
    resume: bool = False,
    overwrite: bool = False,
    verbose: str | int = "auto",
    **mixture: Any,
) -> TrainedRun:
    """Train a preset on a dataset into the run directory ``out``, resumably.

    A run killed at any moment and called again with ``resume=True`` continues from its last
    backup with its recorded settings and ends with the weights an uninterrupted run would
    have (the noise and the data order are functions of the step). Settings left as None take
    the recorded value of a resumed run, else the default: the recommended preset for the data
    (``clustered`` for images, ``points`` for 2-D mixtures), 5 epochs of batch 128 for images
    and the preset's own training for 2-D mixtures.

    Args:
        model: a preset name (:data:`keras_gan.runs.settings.MODELS`), or ``"gmm"`` for the
            Gaussian mixture (see :func:`keras_gan.runs.mixture.train_mixture`, which takes the
            ``components``, ``covariance`` and ``max_iter`` keywords).
        dataset: ``fashion_mnist`` (default), ``mnist``, a directory of IDX files, a folder
            of image files (:mod:`keras_gan.data.folders`: class sub-folders are labels), or
            ``ring``/``grid`` (2-D mixtures).
        out: the run directory (default ``runs/<model>``).
        epochs: passes over the data.
        batch_size: the global batch of one discriminator step.
        limit: use only the first ``limit`` training samples.
        seed: seed of the weights, the noise and the data order (a new one when None).
        latent_dim, width, d_lr, g_lr, discriminator_steps, loss, ema_decay: override the
            preset's (see :func:`keras_gan.models.build`).
        precision: Keras dtype policy, ``float32`` (default), ``mixed_bfloat16`` or
            ``mixed_float16``.
        image_size, channels, resize: for a folder of images: the side of the square images
            to train at, 1 or 3 channels, and ``crop``/``pad``/``stretch`` for non-square
            images (see :func:`keras_gan.data.folders.load_folder`; the sizes default to the
            images' own).
        strategy: ``default``, ``mirrored`` or ``multiworker`` (reads ``TF_CONFIG``; needs
            ``seed``).
        data_dir: a directory to look for the dataset first.
        backup_every: back up every N steps as well as after each epoch.
        tensorboard: log to ``out/tensorboard``.
        deterministic: enable TensorFlow op determinism.
        resume: continue the interrupted run in ``out`` (a new ``out`` starts from scratch).
        overwrite: replace the keras-gan run in ``out`` (only its own files are removed).
        verbose: ``fit``'s verbosity; 0 also silences the progress lines printed here.
            ``"auto"`` is a progress bar on a terminal and one line per epoch otherwise (a
            per-step bar written to a file or pipe slowed a small model's training by 1.6x).
        **mixture: the Gaussian mixture's settings when ``model="gmm"``.

    Returns:
        A :class:`TrainedRun`.

    Raises:
        RunError: a bad setting or ``out``; the message names it and what was expected.
        keras_gan.data.DatasetError: the dataset cannot be read.
        keras_gan.runs.backup.BackupError: no backup of a resumed run loads.
        keras_gan.callbacks.NonFiniteLossError: training diverged (the last good backup stays).

    Example:
        >>> run = train("points", "ring", out="runs/ring", seed=0, resume=True)  # doctest: +SKIP
        >>> run.info["mode_coverage"]["modes"]  # doctest: +SKIP
        8.0
    """
    from keras_gan import distribute

    talk = verbose != 0
    verbose = fit_verbosity(verbose)
    given: dict[str, Any] = {
        "model": model,
        "dataset": dataset,
        "limit": limit,
        "seed": seed,
        "batch_size": batch_size,
        "latent_dim": latent_dim,
        "width": width,
        "d_lr": d_lr,
        "g_lr": g_lr,
        "discriminator_steps": discriminator_steps,
        "loss": loss,
        "ema_decay": ema_decay,
        "precision": precision,
        "image_size": image_size,
        "channels": channels,
        "resize": resize,
        "epochs": epochs,
    }
    if strategy not in distribute.STRATEGIES:
        raise RunError(
            f"unknown strategy {strategy!r}; expected one of {', '.join(distribute.STRATEGIES)}"
        )
    if model == "gmm":
        if resume:
            raise RunError(
                "the gmm model fits in one go and cannot be resumed: pass --overwrite "
                "(overwrite=True) to fit again"
            )
        from .mixture import train_mixture

        return train_mixture(
            dataset=dataset,
            out=out,
            limit=limit,
            seed=seed,
            data_dir=data_dir,
            overwrite=overwrite,
            verbose=0 if verbose == 0 else 1,
            **mixture,
        )
    if mixture:
        raise RunError(
            f"{', '.join(sorted(mixture))} only apply to model='gmm'. Received: model={model!r}"
        )
    out = Path(out or Path("runs") / (model or default_model(dataset)))
    chief_by_env = strategy != "multiworker" or distribute.is_chief(environ=os.environ)
    state, settings = resolve_settings(
        out, given, resume=resume, overwrite=overwrite, chief=chief_by_env
    )
    if settings["model"] == "gmm":
        raise RunError(f"{out} holds a gmm run; pass model='gmm' with overwrite=True to refit")
    try:
        check_in_interval(
            settings["ema_decay"], "ema_decay", 0, 1, include_low=False, allow_none=True
        )
    except ValueError as error:
        raise RunError(f"--ema-decay: {error}") from None
    if strategy == "multiworker" and settings["seed"] is None:
        raise RunError(
            "--strategy multiworker needs --seed: every worker must draw the same noise and "
            "data order"
        )
    return _train_gan(
        out,
        state,
        settings,
        strategy=strategy,
        data_dir=data_dir,
        backup_every=backup_every,
        tensorboard=tensorboard,
        deterministic=deterministic,
        resume=resume,
        overwrite=overwrite,
        verbose=verbose,
        talk=talk,
    )


def _load_data(settings: dict[str, Any], seed: int, data_dir: Any) -> tuple[Any, Any, Any, Any]:
    """The training samples, their labels (None for 2-D points and unlabelled folders), the
    per-batch transform (uint8 pixels to [-1, 1] for images) and, for a folder of images, the
    :class:`keras_gan.data.folders.ImageFolder`."""
    import numpy as np

    if is_points(settings["dataset"]):
        from keras_gan.data import mixture_of_gaussians

        data = mixture_of_gaussians(settings["dataset"], n=settings["limit"] or 100_000, seed=seed)
        return data.astype(np.float32), None, None, None
    from keras_gan.data import load_arrays, scale_images
    from keras_gan.data.folders import is_image_folder, load_folder

    folder = None
    if is_image_folder(settings["dataset"]):
        folder = load_folder(
            settings["dataset"],
            size=settings.get("image_size"),
            channels=settings.get("channels"),
            resize=settings.get("resize") or "crop",
            verbose=True,
        )
        data, labels = folder.images, folder.labels
    else:
        for key, flag in (("image_size", "--image-size"), ("channels", "--channels")):
            if settings.get(key) is not None:
                raise RunError(
                    f"{flag} applies to a folder of image files; {settings['dataset']!r} is not one"
                )
        data, labels = load_arrays(settings["dataset"], "train", data_dir=data_dir)
    if settings["limit"] is not None:
        data = data[: settings["limit"]]
        labels = None if labels is None else labels[: settings["limit"]]
    return data, labels, scale_images, folder


def _check_labelled(dataset: str, model: str) -> None:
    """Refuse a class-conditional preset on a folder without class sub-folders, before any
    image is decoded."""
    from keras_gan.data.folders import is_image_folder, scan_folder

    if is_image_folder(dataset) and scan_folder(dataset)[1] is None:
        raise RunError(
            f"{model} is class-conditional and needs labelled images; {dataset} has no class "
            "sub-folders (put each class's images in a sub-folder named after it, or train an "
            "unconditional preset such as clustered or dcgan)"
        )


def _clusters(data: Any, n_clusters: int, seed: int, talk: bool) -> Any:
    """k-means clusters of the training samples (:func:`keras_gan.mixture.image_clusters`)."""
    from keras_gan.mixture import image_clusters

    if len(data) < n_clusters:
        raise RunError(
            f"{len(data)} samples cannot make the {n_clusters} clusters this preset conditions "
            "on; raise --limit"
        )
    started = time.perf_counter()
    clusters = image_clusters(data, n_clusters, seed=seed % 2**32)
    if talk:
        print(
            f"clustered {len(data)} samples into {n_clusters} clusters by k-means "
            f"({time.perf_counter() - started:.1f} s)",
            flush=True,
        )
    return clusters


def _classes(dataset: str, labels: Any, folder: Any = None) -> tuple[int, tuple[str, ...] | None]:
    """The number of classes of a labelled dataset and their names when known."""
    import numpy as np

    from keras_gan.data.classes import CLASS_NAMES

    names = folder.class_names if folder is not None else CLASS_NAMES.get(str(dataset))
    if names is not None:
        return len(names), names
    return int(np.max(labels)) + 1, None


def _train_gan(
    out: Path,
    state: directory.RunState,
    settings: dict[str, Any],
    *,
    strategy: str,
    data_dir: Any,
    backup_every: int | None,
    tensorboard: bool,
    deterministic: bool,
    resume: bool,
    overwrite: bool,
    verbose: str | int,
    talk: bool,
) -> TrainedRun:
    import keras
    import numpy as np
    import tensorflow as tf

    from keras_gan import callbacks as cb
    from keras_gan import distribute
    from keras_gan.data import DatasetError
    from keras_gan.data.resumable import resumable_dataset, steps_per_call_for
    from keras_gan.models import PRESETS, build

    from . import workers
    from .backup import StepBackup, fit_phases, restore_step

    # A multi-worker strategy must exist before TensorFlow runs any op.
    try:
        tf_strategy = distribute.get_strategy(strategy)
        backup_dir = out / "backup" if strategy != "multiworker" else workers.backup_dir(out)
    except distribute.StrategyError as error:
        raise RunError(_message(error)) from None
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    chief = bool(distribute.is_chief(tf_strategy))
    seed = _run_seed(settings["seed"], backup_dir)
    keras.utils.set_random_seed(seed)
    points = is_points(settings["dataset"])
    name = settings["model"]
    preset = PRESETS[name] if name in PRESETS else None
    if preset is None:
        raise RunError(f"unknown model {name!r}; expected one of {', '.join(sorted(PRESETS))}")
    k = settings["discriminator_steps"] or preset.discriminator_steps
    step_batch = settings["batch_size"] * k
    epochs = int(settings["epochs"])
    try:
        conditional = preset.conditional is not None
        if conditional and not points:
            _check_labelled(settings["dataset"], name)
        data, labels, transform, folder = _load_data(settings, seed, data_dir)
        if conditional and labels is None:
            raise RunError(
                f"{name} is class-conditional and needs labelled images; "
                f"{settings['dataset']!r} has no labels"
            )
        num_classes, class_names = (
            _classes(settings["dataset"], labels, folder) if conditional else (None, None)
        )
        classes = {"num_classes": num_classes, "class_names": class_names} if conditional else {}
        if preset.clusters is not None:
            # Self-conditioning: the cluster ids take the labels' place (a function of the data
            # and the seed, so a resumed run recomputes the same ones).
            clusters = _clusters(data, preset.clusters, seed, talk)
            labels = clusters.labels
            classes = {"cluster_prior": clusters.prior.tolist()}
        if len(data) < step_batch:
            raise RunError(
                f"{len(data)} samples make no full step batch of {step_batch} "
                f"(batch size {settings['batch_size']} x {k} discriminator steps)"
            )
        sample_shape: tuple[int, ...] = tuple(int(d) for d in data.shape[1:])
        steps_per_epoch = len(data) // step_batch
        gan = distribute.build_in_scope(
            tf_strategy,
            build,
            name,
            image_shape=sample_shape,
            latent_dim=settings["latent_dim"],
            width=settings["width"],
            d_lr=settings["d_lr"],
            g_lr=settings["g_lr"],
            discriminator_steps=settings["discriminator_steps"],
            loss=settings["loss"],
            ema_decay=settings["ema_decay"],
            seed=seed,
            total_steps=epochs * steps_per_epoch,
            # Root mean square of the coordinates: the scale the points preset works at.
            data_scale=float(np.sqrt(np.mean(np.square(data)))) if points else None,
            precision=settings["precision"],
            **classes,
        )
    except (DatasetError, RunError):
        raise
    except ValueError as error:
        raise RunError(_message(error)) from None
    recorded = {key: settings[key] for key in RESUME_SETTINGS}
    recorded.update(
        seed=seed,
        latent_dim=gan.latent_dim,
        discriminator_steps=gan.discriminator_steps,
        loss=gan.loss_pair.name,
        ema_decay=gan.ema_decay,
    )
    chief_by_env = strategy != "multiworker" or distribute.is_chief(environ=os.environ)
    _claim(
        out,
        state,
        backup_dir,
        recorded,
        chief=chief_by_env,
        resume=resume,
        overwrite=overwrite,
        epochs=epochs,
        tensorboard=tensorboard,
    )
    if tf_strategy.num_replicas_in_sync > 1:
        # Batch norm over the global batch, so N replicas compute what one device would.
        distribute.synchronize_batch_norm(gan)

    # Small networks run several steps per call (one graph call, one fetch, one round of
    # callbacks); a divisor of the epoch, so that calls never straddle epochs.
    per_call = steps_per_call_for(steps_per_epoch, preset.point_steps_per_call) if points else 1
    step = restore_step(gan, backup_dir)
    if step % per_call:
        raise RunError(
            f"the backup in {backup_dir} is at step {step}, not a multiple of the {per_call} "
            "steps this run fuses into one call; it was written by another configuration"
        )
    if step and talk:
        print(f"resuming from {backup_dir} at step {step}", flush=True)
    save_every = None if backup_every is None else max(1, backup_every // per_call)
    backup = StepBackup(backup_dir, save_freq=save_every or "epoch", restore_epoch=False)
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
                    tensorboard_dir=out / "tensorboard" if tensorboard else None,
                )
            )
        if tensorboard:
            callbacks.append(keras.callbacks.TensorBoard(str(out / "tensorboard")))
    if talk:
        print(
            f"training {name} on {settings['dataset']}: {gan.generator.count_params():,} "
            f"generator and {gan.discriminator.count_params():,} discriminator parameters, batch "
            f"{settings['batch_size']} x {gan.discriminator_steps} discriminator step(s), "
            f"{epochs} epoch(s) of {steps_per_epoch} steps, {per_call} step(s) per call, "
            f"{tf_strategy.num_replicas_in_sync} replica(s)",
            flush=True,
        )
    started = time.perf_counter()
    phases = fit_phases(step // per_call, epochs, steps_per_epoch // per_call)
    _record_seed(backup_dir, seed)
    for number, (first_epoch, end_epoch, phase_calls, first_call) in enumerate(phases):
        dataset = resumable_dataset(
            (data, labels) if conditional or preset.clusters is not None else data,
            step_batch,
            seed=seed,
            start_step=first_call * per_call,
            total_steps=end_epoch * steps_per_epoch,
            transform=transform,
            steps_per_call=per_call,
        )
        # Keep the backup between the fit calls of a resumed partial epoch and the rest.
        backup.delete_checkpoint = number == len(phases) - 1
        gan.fit(
            dataset,
            initial_epoch=first_epoch,
            epochs=end_epoch,
            steps_per_epoch=phase_calls,
            callbacks=callbacks,
            verbose=verbose,
            shuffle=False,
        )
    if not phases:  # killed after the last epoch's backup: nothing was left to train
        shutil.rmtree(backup_dir, ignore_errors=True)
    seconds = time.perf_counter() - started

    info: dict[str, Any] = {
        "model": name,
        "dataset": settings["dataset"],
        "epochs": epochs,
        "batch_size": settings["batch_size"],
        "discriminator_steps": gan.discriminator_steps,
        "latent_dim": gan.latent_dim,
        "image_shape": list(sample_shape),
        "seed": gan.seed,
        "limit": settings["limit"],
        "steps": int(gan.g_optimizer.iterations.numpy()),
        "loss": gan.loss_pair.name,
        "ema_decay": gan.ema_decay,
        "precision": settings["precision"],
        "strategy": strategy,
        "num_classes": num_classes,
        "class_names": None if class_names is None else list(class_names),
        "clusters": gan.clusters,
        "images": None
        if folder is None
        else {
            "folder": str(folder.root),
            "count": len(data),
            "image_size": folder.image_shape[0],
            "channels": folder.image_shape[2],
            "resize": settings.get("resize") or "crop",
            "cache": str(folder.cache_dir),
            "skipped_files": [{"file": f, "reason": r} for f, r in folder.skipped],
        },
        "train_seconds": round(seconds, 2),
    }
    # Every worker saves (a save may need collectives); only the chief's files are kept.
    target = workers.worker_dir(out, tf_strategy)
    try:
        for model_name, saved in (
            ("model.keras", gan),
            ("generator.keras", gan.sampling_generator),
        ):
            with _atomic.write_with(target / model_name) as tmp:
                saved.save(tmp)
    finally:
        workers.remove_worker_dir(target, out)
    if chief:
        if points:
            info["mode_coverage"] = _evaluate_points(gan, settings["dataset"], out)
        directory.write_run_info(out, info)
        directory.finish(out)
    return TrainedRun(out, gan, info)


def _evaluate_points(gan: Any, kind: str, out: Path) -> dict[str, float]:
    """Mode coverage of 2,500 samples (seed 0) and their scatter plot, ``out/scatter.png``."""
    from keras_gan.data import mixture_centers
    from keras_gan.metrics import mode_coverage
    from keras_gan.plotting import scatter_points

    samples = gan.generate(2500, seed=0)
    centers, std = mixture_centers(kind)
    coverage = mode_coverage(samples, centers, std)
    values = dataclasses.asdict(coverage) if dataclasses.is_dataclass(coverage) else dict(coverage)
    scatter_points(samples, centers, out / "scatter.png", title=f"{gan.name} on {kind}")
    return {key: float(value) for key, value in values.items()}
