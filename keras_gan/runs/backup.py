"""Backups of a training run: written aside and renamed, the previous one kept, restored exactly.

Everything random in a training step is a function of the generator optimizer's
``iterations`` (the noise) and of the step number (the data order, see
:func:`keras_gan.data.resumable.resumable_dataset`), and the only stateful random generators of
the networks (``keras.random.SeedGenerator`` of dropout layers) are saved with the weights by
:class:`~keras_gan.models.GAN`. :class:`StepBackup` (a ``keras.callbacks.BackupAndRestore``)
writes the weights, both optimizers (their ``iterations`` included) and those generator states,
so a run killed at any moment and restarted from its last backup replays exactly the steps an
uninterrupted run would have taken.

Example:
    >>> fit_phases(5, 3, 4)  # resume at step 5 of a 3-epoch run of 4 steps an epoch
    [(1, 2, 3, 5), (2, 3, 4, 8)]
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import keras
import numpy as np

from keras_gan import _atomic
from keras_gan.callbacks import NonFiniteLossError


class BackupError(RuntimeError):
    """No backup in a directory could be restored (each one's fault is named).

    Example:
        >>> str(BackupError("runs/x/backup: latest.weights.h5 is damaged"))
        'runs/x/backup: latest.weights.h5 is damaged'
    """


# A backup is a weights file and Keras' training metadata. The newest pair is "latest", the one
# before it "previous": a new backup is written aside (hidden temporary files, fsynced), the
# latest pair is renamed to previous, and the new pair renamed into place, so a kill at any
# moment leaves at least one complete pair, and a damaged latest falls back to previous.
_PAIRS = (
    ("latest.weights.h5", "training_metadata.json"),
    ("previous.weights.h5", "previous_training_metadata.json"),
)


def non_finite_weights(model: keras.Model) -> list[str]:
    """The paths of ``model``'s floating-point variables holding a NaN or an infinity.

    Example:
        >>> non_finite_weights(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))
        []
    """
    bad = []
    for variable in model.variables:
        value = keras.ops.convert_to_numpy(variable.value)
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            bad.append(variable.path)
    return bad


def load_backup(model: keras.Model, directory: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Load the newest backup in ``directory`` that loads whole; return its training metadata.

    A damaged ``latest`` backup (torn by a crash, truncated) is reported on stderr and the
    ``previous`` one is used, then made the latest. Returns None when there is no backup.

    Raises:
        BackupError: backups exist but none of them loads.

    Example:
        >>> load_backup(gan, "runs/x/backup")  # doctest: +SKIP
        {'epoch': 1, 'batch': 2}
    """
    directory = Path(directory)
    faults = []
    for index, (weights_name, metadata_name) in enumerate(_PAIRS):
        weights = directory / weights_name
        if not weights.is_file():
            continue
        try:
            model.load_weights(weights)
            metadata_path = directory / metadata_name
            metadata = json.loads(metadata_path.read_text()) if metadata_path.is_file() else {}
        except Exception as error:  # h5py and Keras raise many kinds for a damaged file
            faults.append(f"{weights_name}: {type(error).__name__}: {error}")
            continue
        if index:
            print(
                f"keras-gan: the latest backup in {directory} is damaged ({faults[0]}); "
                f"restored the previous one ({weights_name})",
                file=sys.stderr,
            )
            for source, target in zip(_PAIRS[index], _PAIRS[0], strict=True):
                if (directory / source).is_file():
                    os.replace(directory / source, directory / target)
        return metadata if isinstance(metadata, dict) else {}
    if faults:
        raise BackupError(
            f"no backup in {directory} can be restored ({'; '.join(faults)}); start over with "
            "--overwrite"
        )
    return None


class StepBackup(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` that also saves at the end of every epoch when saving every N steps,
    never writes a backup in place, and never backs up non-finite weights.

    Keras' callback saves EITHER per epoch or per N batches; saving at each epoch end too
    means a run trained in several ``fit`` calls (a resumed partial epoch, then the rest, see
    :func:`restore_step`) always restarts from the latest state. What is saved is
    ``model.save_weights``: the networks, both optimizers with their ``iterations`` (which key
    the GAN's noise), the EMA generator and the dropout seed states (:class:`GAN` saves them).
    Each backup is written aside and renamed into place, keeping the one before it
    (``previous.weights.h5``), which :func:`load_backup` falls back to when the latest is
    damaged. Before writing, the weights are checked: a NaN or infinity raises
    :class:`keras_gan.callbacks.NonFiniteLossError` and the last good backup stays.

    Args:
        backup_dir: the backup directory (one per process, see
            :func:`keras_gan.runs.directory.backup_dir`).
        save_freq: ``"epoch"`` or a number of steps.
        delete_checkpoint: remove the backup when ``fit`` ends normally.
        restore_epoch: make ``fit`` start at the backup's epoch, as ``BackupAndRestore`` does
            (through Keras' private ``_initial_epoch``, the only route it offers). Pass False
            when the caller computes ``initial_epoch`` itself (:func:`fit_phases`).

    Example:
        >>> backup = StepBackup("runs/x/backup", save_freq=50)
    """

    def __init__(
        self,
        backup_dir: str | os.PathLike[str],
        save_freq: str | int = "epoch",
        delete_checkpoint: bool = True,
        restore_epoch: bool = True,
    ) -> None:
        super().__init__(
            os.fspath(backup_dir), save_freq=save_freq, delete_checkpoint=delete_checkpoint
        )
        self.restore_epoch = bool(restore_epoch)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Restore the newest backup that loads (see :func:`load_backup`)."""
        if not self.model.built:
            raise ValueError(
                f"StepBackup needs a built model before fit(); {self.model.name} is not built"
            )
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        metadata = load_backup(self.model, self.backup_dir)
        if self.restore_epoch and metadata and "epoch" in metadata:
            self.model._initial_epoch = metadata["epoch"]

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Save a backup at the end of each epoch, as well as every ``save_freq`` steps."""
        super().on_epoch_end(epoch, logs)
        if self.save_freq != "epoch":
            self._save_model()

    # Keras' BackupAndRestore calls ``_save_model`` for both its per-epoch and per-N-step saves;
    # overriding that hook (rather than re-implementing the callback) keeps its scheduling.
    def _save_model(self) -> None:
        directory = Path(self.backup_dir)
        bad = non_finite_weights(self.model)
        if bad:
            raise NonFiniteLossError(
                f"{len(bad)} weight tensor(s) became NaN or infinite ({', '.join(bad[:3])}) "
                f"by step {_step(self.model)}: training diverged (try lower learning "
                "rates or a gradient penalty); the last good checkpoint is kept in "
                f"{directory} (rerun with --resume after fixing the cause)"
            )
        directory.mkdir(parents=True, exist_ok=True)
        metadata = {"epoch": self._current_epoch, "batch": self._last_batch_seen}
        (weights, metadata_name), previous = _PAIRS
        staged_weights = _atomic.temporary_sibling(directory / weights)
        staged_metadata = _atomic.temporary_sibling(directory / metadata_name)
        try:
            self.model.save_weights(staged_weights, overwrite=True)
            _atomic.write_bytes(staged_metadata, json.dumps(metadata).encode(), durable=True)
            with open(staged_weights, "rb") as handle:
                os.fsync(handle.fileno())
            for name, kept in zip(_PAIRS[0], previous, strict=True):
                if (directory / name).is_file():
                    os.replace(directory / name, directory / kept)
            os.replace(staged_weights, directory / weights)
            os.replace(staged_metadata, directory / metadata_name)
            _atomic.fsync_dir(directory)
        finally:
            staged_weights.unlink(missing_ok=True)
            staged_metadata.unlink(missing_ok=True)


def _step(model: keras.Model) -> int:
    optimizer = getattr(model, "g_optimizer", None) or model.optimizer
    return int(optimizer.iterations.numpy())


def backup_weights(directory: str | os.PathLike[str]) -> Path:
    """The weights file ``BackupAndRestore`` keeps in ``directory``.

    Example:
        >>> backup_weights("runs/x/backup").name
        'latest.weights.h5'
    """
    return Path(directory) / _PAIRS[0][0]


def restore_step(model: keras.Model, directory: str | os.PathLike[str]) -> int:
    """Load the backup in ``directory`` (if any) into ``model`` and return its training step.

    The step is the generator optimizer's ``iterations`` (one per ``train_step``), restored
    with the weights. Use it to build the data from that step (:func:`resumable_dataset`) and
    to split the remaining work into ``fit`` calls: ``divmod(step, steps_per_epoch)`` gives the
    epoch to resume and how many of its steps are done. A damaged latest backup falls back to
    the previous one (:func:`load_backup`).

    Raises:
        BackupError: no backup in ``directory`` loads.

    Example:
        >>> restore_step(gan, "runs/x/backup")  # doctest: +SKIP
        120
    """
    if load_backup(model, directory) is None:
        return 0
    return _step(model)


def fit_phases(step: int, epochs: int, steps_per_epoch: int) -> list[tuple[int, int, int, int]]:
    """The ``fit`` calls that finish a run from ``step``: ``(initial_epoch, epochs,
    steps_per_epoch, first_step)`` each.

    A run resumed inside an epoch first finishes that epoch (fewer steps), then runs the
    remaining whole epochs.

    Example:
        >>> fit_phases(5, 3, 4)
        [(1, 2, 3, 5), (2, 3, 4, 8)]
        >>> fit_phases(0, 2, 4)
        [(0, 2, 4, 0)]
    """
    epoch, done = divmod(step, steps_per_epoch)
    phases = []
    if done and epoch < epochs:
        phases.append((epoch, epoch + 1, steps_per_epoch - done, step))
        epoch += 1
    if epoch < epochs:
        phases.append((epoch, epochs, steps_per_epoch, epoch * steps_per_epoch))
    return phases
