"""A synthetic 10-class image dataset a tiny classifier learns in seconds, and generators for it.

Class ``c`` is a bright 4x4 square in cell ``c`` of a 4x4 grid of a 16x16 image, over noise.
The generators are plain Keras layers (softmax -> dense -> reshape), so they save as ``.keras``
and export like any model: ``z[:, :10]`` picks the class, the dense kernel holds the templates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

SIZE = 16
CLASSES = 10
LATENT = 10


def template(c: int) -> np.ndarray:
    """The noiseless image of class ``c`` in [0, 255]."""
    image = np.full((SIZE, SIZE), 20.0)
    row, col = divmod(c, 4)
    image[row * 4 : row * 4 + 4, col * 4 : col * 4 + 4] = 235.0
    return image


def make_images(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 images ``(n, 16, 16)`` of the given classes with pixel noise."""
    images = np.stack([template(int(c)) for c in labels]) + rng.normal(
        0, 15, (len(labels), SIZE, SIZE)
    )
    return np.clip(images, 0, 255).astype(np.uint8)


def write_dataset(directory: Path, n_train: int = 600, n_test: int = 300) -> Path:
    """Balanced train and test IDX files in ``directory``."""
    from keras_gan.data import write_idx

    rng = np.random.default_rng(0)
    directory.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.permutation(np.arange(n) % CLASSES).astype(np.uint8)
        write_idx(directory / f"{prefix}-images-idx3-ubyte.gz", make_images(labels, rng))
        write_idx(directory / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return directory


def template_generator(classes: list[int] | None = None):
    """A Keras generator ``z (n, 10) -> images (n, 16, 16, 1)`` drawing the class templates.

    ``classes[i]`` is the template drawn when ``z[:, i]`` is the largest entry (default: class
    ``i``, a balanced generator); ``[3] * 10`` gives a generator collapsed onto class 3.
    """
    import keras

    classes = list(range(CLASSES)) if classes is None else classes
    z = keras.Input((LATENT,), name="z")
    one_hot = keras.layers.Dense(LATENT, activation="softmax", use_bias=False, name="pick")(z)
    flat = keras.layers.Dense(SIZE * SIZE, use_bias=False, name="draw")(one_hot)
    images = keras.layers.Reshape((SIZE, SIZE, 1))(flat)
    model = keras.Model(z, images, name="template_generator")
    model.get_layer("pick").set_weights([np.eye(LATENT, dtype=np.float32) * 50.0])
    kernel = np.stack([template(c).ravel() / 127.5 - 1.0 for c in classes]).astype(np.float32)
    model.get_layer("draw").set_weights([kernel])
    return model


def conditional_template_generator(classes: list[int] | None = None):
    """A class-conditional generator ``[z (n, 10), labels (n,)] -> images (n, 16, 16, 1)``.

    Label ``c`` draws the template of ``classes[c]`` (default: class ``c``); ``z`` only adds a
    little noise. ``[(c + 1) % 10 for c in range(10)]`` gives a generator that always draws the
    wrong class.
    """
    import keras

    classes = list(range(CLASSES)) if classes is None else classes
    z = keras.Input((LATENT,), name="z")
    labels = keras.Input((), dtype="int32", name="labels")
    one_hot = keras.layers.Embedding(CLASSES, CLASSES, name="embed")(labels)
    flat = keras.layers.Dense(SIZE * SIZE, use_bias=False, name="draw")(one_hot)
    noise = keras.layers.Dense(SIZE * SIZE, use_bias=False, name="noise")(z)
    images = keras.layers.Reshape((SIZE, SIZE, 1))(keras.layers.Add()([flat, noise]))
    model = keras.Model([z, labels], images, name="conditional_template_generator")
    model.get_layer("embed").set_weights([np.eye(CLASSES, dtype=np.float32)])
    kernel = np.stack([template(c).ravel() / 127.5 - 1.0 for c in classes]).astype(np.float32)
    model.get_layer("draw").set_weights([kernel])
    rng = np.random.default_rng(1)
    model.get_layer("noise").set_weights(
        [rng.normal(0, 0.02, (LATENT, SIZE * SIZE)).astype("float32")]
    )
    return model


EPOCHS = 5
BATCH = 16


def train_tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path, Path]:
    """``(classifier, dataset_dir, cache_dir)``: a classifier trained once on the synthetic set."""
    from keras_gan.evaluation.classifier import train_classifier

    data = write_dataset(tmp_path_factory.mktemp("data"))
    cache = tmp_path_factory.mktemp("cache")
    return train_classifier(data, epochs=EPOCHS, batch_size=BATCH, cache_dir=cache), data, cache
