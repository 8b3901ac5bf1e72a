"""Class coverage of generated samples as judged by a classifier (mode collapse on labels).

For generated images the classifier's probabilities give: the number of classes hit by the
argmax, the KL divergence of the predicted class histogram against the real one, and the mean
of the maximum probability (how confidently the samples look like some class).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np


@dataclasses.dataclass(frozen=True)
class ClassCoverage:
    """Class statistics of generated samples.

    Attributes:
        classes_hit: number of classes that are the argmax of at least one sample.
        num_classes: number of classes of the classifier.
        kl: ``KL(generated histogram || real histogram)`` in nats (0 = same class balance;
            ``log(num_classes)`` for a balanced reference and a single collapsed class).
        confidence: mean over samples of the maximum class probability.
        histogram: fraction of generated samples per predicted class.

    Example:
        >>> ClassCoverage(10, 10, 0.0, 0.9, (0.1,) * 10).classes_hit
        10
    """

    classes_hit: int
    num_classes: int
    kl: float
    confidence: float
    histogram: tuple[float, ...]


def class_histogram(labels_or_probs: Any, num_classes: int) -> np.ndarray:
    """Fraction of rows per class, from integer labels ``(n,)`` or probabilities ``(n, C)``.

    Example:
        >>> class_histogram([0, 0, 1, 3], 4).tolist()
        [0.5, 0.25, 0.0, 0.25]
    """
    array = np.asarray(labels_or_probs)
    labels = array.argmax(axis=1) if array.ndim == 2 else array.astype(np.int64)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(
            f"expected labels (n,) or probabilities (n, {num_classes}) with n >= 1. "
            f"Received: shape={array.shape}"
        )
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(
            f"labels must be in [0, {num_classes}). Received: min={labels.min()}, "
            f"max={labels.max()}"
        )
    return np.bincount(labels, minlength=num_classes) / labels.size


def class_coverage(probs: Any, reference: Any, eps: float = 1e-10) -> ClassCoverage:
    """Classes hit, KL against the reference class histogram, and mean confidence.

    Args:
        probs: the classifier's class probabilities on generated samples ``(n, C)``.
        reference: the real class balance: integer labels ``(m,)``, probabilities ``(m, C)``
            (the classifier's predictions on real images, argmax taken), or a histogram
            ``(C,)`` of floats summing to 1.
        eps: added to the reference histogram so a class absent from it keeps the KL finite.

    Returns:
        A :class:`ClassCoverage`.

    Example:
        >>> collapsed = np.tile(np.eye(10)[3], (100, 1))
        >>> result = class_coverage(collapsed, np.arange(1000) % 10)
        >>> result.classes_hit, round(result.kl, 4), result.confidence
        (1, 2.3026, 1.0)
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] < 2:
        raise ValueError(
            f"probs must be class probabilities (n, C) with n >= 1 and C >= 2. "
            f"Received: probs.shape={p.shape}"
        )
    num_classes = p.shape[1]
    ref = np.asarray(reference)
    if ref.ndim == 1 and np.issubdtype(ref.dtype, np.floating) and ref.shape[0] == num_classes:
        if not np.isclose(ref.sum(), 1.0, atol=1e-6) or np.any(ref < 0):
            raise ValueError(f"a reference histogram must be >= 0 and sum to 1. Received: {ref}")
        ref_hist = ref.astype(np.float64)
    else:
        ref_hist = class_histogram(ref, num_classes)
    hist = class_histogram(p, num_classes)
    q = (ref_hist + eps) / (ref_hist + eps).sum()
    nonzero = hist > 0
    kl = float(np.sum(hist[nonzero] * np.log(hist[nonzero] / q[nonzero])))
    return ClassCoverage(
        classes_hit=int(np.count_nonzero(hist)),
        num_classes=int(num_classes),
        kl=max(kl, 0.0),
        confidence=float(p.max(axis=1).mean()),
        histogram=tuple(float(v) for v in hist),
    )
