"""One loader for anything that holds a generator: run directories, model files and exports.

:func:`load_generator` turns a target into a :class:`LoadedGenerator` (``z -> images`` with its
latent size) whose ``sample(n, seed)`` draws latents by the recipe ``keras_gan.latent.v1``
(:mod:`keras_gan.serving.latent`), the one ``GAN.generate``, the sample grids and exported
samplers use: one seed gives one picture everywhere. Targets:

- a run directory (``generator.keras``, or ``mixture.npz`` for gmm);
- a ``.keras`` file: any Keras model from latent vectors ``(n, d)`` to images (a saved ``GAN``
  uses its sampling generator);
- a ``mixture.npz`` of :class:`keras_gan.mixture.GaussianMixture`;
- a SavedModel directory (its ``generate`` signature, else the serving default);
- a ``.onnx`` file, an export version directory or an export base directory (through
  :class:`keras_gan.serving.Sampler`).

:func:`load_source` loads what ``keras-gan export`` exports (a run directory, a ``.keras`` file
or a mixture) with the metadata its run directory records.

Example:
    >>> generator = load_generator("runs/dcgan")  # doctest: +SKIP
    >>> generator.sample(16, seed=0).shape  # doctest: +SKIP
    (16, 28, 28, 1)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from keras_gan.serving.labels import ClassLabels
from keras_gan.serving.latent import latent
from keras_gan.serving.layout import ONNX_NAME, SAVED_MODEL_NAME, metadata_path

from . import directory
from .directory import RunError

#: Modules whose import registers every serialisable class of the library with Keras.
_REGISTERING = ("keras_gan.models", "keras_gan.networks", "keras_gan.losses", "keras_gan.mixture")
#: ``run.json`` keys copied into an export's metadata (run.json name -> metadata name).
_EXPORT_KEYS = {
    "model": "model_kind",
    "dataset": "dataset",
    "epochs": "epochs",
    "latent_dim": "latent_dim",
    "image_shape": "image_shape",
    "seed": "training_seed",
    "num_classes": "num_classes",
    "class_names": "class_names",
}


def balanced_labels(n: int, num_classes: int) -> np.ndarray:
    """``n`` labels cycling through the classes (``0, 1, ..., C-1, 0, ...``): every class gets
    ``n // C`` or one more.

    Example:
        >>> balanced_labels(5, 3).tolist()
        [0, 1, 2, 0, 1]
    """
    return (np.arange(n) % num_classes).astype(np.int32)


@dataclass
class LoadedGenerator:
    """A generator seen as ``z -> images`` (or ``(z, labels) -> images`` when conditional) with
    its latent size, whatever its format.

    Attributes:
        generate_fn: maps float32 latent vectors ``(n, latent_dim)`` (and, when conditional,
            int32 labels ``(n,)``) to images in [-1, 1].
        latent_dim: size of one latent vector.
        kind: what was loaded (``keras``, ``mixture``, ``saved_model``, ``onnx``).
        source: the file or directory it was loaded from.
        num_classes: the number of classes of a class-conditional generator, else None.
        class_names: their names, when known.

    Example:
        >>> g = LoadedGenerator(lambda z: np.tanh(z[:, :4].reshape(-1, 2, 2, 1)), 8, "fn", "")
        >>> g.sample(3, seed=0).shape
        (3, 2, 2, 1)
    """

    generate_fn: Callable[..., Any]
    latent_dim: int
    kind: str
    source: str
    num_classes: int | None = None
    class_names: tuple[str, ...] | None = None

    def sample(
        self, n: int, seed: int = 0, labels: Any = None, batch_size: int = 500
    ) -> np.ndarray:
        """``n`` samples (float32) from the latents ``keras_gan.serving.latent.latent(n, seed)``.

        Args:
            n: number of samples.
            seed: the latent seed.
            labels: for a conditional generator, one class for all ``n`` (an index or a
                class name) or ``n`` indices (see :func:`balanced_labels`); refused for an
                unconditional one (:class:`keras_gan.serving.labels.ClassLabels`).
            batch_size: samples per generator call.

        Raises:
            ValueError: labels missing or out of range for a conditional generator, or given to
                an unconditional one.

        Example:
            >>> generator.sample(16, seed=0).shape  # doctest: +SKIP
            (16, 28, 28, 1)
        """
        z = latent(n, seed, self.latent_dim)
        rows = self._labels(n, labels)
        parts = []
        for i in range(0, n, batch_size):
            args = (
                (z[i : i + batch_size],)
                if rows is None
                else (z[i : i + batch_size], rows[i : i + batch_size])
            )
            parts.append(np.asarray(self.generate_fn(*args), dtype=np.float32))
        return np.concatenate(parts) if parts else np.zeros((0,), np.float32)

    def _labels(self, n: int, labels: Any) -> np.ndarray | None:
        return ClassLabels(self.num_classes, self.class_names, source=self.source).array(labels, n)


def register_classes() -> None:
    """Import the modules that register the library's Keras classes (before ``load_model``).

    Example:
        >>> register_classes()
    """
    import importlib

    for module in _REGISTERING:
        importlib.import_module(module)


def _keras_latent_dim(model: Any, source: Path) -> int:
    shape = model.input_shape
    if isinstance(shape, list):
        if len(shape) != 1:
            raise ValueError(f"{source}: expected a generator with one input, found {len(shape)}")
        shape = shape[0]
    if len(shape) != 2 or shape[1] is None:
        raise ValueError(
            f"{source}: expected a generator from latent vectors (None, d) to images. "
            f"Received: input shape {shape}"
        )
    return int(shape[1])


def _embedding_classes(generator: Any) -> int | None:
    """The class count of a two-input generator: its first ``Embedding`` layer's vocabulary."""
    import keras

    for layer in generator.layers:
        if isinstance(layer, keras.layers.Embedding):
            return int(layer.input_dim)
        if isinstance(layer, keras.Model):
            found = _embedding_classes(layer)
            if found is not None:
                return found
    return None


def _run_info_beside(path: Path) -> dict[str, Any]:
    """The ``run.json`` of the run directory holding ``path`` (``{}`` when none is readable)."""
    try:
        return directory.read_run_info(path.parent)
    except RunError:
        return {}


def _from_keras_model(
    model: Any, source: Path, run_info: dict[str, Any] | None = None
) -> LoadedGenerator:
    generator = getattr(model, "sampling_generator", None) or model
    info = run_info or {}
    num_classes = getattr(model, "num_classes", None) or info.get("num_classes")
    class_names = getattr(model, "class_names", None) or info.get("class_names")
    inputs = generator.inputs if isinstance(generator.inputs, list) else [generator.inputs]
    if len(inputs) == 2 and num_classes is None:
        num_classes = _embedding_classes(generator)
        if num_classes is None:
            raise ValueError(
                f"{source}: a two-input (conditional) generator, but its number of classes is "
                "recorded nowhere (no num_classes in run.json and no Embedding layer)"
            )
    conditional = num_classes is not None
    if conditional:
        latent_dim = getattr(model, "latent_dim", None) or int(inputs[0].shape[-1])
    else:
        latent_dim = getattr(model, "latent_dim", None) or _keras_latent_dim(generator, source)

    def generate(z: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        inputs = z if labels is None else [z, labels]
        return np.asarray(generator(inputs, training=False))

    names = None if class_names is None else tuple(str(name) for name in class_names)
    return LoadedGenerator(
        generate,
        int(latent_dim),
        "keras",
        str(source),
        None if num_classes is None else int(num_classes),
        names,
    )


def load_keras(path: str | os.PathLike[str]) -> Any:
    """Load a ``.keras`` file saved by the library (or any Keras model), without compiling.

    Raises:
        ValueError: the file is not a loadable Keras model (the message says why).

    Example:
        >>> gan = load_keras("runs/dcgan/model.keras")  # doctest: +SKIP
    """
    import keras

    register_classes()
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as error:  # Keras raises many types for a bad file
        raise ValueError(f"{path}: not a loadable Keras model ({error})") from None


def load_mixture(path: str | os.PathLike[str]) -> Any:
    """Load a :class:`~keras_gan.mixture.GaussianMixture` saved with ``save``.

    Raises:
        ValueError: the file is not a valid mixture (the message says why).

    Example:
        >>> gmm = load_mixture("runs/gmm/mixture.npz")  # doctest: +SKIP
    """
    from keras_gan.mixture import load

    try:
        return load(path)
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(f"Cannot load the mixture {path}: {error}") from None


def _load_saved_model(path: Path) -> LoadedGenerator:
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    signatures = dict(loaded.signatures)
    fn = signatures.get("generate") or signatures.get("serving_default")
    if fn is None:
        raise ValueError(f"{path}: SavedModel without a 'generate' or 'serving_default' signature")
    _, kwargs = fn.structured_input_signature
    conditional = set(kwargs) == {"z", "labels"}
    if len(kwargs) != 1 and not conditional:
        raise ValueError(
            f"{path}: expected a signature with the input z (and labels), found {sorted(kwargs)}"
        )
    input_name = "z" if conditional else next(iter(kwargs))
    spec = kwargs[input_name]
    if spec.shape.rank != 2 or spec.shape[1] is None:
        raise ValueError(f"{path}: signature input {input_name} is not (None, d): {spec.shape}")
    metadata = directory.read_json_object(metadata_path(path)) if conditional else {}
    num_classes = metadata.get("num_classes") if conditional else None
    if conditional and not isinstance(num_classes, int):
        raise ValueError(f"{path}: a conditional SavedModel without num_classes in its metadata")

    def generate(z: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        inputs = {input_name: tf.constant(z, spec.dtype)}
        if labels is not None:
            inputs["labels"] = tf.constant(labels, tf.int32)
        return np.asarray(next(iter(fn(**inputs).values())))

    names = metadata.get("class_names")
    return LoadedGenerator(
        generate,
        int(spec.shape[1]),
        "saved_model",
        str(path),
        num_classes,
        None if names is None else tuple(str(name) for name in names),
    )


def _load_onnx(path: Path) -> LoadedGenerator:
    from keras_gan.serving import Sampler

    sampler = Sampler(path)
    source = str(sampler.files.onnx)
    names = None if sampler.class_names is None else tuple(sampler.class_names)
    return LoadedGenerator(
        sampler.generate, int(sampler.latent_dim), "onnx", source, sampler.num_classes, names
    )


def _versions(path: Path, name: str) -> list[Path]:
    found = sorted(
        (int(p.name), p) for p in path.iterdir() if p.name.isdigit() and (p / name).is_file()
    )
    return [p for _, p in found]


def load_generator(target: str | os.PathLike[str]) -> LoadedGenerator:
    """Load a generator from a run directory, ``.keras``, ``.npz``, SavedModel or ONNX export.

    Args:
        target: see the module docstring for the accepted forms.

    Returns:
        A :class:`LoadedGenerator`.

    Raises:
        FileNotFoundError: ``target`` does not exist.
        ValueError: ``target`` exists but holds no recognisable generator; the message lists
            what was looked for.

    Example:
        >>> load_generator("runs/dcgan").latent_dim  # doctest: +SKIP
        100
    """
    path = Path(target).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    if path.is_file():
        if path.suffix == ".keras":
            return _from_keras_model(load_keras(path), path, _run_info_beside(path))
        if path.suffix == ".npz":
            return _from_keras_model(load_mixture(path).as_generator(), path)
        if path.suffix == ".onnx":
            return _load_onnx(path)
        raise ValueError(
            f"{path}: unknown generator file; expected a .keras, mixture .npz or .onnx file"
        )
    if (path / directory.GENERATOR).is_file():
        return load_generator(path / directory.GENERATOR)
    if (path / directory.MIXTURE).is_file():
        return load_generator(path / directory.MIXTURE)
    if (path / SAVED_MODEL_NAME).is_file():
        return _load_saved_model(path)
    if (path / ONNX_NAME).is_file() or _versions(path, ONNX_NAME):
        return _load_onnx(path)
    versions = _versions(path, SAVED_MODEL_NAME)
    if versions:
        return _load_saved_model(versions[-1])
    raise ValueError(
        f"{path}: no generator found; expected {directory.GENERATOR} or {directory.MIXTURE} "
        f"(run directory), {SAVED_MODEL_NAME} (SavedModel), {ONNX_NAME}, or numeric version "
        "directories (export base)"
    )


def is_run_directory(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a directory holding a run's model or ``run.json``.

    Example:
        >>> is_run_directory("/nonexistent")
        False
    """
    path = Path(path)
    names = (directory.GENERATOR, directory.MIXTURE, directory.RUN_INFO)
    return path.is_dir() and any((path / name).is_file() for name in names)


def load_source(source: str | os.PathLike[str]) -> tuple[Any, dict[str, Any], Path]:
    """Load the model to export from ``source``, with the metadata its run directory records.

    Args:
        source: a run directory (``generator.keras``, ``model.keras`` or ``mixture.npz``, with
            ``run.json`` and optionally ``evaluation.json``), a ``.keras`` file or a ``.npz``
            mixture.

    Returns:
        ``(model, metadata, directory)``: the model, metadata entries from
        ``run.json``/``evaluation.json`` (``model_kind`` among them when recorded), and the
        directory the default export goes in.

    Raises:
        RunError: ``source`` holds no model, or a file in it cannot be read or loaded.

    Example:
        >>> model, metadata, run_dir = load_source("runs/dcgan")  # doctest: +SKIP
    """
    source = Path(source)
    if not source.exists():
        raise RunError(f"No run directory or model file at {source}")
    if source.is_dir():
        run_dir = source
        candidates = (directory.GENERATOR, directory.MIXTURE, directory.MODEL)
        found = [run_dir / name for name in candidates if (run_dir / name).is_file()]
        if not found:
            raise RunError(f"{run_dir} holds none of {', '.join(candidates)}")
        run_info = directory.read_run_info(run_dir)
        if run_info.get("model") == "gmm" and (run_dir / directory.MIXTURE).is_file():
            model_file = run_dir / directory.MIXTURE
        else:
            model_file = found[0]
    else:
        run_dir, model_file = source.parent, source
        run_info = directory.read_run_info(run_dir)
    metadata = {
        _EXPORT_KEYS[k]: v for k, v in run_info.items() if k in _EXPORT_KEYS and v is not None
    }
    if isinstance(metadata.get("model_kind"), str):
        metadata["model_kind"] = metadata["model_kind"].lower().replace("-", "_")
    evaluation = directory.read_json_object(run_dir / directory.EVALUATION)
    if evaluation:
        metadata["evaluation"] = evaluation
    try:
        if model_file.suffix == ".npz":
            model = load_mixture(model_file)
            metadata.setdefault("model_kind", "gmm")
        elif model_file.suffix == ".keras":
            model = load_keras(model_file)
        else:
            raise RunError(f"Expected a .keras file or a mixture .npz. Received: {model_file}")
    except RunError:
        raise
    except ValueError as error:
        raise RunError(str(error)) from None
    return model, metadata, run_dir
