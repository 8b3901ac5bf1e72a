"""``QualityCallback``: sample-quality metrics every N epochs during ``GAN.fit``.

The callback classifies the real reference images once (at the start of training), then at
the end of every ``every``-th epoch (and the last) draws ``num_samples`` images from the
model with a fixed latent seed (``model.generate(num_samples, seed)``, the latent recipe of
every sampler of the library), and adds the metrics to the epoch's logs
as ``quality/<name>`` (so ``History``, :class:`keras_gan.callbacks.HistoryWriter` and Keras'
``TensorBoard`` callback placed after it record them) and, with ``tensorboard_dir``, writes them
as scalars under ``<tensorboard_dir>/quality``.

Example:
    >>> from keras_gan.evaluation import QualityCallback, load_classifier  # doctest: +SKIP
    >>> clf = load_classifier("fashion_mnist")  # doctest: +SKIP
    >>> cb = QualityCallback(clf, real_images, every=5, num_samples=2000)  # doctest: +SKIP
    >>> gan.fit(dataset, epochs=20, callbacks=[cb])  # doctest: +SKIP
    >>> cb.history[-1]["fid"]  # doctest: +SKIP
    35.2
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import keras
import numpy as np

from keras_gan._checks import check_positive_int
from keras_gan.callbacks import epoch_due
from keras_gan.metrics.combined import METRIC_NAMES, compute_metrics

PREFIX = "quality/"


class QualityCallback(keras.callbacks.Callback):
    """Compute chosen quality metrics every ``every`` epochs and log them.

    Args:
        classifier: a :class:`~keras_gan.evaluation.classifier.FeatureClassifier`.
        real_images: reference images (uint8 or float in [-1, 1]), e.g. the test split.
        every: compute after every N-th epoch (and always after the last).
        num_samples: generated images per evaluation.
        metrics: names from :data:`keras_gan.metrics.METRIC_NAMES` (default: fid,
            kid, precision, recall, density, coverage, classes_hit).
        seed: latent seed (the same latents at every evaluation).
        tensorboard_dir: write scalars to ``<dir>/quality``; None disables.
        kid_subsets, kid_subset_size: KID settings (defaults sized for a few thousand samples).

    Attributes:
        history: one dict per evaluation: ``{"epoch": e, "<metric>": value, ...}``.

    Example:
        >>> cb = QualityCallback(clf, test_images, every=2, num_samples=1000)  # doctest: +SKIP
    """

    def __init__(
        self,
        classifier: Any,
        real_images: Any,
        every: int = 1,
        num_samples: int = 2000,
        metrics: tuple[str, ...] | list[str] | None = None,
        seed: int = 0,
        tensorboard_dir: str | os.PathLike[str] | None = None,
        kid_subsets: int = 20,
        kid_subset_size: int = 500,
    ) -> None:
        super().__init__()
        check_positive_int(every, "every")
        check_positive_int(num_samples, "num_samples")
        names = (
            tuple(metrics)
            if metrics is not None
            else ("fid", "kid", "precision", "recall", "density", "coverage", "classes_hit")
        )
        unknown = set(names) - set(METRIC_NAMES)
        if unknown:
            raise ValueError(
                f"unknown metrics {sorted(unknown)}; expected names from {METRIC_NAMES}"
            )
        self.classifier = classifier
        self.real_images = real_images
        self.every = int(every)
        self.num_samples = int(num_samples)
        self.names = names
        self.seed = int(seed)
        self.tensorboard_dir = None if tensorboard_dir is None else Path(tensorboard_dir)
        self.kid_subsets, self.kid_subset_size = int(kid_subsets), int(kid_subset_size)
        self.history: list[dict[str, float]] = []
        self._real: tuple[np.ndarray, np.ndarray] | None = None
        self._writer: Any = None

    def _samples(self) -> np.ndarray:
        return np.asarray(self.model.generate(self.num_samples, seed=self.seed, batch_size=500))

    def compute(self) -> dict[str, float]:
        """The metrics of the model's current generator against the real images.

        Example:
            >>> cb.compute()["fid"]  # doctest: +SKIP
            35.2
        """
        if self._real is None:
            self._real = self.classifier.predict(self.real_images)
        features, probs = self.classifier.predict(self._samples())
        return compute_metrics(
            self._real[0],
            self._real[1],
            features,
            probs,
            names=self.names,
            kid_subsets=self.kid_subsets,
            kid_subset_size=self.kid_subset_size,
            seed=self.seed,
        )

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Compute the chosen metrics every ``every`` epochs and after the last; log them."""
        if not epoch_due(self, epoch, self.every):
            return
        values = self.compute()
        self.history.append({"epoch": float(epoch + 1), **values})
        if logs is not None:
            logs.update({PREFIX + k: v for k, v in values.items()})
        if self.tensorboard_dir is not None:
            import tensorflow as tf

            if self._writer is None:
                self._writer = tf.summary.create_file_writer(str(self.tensorboard_dir / "quality"))
            with self._writer.as_default():
                for name, value in values.items():
                    tf.summary.scalar(PREFIX + name, value, step=epoch + 1)
            self._writer.flush()
