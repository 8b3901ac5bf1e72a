"""Where each process of a multi-worker run writes: its own backup, and a throw-away save target.

Example:
    >>> backup_dir("runs/x", environ={}).as_posix()
    'runs/x/backup'
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import tensorflow as tf

from keras_gan.distribute import get_strategy, is_chief, task

__all__ = ["backup_dir", "get_strategy", "remove_worker_dir", "worker_dir"]


def backup_dir(out: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> Path:
    """The ``BackupAndRestore`` directory of this process: ``OUT/backup`` for the chief (and
    single-process runs), ``OUT/backup-<type>-<index>`` for the other workers of a cluster.

    Every worker keeps its own backup, so each can restore after a restart; the weights are
    synchronised, so all hold the same state.

    Example:
        >>> backup_dir("runs/x", environ={}).as_posix()
        'runs/x/backup'
    """
    out = Path(out)
    current = task(environ)
    if current is None or is_chief(environ=environ):
        return out / "backup"
    return out / f"backup-{current[0]}-{current[1]}"


def worker_dir(out: str | os.PathLike[str], strategy: tf.distribute.Strategy | None = None) -> Path:
    """Where this process saves models: ``out`` on the chief, a fresh temporary directory on
    the other workers.

    Under a multi-worker strategy every worker must take part in saving (a save may read
    variables that need collectives), but only the chief's files are kept: the Keras
    multi-worker guide's recipe. Remove a worker's directory with :func:`remove_worker_dir`.

    Example:
        >>> worker_dir("runs/x", get_strategy()).as_posix()
        'runs/x'
    """
    if is_chief(strategy):
        return Path(out)
    return Path(tempfile.mkdtemp(prefix="keras-gan-worker-"))


def remove_worker_dir(path: str | os.PathLike[str], out: str | os.PathLike[str]) -> None:
    """Delete a directory from :func:`worker_dir` unless it is the run directory itself.

    Example:
        >>> remove_worker_dir("runs/x", "runs/x")  # the chief's: kept
    """
    if Path(path).resolve() != Path(out).resolve():
        shutil.rmtree(path, ignore_errors=True)
