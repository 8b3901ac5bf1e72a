"""The feature classifier: a small CNN trained on the evaluation dataset, cached on disk.

Inception weights cannot be downloaded offline, so FID, KID and precision/recall are computed
in the feature space of a classifier trained here on the same dataset (as TF-GAN's MNIST
evaluation does). Features are its penultimate layer (128 ReLU units); its class probabilities
give the class coverage. Scores are comparable only between runs that share the classifier,
so its identity (a hash of its architecture and weights, :func:`weights_hash`; the cache key
names the settings, and two trainings with the same settings on different CPUs can differ) and
its test accuracy are reported next to every score.

Cache layout: ``<root>/classifiers/<dataset>-<key>/`` holding ``classifier.keras`` and
``classifier.json`` (dataset, key, seed, training settings, test accuracy). ``<root>`` is
``$KERAS_GAN_CACHE`` or ``~/.cache/keras_gan``. ``<key>`` is a hash of the network definition
(:data:`ARCHITECTURE`), the training settings and the seed, so changing any of them trains a
new classifier instead of reusing a stale one. The directory is built aside and renamed into
place, so an interrupted training never leaves a half-written classifier.

Example:
    >>> clf = load_classifier("fashion_mnist")  # doctest: +SKIP
    >>> features, probs = clf.predict(images)  # doctest: +SKIP
    >>> clf.accuracy  # doctest: +SKIP
    0.9188
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from keras_gan import _atomic
from keras_gan._cache import cache_root
from keras_gan._checks import check_positive_int

#: Network definition (part of the cache key; bump ``version`` when the code below changes).
ARCHITECTURE: dict[str, Any] = {
    "version": 2,
    "blocks": [32, 64],
    "kernel": 3,
    "features": 128,
    "dropout": 0.2,
    "optimizer": "adam",
    "learning_rate": 1e-3,
    "schedule": "cosine",
}
MODEL_FILE = "classifier.keras"
INFO_FILE = "classifier.json"
FEATURE_LAYER = "features"


def _dataset_tag(dataset: str | os.PathLike[str]) -> str:
    text = os.fspath(dataset)
    path = Path(text).expanduser()
    if path.is_dir():
        text = str(path.resolve())
    return text


def cache_key(dataset: str | os.PathLike[str], settings: dict[str, Any]) -> str:
    """12 hex digits of SHA-256 over the dataset, :data:`ARCHITECTURE` and training settings.

    Example:
        >>> len(cache_key("fashion_mnist", {"seed": 0}))
        12
    """
    blob = json.dumps(
        {"dataset": _dataset_tag(dataset), "architecture": ARCHITECTURE, "settings": settings},
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _settings(epochs: int, batch_size: int, seed: int, limit: int | None) -> dict[str, Any]:
    check_positive_int(epochs, "epochs")
    check_positive_int(batch_size, "batch_size")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer. Received: seed={seed!r}")
    check_positive_int(limit, "limit", allow_none=True)
    return {
        "epochs": int(epochs),
        "batch_size": int(batch_size),
        "seed": int(seed),
        "limit": None if limit is None else int(limit),
    }


def classifier_dir(
    dataset: str | os.PathLike[str] = "fashion_mnist",
    *,
    epochs: int = 7,
    batch_size: int = 128,
    seed: int = 0,
    limit: int | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """The cache directory of the classifier for these settings (it may not exist yet).

    Args:
        dataset: ``"fashion_mnist"``, ``"mnist"`` or a directory of IDX files.
        epochs, batch_size, seed, limit: training settings (part of the key).
        cache_dir: the cache root (default :func:`cache_root`).

    Example:
        >>> classifier_dir("fashion_mnist", cache_dir="/tmp/c").parent
        PosixPath('/tmp/c/classifiers')
    """
    key = cache_key(dataset, _settings(epochs, batch_size, seed, limit))
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(os.fspath(dataset)).name) or "dataset"
    root = Path(cache_dir).expanduser() if cache_dir is not None else cache_root()
    return root / "classifiers" / f"{name}-{key}"


def build_network(input_shape: Sequence[int], num_classes: int, seed: int = 0) -> Any:
    """The classifier CNN: two conv blocks (conv, batch norm, ReLU, max-pool), dense features.

    Then dropout and the softmax layer.

    Input images are float in [-1, 1]; the output is softmax probabilities. The layer named
    ``features`` (128 ReLU units, the penultimate layer) gives the feature vectors.

    Example:
        >>> build_network((28, 28, 1), 10).get_layer("features").units
        128
    """
    import keras

    init = keras.initializers.GlorotUniform
    inputs = keras.Input(tuple(int(d) for d in input_shape), name="images")
    x = inputs
    for i, filters in enumerate(ARCHITECTURE["blocks"]):
        x = keras.layers.Conv2D(
            filters,
            ARCHITECTURE["kernel"],
            padding="same",
            use_bias=False,
            kernel_initializer=init(seed=seed + i),
        )(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.Activation("relu")(x)
        x = keras.layers.MaxPooling2D(2, padding="same")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(
        ARCHITECTURE["features"],
        activation="relu",
        name=FEATURE_LAYER,
        kernel_initializer=init(seed=seed + 10),
    )(x)
    x = keras.layers.Dropout(ARCHITECTURE["dropout"], seed=seed + 1)(x)
    outputs = keras.layers.Dense(
        num_classes,
        activation="softmax",
        name="probabilities",
        kernel_initializer=init(seed=seed + 11),
    )(x)
    return keras.Model(inputs, outputs, name="feature_classifier")


def as_model_input(images: Any, input_shape: Sequence[int]) -> np.ndarray:
    """Images as float32 in [-1, 1] of shape ``(n, *input_shape)``.

    uint8 images are scaled from [0, 255]; float images are taken as [-1, 1] (a tanh
    generator's range) and clipped; ``(n, H, W)`` gets a channel axis.

    Example:
        >>> as_model_input(np.array([[[0, 255]]], np.uint8), (1, 2, 1)).ravel().tolist()
        [-1.0, 1.0]
    """
    array = np.asarray(images)
    shape = tuple(int(d) for d in input_shape)
    if array.ndim == len(shape) and shape[-1] == 1:
        array = array[..., np.newaxis]
    if array.ndim != len(shape) + 1 or tuple(array.shape[1:]) != shape:
        raise ValueError(
            f"images must have shape (n, {', '.join(map(str, shape))}) for this classifier. "
            f"Received: shape={array.shape}"
        )
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 127.5 - 1.0
    if array.dtype.kind not in "iuf":
        raise ValueError(f"images must be numeric. Received: dtype={array.dtype}")
    out = array.astype(np.float32)
    if not np.all(np.isfinite(out)):
        raise ValueError("images contain NaN or infinite values")
    return np.clip(out, -1.0, 1.0)


@dataclass
class FeatureClassifier:
    """A trained classifier and its record; :meth:`predict` gives features and probabilities.

    Attributes:
        model: the Keras model (images in [-1, 1] -> class probabilities).
        info: the record from ``classifier.json`` (dataset, key, settings, ``accuracy``).
        path: its cache directory, or None for an unsaved classifier.

    Example:
        >>> clf = load_classifier("fashion_mnist")  # doctest: +SKIP
        >>> features, probs = clf.predict(np.zeros((4, 28, 28, 1), np.float32))  # doctest: +SKIP
        >>> features.shape, probs.shape  # doctest: +SKIP
        ((4, 128), (4, 10))
    """

    model: Any
    info: dict[str, Any]
    path: Path | None = None

    def __post_init__(self) -> None:
        import keras

        self._two_headed = keras.Model(
            self.model.inputs,
            [self.model.get_layer(FEATURE_LAYER).output, self.model.outputs[0]],
        )

    @property
    def accuracy(self) -> float:
        """Test accuracy measured after training.

        Example:
            >>> clf.accuracy  # doctest: +SKIP
            0.9188
        """
        return float(self.info["accuracy"])

    @property
    def identity(self) -> str:
        """The first 12 hex digits of :func:`weights_hash`: what a report names it by.

        Example:
            >>> clf.identity  # doctest: +SKIP
            '3f6c0b2d9e41'
        """
        if "weights_sha256" not in self.info:
            self.info["weights_sha256"] = weights_hash(self.model)
        return str(self.info["weights_sha256"])[:12]

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input image, e.g. ``(28, 28, 1)``.

        Example:
            >>> clf.input_shape  # doctest: +SKIP
            (28, 28, 1)
        """
        return tuple(int(d) for d in self.model.input_shape[1:])

    @property
    def num_classes(self) -> int:
        """Number of classes.

        Example:
            >>> clf.num_classes  # doctest: +SKIP
            10
        """
        return int(self.model.output_shape[-1])

    def predict(self, images: Any, batch_size: int = 500) -> tuple[np.ndarray, np.ndarray]:
        """Penultimate-layer features ``(n, 128)`` and class probabilities ``(n, C)`` (float64).

        Args:
            images: uint8 in [0, 255] or float in [-1, 1], ``(n, H, W[, C])``.
            batch_size: images per forward pass.

        Example:
            >>> clf.predict(images)[0].shape  # doctest: +SKIP
            (10000, 128)
        """
        x = as_model_input(images, self.input_shape)
        feats, probs = [], []
        for start in range(0, x.shape[0], batch_size):
            f, p = self._two_headed([x[start : start + batch_size]], training=False)
            feats.append(np.asarray(f, np.float64))
            probs.append(np.asarray(p, np.float64))
        if not feats:
            return np.zeros((0, ARCHITECTURE["features"])), np.zeros((0, self.num_classes))
        return np.concatenate(feats), np.concatenate(probs)


def weights_hash(model: Any) -> str:
    """SHA-256 of a model's architecture (its JSON) and every weight (dtype, shape, bytes), in
    order: the identity of a trained classifier, whatever cache key it is stored under.

    Example:
        >>> weights_hash(load_classifier("fashion_mnist").model)[:12]  # doctest: +SKIP
        '3f6c0b2d9e41'
    """
    digest = hashlib.sha256(model.to_json().encode())
    for weight in model.weights:
        value = np.ascontiguousarray(np.asarray(weight))
        digest.update(f"{weight.path}|{value.dtype}|{value.shape}|".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def _load_split(
    dataset: str | os.PathLike[str], split: str, data_dir: Any
) -> tuple[np.ndarray, np.ndarray]:
    from keras_gan.data import load_arrays

    images, labels = load_arrays(dataset, split, data_dir=data_dir)
    return images, labels.astype(np.int64)


def train_classifier(
    dataset: str | os.PathLike[str] = "fashion_mnist",
    *,
    epochs: int = 7,
    batch_size: int = 128,
    seed: int = 0,
    limit: int | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
    verbose: int = 0,
) -> FeatureClassifier:
    """Train the classifier on the train split, measure its test accuracy, cache it.

    An existing cached classifier with the same key is returned as is unless ``force``.

    Args:
        dataset: ``"fashion_mnist"``, ``"mnist"`` or a directory of IDX files.
        epochs: training epochs (the learning rate decays to 0 over them, cosine).
        batch_size: training batch size.
        seed: weight-initialisation, dropout and shuffling seed.
        limit: train on the first ``limit`` images only (tests, quick checks).
        cache_dir: cache root (default ``$KERAS_GAN_CACHE`` or ``~/.cache/keras_gan``).
        data_dir: a directory to look for the dataset first.
        force: retrain even when cached.
        verbose: Keras ``fit`` verbosity.

    Returns:
        The :class:`FeatureClassifier`, saved in :func:`classifier_dir`.

    Example:
        >>> clf = train_classifier("fashion_mnist", epochs=1, limit=2000)  # doctest: +SKIP
        >>> 0.0 < clf.accuracy <= 1.0  # doctest: +SKIP
        True
    """
    settings = _settings(epochs, batch_size, seed, limit)
    target = classifier_dir(dataset, cache_dir=cache_dir, **settings)
    if not force and (target / INFO_FILE).is_file():
        return _load(target)

    import keras
    import tensorflow as tf

    x_train, y_train = _load_split(dataset, "train", data_dir)
    x_test, y_test = _load_split(dataset, "test", data_dir)
    if limit is not None:
        x_train, y_train = x_train[:limit], y_train[:limit]
    num_classes = int(max(y_train.max(), y_test.max())) + 1
    input_shape = x_train.shape[1:] if x_train.ndim == 4 else (*x_train.shape[1:], 1)
    x_train = as_model_input(x_train, input_shape)
    x_test = as_model_input(x_test, input_shape)

    keras.utils.set_random_seed(seed)
    model = build_network(input_shape, num_classes, seed=seed)
    model.compile(
        optimizer=keras.optimizers.Adam(
            keras.optimizers.schedules.CosineDecay(
                ARCHITECTURE["learning_rate"], epochs * math.ceil(len(x_train) / batch_size)
            )
        ),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    train = (
        tf.data.Dataset.from_tensor_slices((x_train, y_train))
        .shuffle(len(x_train), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )
    started = time.perf_counter()
    model.fit(train, epochs=epochs, verbose=verbose, shuffle=False)
    seconds = time.perf_counter() - started
    probs = model.predict(x_test, batch_size=1000, verbose=0)
    accuracy = float((probs.argmax(axis=1) == y_test).mean())
    info = {
        "dataset": os.fspath(dataset),
        "key": target.name.rsplit("-", 1)[-1],
        "architecture": ARCHITECTURE,
        **settings,
        "train_images": len(x_train),
        "test_images": len(x_test),
        "num_classes": num_classes,
        "input_shape": [int(d) for d in input_shape],
        "accuracy": round(accuracy, 4),
        "train_seconds": round(seconds, 1),
        "weights_sha256": weights_hash(model),
    }
    _save_atomic(model, info, target)
    return FeatureClassifier(model, info, target)


def _save_atomic(model: Any, info: dict[str, Any], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = _atomic.temporary_sibling(target)
    staging.mkdir()  # mode 0o777 less the umask (mkdtemp's 0o700 hides it from other users)
    try:
        model.save(staging / MODEL_FILE)
        with open(staging / INFO_FILE, "w") as handle:
            json.dump(info, handle, indent=2)
            handle.write("\n")
        if target.exists():  # force, or a concurrent training finished first: replace it
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _load(directory: Path) -> FeatureClassifier:
    import keras

    try:
        with open(directory / INFO_FILE) as handle:
            info = json.load(handle)
        model = keras.saving.load_model(directory / MODEL_FILE)
    except (OSError, ValueError) as error:
        raise ValueError(
            f"the cached classifier in {directory} is unreadable ({error}); delete the "
            "directory or train again with force=True"
        ) from error
    measured = weights_hash(model)
    recorded = info.get("weights_sha256")
    if recorded is not None and recorded != measured:
        raise ValueError(
            f"the cached classifier in {directory} has weights {measured[:12]} but its record "
            f"says {recorded[:12]}: it was replaced or damaged; delete the directory or train "
            "again with force=True"
        )
    info["weights_sha256"] = measured  # entries written before the hash was recorded get it
    return FeatureClassifier(model, info, directory)


def load_classifier(
    dataset: str | os.PathLike[str] = "fashion_mnist",
    *,
    train: bool = True,
    epochs: int = 7,
    batch_size: int = 128,
    seed: int = 0,
    limit: int | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    verbose: int = 0,
) -> FeatureClassifier:
    """Load the cached classifier for these settings, training it once when missing.

    Args:
        dataset: ``"fashion_mnist"``, ``"mnist"`` or a directory of IDX files.
        train: train when missing; with False a missing classifier raises FileNotFoundError.
        epochs, batch_size, seed, limit: training settings (they select the cache entry).
        cache_dir: cache root (default ``$KERAS_GAN_CACHE`` or ``~/.cache/keras_gan``).
        data_dir: a directory to look for the dataset first.
        verbose: Keras ``fit`` verbosity when training.

    Example:
        >>> clf = load_classifier("fashion_mnist")  # doctest: +SKIP
    """
    settings = _settings(epochs, batch_size, seed, limit)
    directory = classifier_dir(dataset, cache_dir=cache_dir, **settings)
    if (directory / INFO_FILE).is_file():
        return _load(directory)
    if not train:
        raise FileNotFoundError(
            f"no classifier for {os.fspath(dataset)!r} with {settings} in {directory}; run "
            f"`keras-gan classifier train --dataset {os.fspath(dataset)}` first"
        )
    return train_classifier(
        dataset, cache_dir=cache_dir, data_dir=data_dir, verbose=verbose, **settings
    )
