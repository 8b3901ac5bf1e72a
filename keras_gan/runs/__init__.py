"""Training runs: the run directory (written and read here), the resumable fit, one loader.

- :func:`train` builds a preset, fits it under a ``tf.distribute`` strategy with backups and
  exact resume, and writes a run directory (:mod:`keras_gan.runs.training`); ``model="gmm"``
  fits the Gaussian mixture instead (:mod:`keras_gan.runs.mixture`);
- :mod:`keras_gan.runs.directory`: the run directory's manifest and files;
- :mod:`keras_gan.runs.backup`: backups written aside and restored exactly;
- :mod:`keras_gan.runs.workers`: where each process of a multi-worker run writes;
- :func:`load_generator` turns any target (run directory, ``.keras``, mixture, SavedModel,
  ONNX, export base) into a sampler; :func:`load_source` loads what ``keras-gan export`` takes.

Names are handed on lazily, so ``keras_gan.runs.settings`` and ``keras_gan.runs.directory``
import without TensorFlow.

Example:
    >>> from keras_gan import runs
    >>> run = runs.train("resize_conv", "fashion_mnist", out="runs/demo", resume=True)
    ... # doctest: +SKIP
    >>> runs.load_generator("runs/demo").sample(16, seed=0).shape  # doctest: +SKIP
    (16, 28, 28, 1)
"""

from __future__ import annotations

from keras_gan._lazy import lazy_exports

_EXPORTS = {
    "train": ".training",
    "TrainedRun": ".directory",
    "train_mixture": ".mixture",
    "RunError": ".directory",
    "RunState": ".directory",
    "read_run_info": ".directory",
    "load_generator": ".loading",
    "load_source": ".loading",
    "LoadedGenerator": ".loading",
    "BackupError": ".backup",
    "StepBackup": ".backup",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
