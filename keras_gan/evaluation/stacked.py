"""Stacked Fashion-MNIST: how many of its 1000 modes a colour generator covers.

Each channel of each generated image is classified by the project's Fashion-MNIST classifier
(:func:`keras_gan.evaluation.classifier.load_classifier`); :func:`keras_gan.metrics.stacked.
stacked_modes` counts the modes and their KL divergence from uniform. The floor is the same
count on real stacked images made from the test split, which the classifier never trained on
(``keras_gan.data.folders.stacked``). Images of another size than the classifier's are resized
per channel (bilinear).

Example:
    >>> report = evaluate_stacked(load_generator("runs/stacked"), classifier)  # doctest: +SKIP
    >>> report["generated"]["modes"], report["floor"]["modes"]  # doctest: +SKIP
    (1000, 1000)
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from keras_gan.metrics.stacked import expected_modes, stacked_modes

#: The papers' sample count (Metz et al. 2017; Lin et al. 2018).
NUM_SAMPLES = 26_000


def channel_classes(images: np.ndarray, classifier: Any, batch_size: int = 1000) -> np.ndarray:
    """The class of each channel of ``images`` (uint8, or float in [-1, 1]), ``(n, channels)``.

    Example:
        >>> channel_classes(np.zeros((2, 28, 28, 3), np.uint8), clf).shape  # doctest: +SKIP
        (2, 3)
    """
    images = np.asarray(images)
    side = classifier.input_shape[:2]
    codes = np.zeros((len(images), images.shape[-1]), np.int64)
    for start in range(0, len(images), batch_size):
        chunk = images[start : start + batch_size]
        if chunk.dtype == np.uint8:
            chunk = chunk.astype(np.float32) / 127.5 - 1.0
        for c in range(images.shape[-1]):
            channel = chunk[..., c : c + 1]
            if channel.shape[1:3] != tuple(side):
                import tensorflow as tf

                channel = tf.image.resize(channel, side, method="bilinear").numpy()
            probs = classifier.predict(channel)[1]
            codes[start : start + len(chunk), c] = probs.argmax(axis=1)
    return codes


def evaluate_stacked(
    generator: Any,
    classifier: Any,
    num_samples: int = NUM_SAMPLES,
    seed: int = 0,
    floor: bool = True,
    data_dir: Any = None,
) -> dict[str, Any]:
    """Modes and KL of ``num_samples`` generated stacked images, beside the real-data floor.

    Args:
        generator: a :class:`keras_gan.runs.loading.LoadedGenerator` of 3-channel images.
        classifier: the Fashion-MNIST :class:`FeatureClassifier`.
        num_samples: samples to count (26,000, as the papers).
        seed: the latent seed (the floor's stacking seed too).
        floor: also count real stacked test images.
        data_dir: where to look for Fashion-MNIST first.

    Returns:
        ``{"generated": {...}, "floor": {...} | None, "uniform_expected_modes": float}``.

    Raises:
        ValueError: the generator does not make 3-channel images.
    """
    shape = tuple(generator.sample(1, seed=seed).shape[1:])
    if len(shape) != 3 or shape[-1] != 3:
        raise ValueError(
            f"stacked evaluation needs a generator of (H, W, 3) images. Received: {shape}"
        )
    generated = generator.sample(num_samples, seed=seed)
    report: dict[str, Any] = {
        "num_samples": num_samples,
        "seed": seed,
        "generated": dataclasses.asdict(stacked_modes(channel_classes(generated, classifier))),
        "floor": None,
        "uniform_expected_modes": expected_modes(num_samples),
    }
    if floor:
        from keras_gan.data import load_arrays
        from keras_gan.data.folders import stacked

        images, labels = load_arrays("fashion_mnist", "test", data_dir=data_dir)
        real, _ = stacked(images, labels, num_samples, seed=seed)
        report["floor"] = dataclasses.asdict(stacked_modes(channel_classes(real, classifier)))
    return report
