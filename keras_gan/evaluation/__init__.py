"""Evaluation above the models: the feature classifier, the ``evaluate`` pipeline, the quality
callback.

- :mod:`keras_gan.evaluation.classifier`: a small CNN trained once per dataset and cached,
  whose features and class probabilities the measures of :mod:`keras_gan.metrics` use;
- :mod:`keras_gan.evaluation.pipeline`: :func:`evaluate` scores any generator target against a
  test split and writes the report;
- :mod:`keras_gan.evaluation.quality_callback`: :class:`QualityCallback`, the same measures
  every N epochs of ``fit``.

Names are handed on lazily (each module imports TensorFlow or Keras).

Example:
    >>> from keras_gan.evaluation import evaluate
    >>> report = evaluate("runs/dcgan", num_samples=10000)  # doctest: +SKIP
"""

from __future__ import annotations

from keras_gan._lazy import lazy_exports

_EXPORTS = {
    "FeatureClassifier": ".classifier",
    "load_classifier": ".classifier",
    "train_classifier": ".classifier",
    "classifier_dir": ".classifier",
    "QualityCallback": ".quality_callback",
    "Reference": ".pipeline",
    "evaluate": ".pipeline",
    "format_table": ".pipeline",
    "format_per_class": ".pipeline",
    "per_class_metrics": ".pipeline",
    "markdown_summary": ".pipeline",
    "default_out_dir": ".pipeline",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
