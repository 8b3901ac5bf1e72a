"""Training side effects as Keras callbacks: sample grids, history and loss plots, divergence guard.

Example:
    >>> callbacks = [
    ...     DivergenceGuard(),
    ...     SampleGrid("runs/dcgan/samples", n=64, seed=0),
    ...     HistoryWriter("runs/dcgan"),
    ... ]
    >>> gan.fit(dataset, epochs=5, callbacks=callbacks)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import keras
import numpy as np

from keras_gan import _atomic
from keras_gan._checks import check_positive_int
from keras_gan.plotting import plot_history
from keras_gan.serving.images import save_grid, tile_images, to_uint8


class NonFiniteLossError(RuntimeError):
    """A logged loss became NaN or infinite; training was stopped.

    Example:
        >>> try:
        ...     raise NonFiniteLossError("d_loss is nan at epoch 3")
        ... except RuntimeError as error:
        ...     print(error)
        d_loss is nan at epoch 3
    """


def epoch_due(callback: keras.callbacks.Callback, epoch: int, every: int) -> bool:
    """True when 0-based ``epoch`` is every ``every``-th one or the last of the ``fit`` call.

    Example:
        >>> cb = keras.callbacks.Callback()
        >>> cb.set_params({"epochs": 5})
        >>> [e for e in range(5) if epoch_due(cb, e, every=2)]
        [1, 3, 4]
    """
    last = callback.params.get("epochs") if callback.params else None
    return (epoch + 1) % every == 0 or (last is not None and epoch + 1 == last)


class DivergenceGuard(keras.callbacks.Callback):
    """Stop training with a clear error when a logged value becomes NaN or infinite.

    It RAISES instead of setting ``stop_training``: a normal end would let
    ``BackupAndRestore`` delete its backup, while an exception keeps the last good one (the
    backup is written only at the end of a healthy epoch or batch interval). Put it BEFORE
    ``BackupAndRestore`` in the callback list so a bad step is caught before anything is saved.

    Args:
        monitor: log keys to check (all numeric logs when None).
        backup_dir: where the kept checkpoint lives, named in the message.

    Example:
        >>> guard = DivergenceGuard(monitor=("d_loss", "g_loss"))
    """

    def __init__(self, monitor: tuple[str, ...] | None = None, backup_dir: str | None = None):
        super().__init__()
        self.monitor = monitor
        self.backup_dir = backup_dir
        self._epoch = 0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Remember the epoch for the error message."""
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Stop training with a clear error when a monitored log value is NaN or infinite."""
        for key, value in (logs or {}).items():
            if self.monitor is not None and key not in self.monitor:
                continue
            try:
                number = float(np.asarray(value))
            except (TypeError, ValueError):
                continue
            if not math.isfinite(number):
                kept = (
                    f"; the last good checkpoint is kept in {self.backup_dir} "
                    "(rerun with --resume after fixing the cause)"
                    if self.backup_dir
                    else ""
                )
                raise NonFiniteLossError(
                    f"{key} became {number} at epoch {self._epoch + 1}, batch {batch + 1}: "
                    "training diverged (try lower learning rates, a gradient penalty, or check "
                    f"the data for NaN/Inf values){kept}"
                )


class SampleGrid(keras.callbacks.Callback):
    """Write a grid of samples from a FIXED latent batch at the end of every N-th epoch.

    For a class-conditional model the grid has one row per class (``n // num_classes`` samples
    a row), named on the left. Images are enlarged to be seen (``serving.images.default_scale``:
    28 pixels to 112).

    Files are ``<directory>/epoch_NNN.png``; with ``tensorboard_dir`` the same grid is also
    logged as an image summary (``samples``) beside Keras' TensorBoard scalars.

    Args:
        directory: output directory (created).
        n: number of samples (a square number gives a square grid).
        seed: seed of the fixed latent batch.
        every: write every N epochs (and always after the last one).
        tensorboard_dir: TensorBoard log directory, or None.

    Example:
        >>> grid = SampleGrid("runs/dcgan/samples", n=64, seed=0)
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        n: int = 64,
        seed: int = 0,
        every: int = 1,
        tensorboard_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__()
        self.directory = Path(directory)
        self.n = check_positive_int(n, "n")
        self.every = check_positive_int(every, "every")
        self.seed = int(seed)
        self.tensorboard_dir = None if tensorboard_dir is None else Path(tensorboard_dir)
        self._writer = None
        self.last_path: Path | None = None

    def write(self, epoch: int) -> Path:
        """Write the grid for ``epoch`` (0-based) and return its path.

        Example:
            >>> grid.write(0)  # doctest: +SKIP
            PosixPath('runs/dcgan/samples/epoch_001.png')
        """
        # The latent recipe of ``GAN.generate`` and of exports: the grid after the last epoch
        # shows the images ``Sampler(export).sample(n, seed)`` returns.
        num_classes = getattr(self.model, "num_classes", None)
        if num_classes:  # one row per class
            columns = max(1, self.n // num_classes)
            labels = np.repeat(np.arange(num_classes, dtype=np.int32), columns)
            images = self.model.generate(len(labels), labels=labels, seed=self.seed)
            names = getattr(self.model, "class_names", None)
            row_labels = list(names) if names else [str(c) for c in range(num_classes)]
        else:
            images = self.model.generate(self.n, seed=self.seed)
            columns, row_labels = None, None
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"epoch_{epoch + 1:03d}.png"
        save_grid(images, path, columns=columns, row_labels=row_labels)
        self.last_path = path
        if self.tensorboard_dir is not None:
            import tensorflow as tf

            if self._writer is None:
                self._writer = tf.summary.create_file_writer(str(self.tensorboard_dir / "train"))
            grid = tile_images(to_uint8(images))
            with self._writer.as_default():
                tf.summary.image("samples", grid[np.newaxis], step=epoch + 1)
            self._writer.flush()
        return path

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Write the grid from the fixed latent batch every ``every`` epochs and after the last."""
        if epoch_due(self, epoch, self.every):
            self.write(epoch)


class HistoryWriter(keras.callbacks.Callback):
    """Keep ``history.json`` up to date every epoch and draw ``loss.png`` when training ends.

    Resumed runs keep the epochs already recorded (entries are keyed by epoch).

    Args:
        directory: run directory.

    Example:
        >>> writer = HistoryWriter("runs/dcgan")
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        super().__init__()
        self.directory = Path(directory)
        self.history_path = self.directory / "history.json"
        self.plot_path = self.directory / "loss.png"
        self.epochs: dict[int, dict[str, float]] = {}

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Load the history of a resumed run so the files cover every epoch."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.history_path.is_file():
            try:
                saved = json.loads(self.history_path.read_text())
                self.epochs = {int(e["epoch"]) - 1: e for e in saved.get("epochs", [])}
            except (ValueError, KeyError, TypeError):
                self.epochs = {}

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Record the epoch's logs and rewrite the JSON history atomically."""
        row = {"epoch": epoch + 1}
        for key, value in (logs or {}).items():
            try:
                row[key] = float(np.asarray(value))
            except (TypeError, ValueError):
                continue
        self.epochs = {e: r for e, r in self.epochs.items() if e < epoch}
        self.epochs[epoch] = row
        _atomic.write_json(
            self.history_path, {"epochs": [self.epochs[e] for e in sorted(self.epochs)]}
        )

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Write the final history and loss plot."""
        if self.epochs:
            plot_history([self.epochs[e] for e in sorted(self.epochs)], self.plot_path)
