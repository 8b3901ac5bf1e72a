"""The settings of a training run: which models and data, what a resumed run keeps, the defaults.

Standard library only at import (the command line builds its parser from these names without
importing TensorFlow); :func:`resolve_settings` reads a 2-D preset's training defaults from
:mod:`keras_gan.models` when it needs them.

Example:
    >>> default_model("ring"), default_model("fashion_mnist")
    ('points', 'clustered')
    >>> "seed" in RESUME_SETTINGS
    True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import directory

#: Model names ``keras_gan.runs.train`` accepts (the presets, and the Gaussian mixture).
MODELS = (
    "clustered",
    "resize_conv",
    "gan",
    "dcgan",
    "wgan",
    "wgan_gp",
    "points",
    "cgan",
    "acgan",
    "gmm",
)
#: Datasets of 2-D points (everything else is images).
POINT_DATASETS = ("ring", "grid")
#: The model when none is given: the recommended preset for the kind of data.
DEFAULT_IMAGE_MODEL = "clustered"
DEFAULT_POINT_MODEL = "points"
#: Epochs and batch size of an image run when not given (2-D runs take their preset's).
IMAGE_EPOCHS = 5
IMAGE_BATCH_SIZE = 128

#: Settings a resumed run keeps (the recorded ones are its defaults): setting -> its
#: command-line flag, named in messages.
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
    "image_size": "--image-size",
    "channels": "--channels",
    "resize": "--resize",
}
#: Defaults applied after the recorded settings of a resumed run (``model``, ``batch_size``
#: and ``epochs`` depend on the data: see :func:`default_model`).
DEFAULTS = {"dataset": "fashion_mnist", "precision": "float32", "resize": "crop"}


def is_points(dataset: str | None) -> bool:
    """Whether ``dataset`` names 2-D points rather than images.

    Example:
        >>> is_points("grid"), is_points("mnist")
        (True, False)
    """
    return dataset in POINT_DATASETS


def default_model(dataset: str | None) -> str:
    """The recommended model for ``dataset``: :data:`DEFAULT_POINT_MODEL` for 2-D points,
    :data:`DEFAULT_IMAGE_MODEL` for images.

    Example:
        >>> default_model(None)
        'clustered'
    """
    return DEFAULT_POINT_MODEL if is_points(dataset) else DEFAULT_IMAGE_MODEL


def resolve_settings(
    out: Path, given: dict[str, Any], *, resume: bool, overwrite: bool, chief: bool
) -> tuple[directory.RunState, dict[str, Any]]:
    """Check ``out`` and the given settings before any work, and fill in the run's settings:
    the recorded ones on ``resume``, then the defaults (:func:`_resolve_defaults`). Nothing is
    written or removed here.

    Args:
        out: the run directory.
        given: the settings passed (None where left out).
        resume: continue the interrupted run in ``out``.
        overwrite: replace the run in ``out``.
        chief: this process owns ``out`` (False on the other workers of a cluster, which only
            read the chief's manifest).

    Returns:
        ``(state, settings)``: what ``out`` holds, and every setting filled in.

    Raises:
        RunError: ``out`` cannot be used so, or a given setting contradicts a resumed run's.

    Example:
        >>> import tempfile
        >>> state, settings = resolve_settings(
        ...     Path(tempfile.mkdtemp()), {"dataset": "ring"}, resume=False, overwrite=False,
        ...     chief=True)
        >>> state.state, settings["model"], settings["precision"]
        ('new', 'points', 'float32')
    """
    if chief:
        state = directory.inspect_run(out)
    elif resume and (out / directory.MANIFEST).is_file():
        state = directory.inspect_run(out)  # a worker only reads the chief's manifest
    else:
        state = directory.RunState(out, "new")
    directory.check_reuse(state, resume=resume, overwrite=overwrite)
    recorded = directory.resolve_settings(
        state,
        {key: given.get(key) for key in RESUME_SETTINGS},
        resume=resume,
        option=RESUME_SETTINGS,
    )
    settings = dict(given)
    for key, value in recorded.items():
        settings[key] = DEFAULTS.get(key) if value is None else value
    _resolve_defaults(settings)
    return state, settings


def _resolve_defaults(settings: dict[str, Any]) -> None:
    """Fill ``model``, ``epochs`` and ``batch_size`` left out (after a resumed run's recorded
    settings): the recommended preset for the data, and its recommended training for 2-D
    mixtures."""
    points = is_points(settings["dataset"])
    if settings.get("model") is None:
        settings["model"] = default_model(settings["dataset"])
    preset = None
    if points and settings["model"] != "gmm":
        from keras_gan.models import PRESETS

        preset = PRESETS[settings["model"]]
    if settings.get("epochs") is None:
        settings["epochs"] = preset.point_epochs if preset is not None else IMAGE_EPOCHS
    if settings.get("batch_size") is None:
        settings["batch_size"] = preset.point_batch_size if preset is not None else IMAGE_BATCH_SIZE
