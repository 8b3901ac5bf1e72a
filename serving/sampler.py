"""``Sampler``: sample an exported generator with numpy and onnxruntime alone.

A ``Sampler`` loads ``model.onnx`` (``z -> images``) from an export of ``keras_gan.export`` and
draws its latent vectors with the numpy recipe ``keras_gan.latent.v1``
(``keras_gan.serving.latent``), so ``Sampler(path).sample(n, seed)`` returns the same images as
the SavedModel's ``sample`` signature and ``model.sample.onnx`` for the same ``(n, seed)``, while
loading one onnxruntime session only. Nothing here imports TensorFlow or Keras.

``path`` may be

* a ``.onnx`` file (``model.onnx``; a ``*.sample.onnx`` file is replaced by its ``z -> images``
  sibling),
* a version directory holding ``model.onnx`` (and ``assets/keras_gan.json``), or
* a model base path: its highest numeric version directory that holds ``model.onnx``.

A class-conditional export (``model.onnx`` with the inputs ``z`` and ``labels``, and
``num_classes`` and ``class_names`` in its metadata) takes a class: ``sample(n, seed,
label="sneaker")`` (a name, compared without regard to case, or an index) generates ``n`` images
of that class from the same ``z`` as ``sample(n, seed)`` draws for any other class.

Example:
    >>> from keras_gan.serving import Sampler
    >>> sampler = Sampler("runs/dcgan/export")  # doctest: +SKIP
    >>> images = sampler.sample(64, seed=0)  # doctest: +SKIP
    >>> images.shape, images.dtype  # doctest: +SKIP
    ((64, 28, 28, 1), dtype('uint8'))
    >>> sampler.save_grid(images, "grid.png")  # doctest: +SKIP
    >>> Sampler("runs/cgan/export").sample(16, seed=0, label="sneaker").shape  # doctest: +SKIP
    (16, 28, 28, 1)
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from keras_gan.serving import images as _images
from keras_gan.serving.labels import ClassLabels
from keras_gan.serving.latent import RECIPE, latent
from keras_gan.serving.layout import (
    ASSET_NAME,
    METADATA_KEY,
    ONNX_NAME,
    SAMPLE_ONNX_NAME,
    SAMPLE_SUFFIX,
    metadata_path,
)

from keras_gan._checks import check_non_negative_int, check_positive_int

__all__ = [
    "ASSET_NAME",
    "METADATA_KEY",
    "ONNX_NAME",
    "SAMPLE_ONNX_NAME",
    "ModelFiles",
    "Sampler",
    "find_versions",
    "resolve_model_path",
]


@dataclass(frozen=True)
class ModelFiles:
    """Where an export's files are.

    Attributes:
        onnx: the ``z -> images`` model.
        version_dir: the version directory holding it, or None for a loose file.
        version: the numeric version (the directory's name), or None.

    Example:
        >>> resolve_model_path("models/dcgan").version  # doctest: +SKIP
        3
    """

    onnx: Path
    version_dir: Path | None
    version: int | None

    @property
    def metadata_file(self) -> Path | None:
        """``assets/keras_gan.json`` of the version directory, when present."""
        if self.version_dir is None:
            return None
        path = metadata_path(self.version_dir)
        return path if path.is_file() else None


def find_versions(base_dir: str | os.PathLike) -> dict[int, Path]:
    """The numeric version directories under a model base path that hold ``model.onnx``.

    Other names (``.tmp-*`` siblings of an export in progress, SavedModel-only versions) are
    left out, so a half-written version is never picked.

    Args:
        base_dir: the model base path.

    Returns:
        ``{version: directory}``; empty when the directory holds no servable version.

    Example:
        >>> sorted(find_versions("models/dcgan"))  # doctest: +SKIP
        [1, 2]
    """
    found: dict[int, Path] = {}
    try:
        entries = list(os.scandir(base_dir))
    except (FileNotFoundError, NotADirectoryError):
        return found
    for entry in entries:
        name = entry.name
        if not (name.isascii() and name.isdigit()) or not entry.is_dir():
            continue
        if os.path.isfile(os.path.join(entry.path, ONNX_NAME)):
            found[int(name)] = Path(entry.path)
    return found


def resolve_model_path(path: str | os.PathLike) -> ModelFiles:
    """Find the ``z -> images`` ONNX file behind ``path`` (file, version dir or base path).

    Args:
        path: a ``.onnx`` file, a version directory or a model base path.

    Returns:
        The ``ModelFiles``.

    Raises:
        FileNotFoundError: nothing servable at ``path``; the message says what was expected.

    Example:
        >>> resolve_model_path("runs/demo/export").onnx  # doctest: +SKIP
        PosixPath('runs/demo/export/1/model.onnx')
    """
    path = Path(path)
    if path.is_file():
        if path.suffix != ".onnx":
            raise FileNotFoundError(
                f"{path} is not an ONNX file; expected a .onnx file, a version directory "
                f"holding {ONNX_NAME} or a model base path of such directories."
            )
        if path.name.endswith(SAMPLE_SUFFIX):
            sibling = path.with_name(path.name[: -len(SAMPLE_SUFFIX)] + ".onnx")
            if not sibling.is_file():
                raise FileNotFoundError(
                    f"{path} is a sample(n, seed) model; the Sampler loads its z -> images "
                    f"sibling {sibling}, which does not exist."
                )
            path = sibling
        version_dir = path.parent if metadata_path(path.parent).is_file() else None
        return ModelFiles(path, version_dir, _numeric(path.parent) if version_dir else None)
    if path.is_dir():
        if (path / ONNX_NAME).is_file():
            return ModelFiles(path / ONNX_NAME, path, _numeric(path))
        versions = find_versions(path)
        if versions:
            version = max(versions)
            return ModelFiles(versions[version] / ONNX_NAME, versions[version], version)
        numeric = sorted(p.name for p in path.iterdir() if p.name.isdigit() and p.is_dir())
        hint = (
            f" Its version directories {numeric} hold no {ONNX_NAME} (export them with "
            "`keras-gan export --format all` or `--format onnx`)."
            if numeric
            else ""
        )
        raise FileNotFoundError(
            f"No {ONNX_NAME} in {path} and no numeric version directory holding one.{hint}"
        )
    raise FileNotFoundError(
        f"No model at {path}: expected a .onnx file, a version directory holding {ONNX_NAME} "
        "or a model base path (the --out directory of `keras-gan export`)."
    )


def shown_value(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters, for error messages.

    Example:
        >>> shown_value([1] * 50, limit=10)
        '[1, 1, ...'
    """
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _numeric(directory: Path) -> int | None:
    name = directory.name
    return int(name) if name.isascii() and name.isdigit() else None


class Sampler:
    """Sample images from an exported generator with onnxruntime (no TensorFlow, no Keras).

    Args:
        path: a ``.onnx`` file, a version directory or a model base path (its highest
            numeric version holding ``model.onnx``).
        providers: onnxruntime execution providers; ``["CPUExecutionProvider"]`` when None.
        session_options: an ``onnxruntime.SessionOptions``; onnxruntime's defaults when None.
        threads: shorthand for ``session_options.intra_op_num_threads`` (None: onnxruntime's
            default, one thread per physical core).

    Attributes:
        latent_dim: length of each latent vector ``z``.
        image_shape: shape of one generated sample, e.g. ``(28, 28, 1)``.
        num_classes: number of classes of a class-conditional export; None when unconditional.
        class_names: the classes' names (``"0"``, ``"1"``, ... when the metadata has none);
            None when unconditional.
        metadata: the export's metadata (``assets/keras_gan.json`` or the ONNX file's
            ``metadata_props``); ``{}`` for a foreign ONNX file.
        version: numeric version of the loaded directory, or None.
        files: the resolved ``ModelFiles``.

    The session is safe to call from several threads at once (onnxruntime's ``run`` is
    thread-safe), so one ``Sampler`` serves a threaded server.

    Example:
        >>> sampler = Sampler("models/dcgan/1/model.onnx")  # doctest: +SKIP
        >>> sampler.latent_dim, sampler.image_shape  # doctest: +SKIP
        (100, (28, 28, 1))
        >>> sampler.generate(np.zeros((2, 100), np.float32)).shape  # doctest: +SKIP
        (2, 28, 28, 1)
    """

    def __init__(
        self,
        path: str | os.PathLike,
        providers: Sequence[str] | None = None,
        session_options: Any = None,
        threads: int | None = None,
    ) -> None:
        import onnxruntime as ort

        self.files = resolve_model_path(path)
        self.version = self.files.version
        if session_options is None:
            session_options = ort.SessionOptions()
        if threads is not None:
            session_options.intra_op_num_threads = check_non_negative_int(threads, "threads")
        try:
            self._session = ort.InferenceSession(
                str(self.files.onnx),
                sess_options=session_options,
                providers=list(providers) if providers else ["CPUExecutionProvider"],
            )
        except Exception as error:
            raise ValueError(f"onnxruntime cannot load {self.files.onnx}: {error}") from error
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        labelled = len(inputs) == 2 and len(inputs[1].shape) == 1
        if (
            len(inputs) not in (1, 2)
            or len(outputs) != 1
            or len(inputs[0].shape) != 2
            or (len(inputs) == 2 and not (labelled and inputs[1].type == "tensor(int32)"))
        ):
            described = [(i.name, i.type, i.shape) for i in inputs]
            raise ValueError(
                f"{self.files.onnx} is not a z -> images generator: expected the input "
                "[N, latent_dim] (and, for a conditional generator, int32 labels [N]) and one "
                f"output. Received: inputs {described}, {len(outputs)} outputs"
            )
        self._input_name, self._output_name = inputs[0].name, outputs[0].name
        self._labels_name: str | None = inputs[1].name if labelled else None
        self.metadata: dict[str, Any] = self._read_metadata()
        self.num_classes: int | None = None
        self.class_names: tuple[str, ...] | None = None
        self._read_classes()
        declared_dim = inputs[0].shape[1]
        latent_dim = self.metadata.get("latent_dim", declared_dim)
        if not isinstance(latent_dim, int) or (
            isinstance(declared_dim, int) and declared_dim != latent_dim
        ):
            raise ValueError(
                f"{self.files.onnx}: latent_dim {latent_dim!r} from the metadata does not match "
                f"the model's input shape {inputs[0].shape}."
            )
        self.latent_dim: int = latent_dim
        shape = self.metadata.get("image_shape") or outputs[0].shape[1:]
        if not all(isinstance(d, int) and d > 0 for d in shape):
            raise ValueError(
                f"{self.files.onnx}: the sample shape is unknown (no image_shape in the metadata "
                f"and output shape {outputs[0].shape})."
            )
        self.image_shape: tuple[int, ...] = tuple(int(d) for d in shape)
        recipe = self.metadata.get("latent_recipe", RECIPE)
        if recipe != RECIPE:
            raise ValueError(
                f"{self.files.onnx} was exported with the latent recipe {recipe!r}; this "
                f"sampler implements {RECIPE!r}."
            )

    @classmethod
    def pretrained(cls, name: str = "fashion-mnist", **kwargs: Any) -> Sampler:
        """A sampler of a generator shipped inside the package (``keras_gan.serving.pretrained``).

        Args:
            name: ``"fashion-mnist"`` (the default preset) or ``"fashion-mnist-cgan"``
                (class-conditional); ``keras_gan.serving.pretrained.names()`` lists them.
            **kwargs: passed to ``Sampler`` (``providers``, ``threads``, ...).

        Raises:
            ValueError: no pretrained generator of that name.

        Example:
            >>> Sampler.pretrained("fashion-mnist").sample(2, seed=0).shape  # doctest: +SKIP
            (2, 28, 28, 1)
        """
        from keras_gan.serving import pretrained

        return cls(pretrained.path(name), **kwargs)

    def _read_classes(self) -> None:
        """``num_classes`` and ``class_names`` from the metadata, checked against the inputs."""
        num_classes = self.metadata.get("num_classes")
        if self._labels_name is None:
            if num_classes is not None:
                raise ValueError(
                    f"{self.files.onnx}: the metadata says num_classes={num_classes!r} but the "
                    "model takes no labels (its only input is z)."
                )
            return
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(
                f"{self.files.onnx} takes labels but its metadata has no positive integer "
                f"num_classes. Received: num_classes={num_classes!r}"
            )
        names = self.metadata.get("class_names")
        if names is None:
            names = [str(i) for i in range(num_classes)]
        if (
            not isinstance(names, list)
            or len(names) != num_classes
            or not all(isinstance(name, str) and name for name in names)
            or len({name.casefold() for name in names}) != num_classes
        ):
            raise ValueError(
                f"{self.files.onnx}: the metadata class_names must be {num_classes} distinct "
                f"non-empty strings (ignoring case). Received: class_names={names!r}"
            )
        self.num_classes, self.class_names = num_classes, tuple(names)

    def _classes(self) -> ClassLabels:
        return ClassLabels(self.num_classes, self.class_names, source=str(self.files.onnx))

    @property
    def conditional(self) -> bool:
        """True for a class-conditional export (``model.onnx`` takes ``z`` and ``labels``).

        Example:
            >>> Sampler("runs/cgan/export").conditional  # doctest: +SKIP
            True
        """
        return self._labels_name is not None

    def describe_classes(self) -> str:
        """The classes as ``index name`` pairs, for messages: ``"0 top, 1 trouser, ..."``.

        Returns:
            The text; ``"none (unconditional)"`` for an unconditional export.

        Example:
            >>> Sampler("runs/cgan/export").describe_classes()[:16]  # doctest: +SKIP
            '0 top, 1 trouser'
        """
        return self._classes().describe()

    def label_index(self, label: int | str | None) -> int:
        """The class index of ``label``: a class name (compared without regard to case) or an
        index in ``[0, num_classes)``; a string of digits that is no class name is an index.

        Args:
            label: a class name or index.

        Returns:
            The index.

        Raises:
            ValueError: ``label`` is missing for a conditional export, given for an
                unconditional one, or names no class; the message lists the classes.

        Example:
            >>> Sampler("runs/cgan/export").label_index("Sneaker")  # doctest: +SKIP
            7
        """
        return self._classes().index(label)

    def labels_array(self, labels: Any, rows: int) -> np.ndarray | None:
        """The int32 labels of ``rows`` rows: one label (name or index) for all, or one per row.

        Args:
            labels: None (unconditional exports only), a class name or index for every row,
                or a sequence of ``rows`` class indices.
            rows: the number of rows of ``z``.

        Returns:
            int32 array ``(rows,)``, or None for an unconditional export.

        Raises:
            ValueError: labels missing, given to an unconditional export, of the wrong
                length, or outside ``[0, num_classes)``; the message lists the classes.

        Example:
            >>> sampler.labels_array("sneaker", 3)  # doctest: +SKIP
            array([7, 7, 7], dtype=int32)
        """
        return self._classes().array(labels, rows)

    def _read_metadata(self) -> dict[str, Any]:
        text = self._session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
        source: Any = self.files.onnx
        if text is None and self.files.metadata_file is not None:
            source = self.files.metadata_file
            text = source.read_text()
        if text is None:
            return {}
        try:
            metadata = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"The keras_gan metadata of {source} is not JSON: {error}") from error
        if not isinstance(metadata, dict):
            raise ValueError(f"The keras_gan metadata of {source} is not a JSON object.")
        return metadata

    @property
    def session(self) -> Any:
        """The onnxruntime ``InferenceSession`` of ``model.onnx`` (``z -> images``).

        Example:
            >>> Sampler("models/dcgan").session.get_outputs()[0].type  # doctest: +SKIP
            'tensor(float)'
        """
        return self._session

    @property
    def sample_dtype(self) -> np.dtype:
        """dtype of ``sample``: uint8 for images, float32 for flat outputs (``image_shape`` rank 1).

        Example:
            >>> Sampler("models/dcgan").sample_dtype  # doctest: +SKIP
            dtype('uint8')
        """
        default = "uint8" if len(self.image_shape) >= 2 else "float32"
        return np.dtype(self.metadata.get("sample_dtype", default))

    def generate(
        self, z: np.ndarray, labels: Any = None, batch_size: int | None = None
    ) -> np.ndarray:
        """Run the generator on latent vectors (and, for a conditional export, labels).

        Args:
            z: array ``(N, latent_dim)`` of finite numbers (cast to float32).
            labels: for a conditional export, a class name or index for every row, or ``N``
                class indices; None for an unconditional one.
            batch_size: run in chunks of this many rows (None: one run).

        Returns:
            float32 array ``(N, *image_shape)``, nominally in [-1, 1].

        Raises:
            ValueError: ``z`` has the wrong shape or holds NaN or infinity; labels are
                missing, unknown or out of range (the message lists the classes), or given
                to an unconditional export.

        Example:
            >>> sampler.generate(np.zeros((4, sampler.latent_dim))).shape  # doctest: +SKIP
            (4, 28, 28, 1)
            >>> conditional.generate(np.zeros((2, 4)), labels=[0, 7]).shape  # doctest: +SKIP
            (2, 28, 28, 1)
        """
        z = np.asarray(z)
        if z.dtype.kind not in "iuf":
            raise ValueError(f"z must hold numbers. Received: dtype {z.dtype}")
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(
                f"z must have shape (N, {self.latent_dim}). Received: shape {tuple(z.shape)}"
            )
        z = z.astype(np.float32, copy=False)
        if not np.isfinite(z).all():
            raise ValueError("z must be finite. Received: NaN or infinity in z")
        label_rows = self.labels_array(labels, z.shape[0])
        if z.shape[0] == 0:
            return np.zeros((0, *self.image_shape), np.float32)
        check_positive_int(batch_size, "batch_size", allow_none=True)
        step = batch_size or z.shape[0]

        def feed(start: int) -> dict[str, np.ndarray]:
            rows = {self._input_name: z[start : start + step]}
            if label_rows is not None:
                rows[self._labels_name] = label_rows[start : start + step]
            return rows

        parts = [
            self._session.run([self._output_name], feed(i))[0] for i in range(0, z.shape[0], step)
        ]
        out = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return out.reshape((z.shape[0], *self.image_shape)).astype(np.float32, copy=False)

    def latent(self, n: int, seed: int) -> np.ndarray:
        """The latent vectors ``sample(n, seed)`` uses (recipe ``keras_gan.latent.v1``).

        Example:
            >>> sampler.latent(2, seed=0).shape  # doctest: +SKIP
            (2, 100)
        """
        return latent(n, seed, self.latent_dim)

    def sample(
        self,
        n: int,
        seed: int | None = None,
        label: int | str | None = None,
        batch_size: int | None = None,
    ) -> np.ndarray:
        """Draw ``n`` samples; the same ``(n, seed)`` gives the SavedModel's ``sample`` output.

        Args:
            n: number of samples, >= 0.
            seed: signed 64-bit seed; None draws a fresh random seed.
            label: for a class-conditional export (required there), the class of every
                sample: a class name (compared without regard to case) or an index in
                ``[0, num_classes)``. An unconditional export refuses it.
            batch_size: run the generator in chunks of this many rows (None: one run).

        Returns:
            uint8 array ``(n, *image_shape)`` for images (``round_half_to_even((clip(x, -1,
            1) + 1) * 127.5)``), or float32 values for flat outputs.

        Raises:
            ValueError: ``label`` missing, unknown or out of range (the message lists the
                classes), or given to an unconditional export.

        Example:
            >>> sampler.sample(8, seed=0).dtype  # doctest: +SKIP
            dtype('uint8')
            >>> conditional.sample(16, seed=0, label="sneaker").shape  # doctest: +SKIP
            (16, 28, 28, 1)
        """
        unlabelled = self.class_names is None and label is None
        index = None if unlabelled else self.label_index(label)  # checked before any work
        if seed is None:
            seed = secrets.randbits(63)
        z = latent(n, seed, self.latent_dim)
        if index is None:  # an unconditional export: generate(z) as before labels existed
            images = self.generate(z, batch_size=batch_size)
        else:
            images = self.generate(z, labels=index, batch_size=batch_size)
        if self.sample_dtype == np.uint8:
            return _images.to_uint8(images)
        return images

    @staticmethod
    def save_grid(
        images: np.ndarray,
        path: str | os.PathLike,
        columns: int | None = None,
        padding: int = 2,
        scale: int | None = None,
        row_labels: list[str] | None = None,
    ) -> Path:
        """Tile images ``(n, H, W[, C])`` into one PNG file (written atomically).

        Args:
            images: uint8, or float in [-1, 1].
            path: the PNG file to write.
            columns: images per row (ceil(sqrt(n)) when None).
            padding: pixels between images.
            scale: whole-number enlargement of each image; None: 28 pixels -> 4
                (``keras_gan.serving.images.default_scale``).
            row_labels: a text per grid row, drawn on the left.

        Returns:
            The written path.

        Example:
            >>> Sampler.save_grid(sampler.sample(16, seed=1), "grid.png")  # doctest: +SKIP
            PosixPath('grid.png')
        """
        return _images.save_grid(
            images, path, columns=columns, padding=padding, scale=scale, row_labels=row_labels
        )

    def __repr__(self) -> str:
        return (
            f"Sampler({str(self.files.onnx)!r}, latent_dim={self.latent_dim}, "
            f"image_shape={self.image_shape}, version={self.version}"
            + ("" if self.num_classes is None else f", num_classes={self.num_classes}")
            + ")"
        )
