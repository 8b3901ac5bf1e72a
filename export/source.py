"""What gets exported: turn a GAN, a bare generator or a fitted mixture into one Keras generator.

Models are duck-typed so that export never imports the training classes:

* a fitted Gaussian mixture: anything with ``as_generator(...)``; exported as the Keras model it
  returns (its latent size is ``n_features + 1`` and standard-normal ``z`` gives exact samples);
* a GAN: anything with ``generator`` and ``latent_dim``; its ``sampling_generator`` (the EMA
  generator when enabled) is exported when present;
* a bare generator: a ``keras.Model`` with one input ``[None, latent_dim]`` and one output
  ``[None, H, W, C]`` (any rank >= 2; ``[None, D]`` for flat data or 2-D points).

A class-conditional generator has two inputs, ``[z, labels]`` in that order: ``z`` float32
``[None, latent_dim]`` and ``labels`` int32 ``[None]``. Its number of classes and their names come
from the GAN (``num_classes``, ``class_names``) or, for a bare generator, from the caller's
metadata (``num_classes`` required, ``class_names`` optional: ``"0"``, ``"1"``, ... when absent).

The metadata's ``model_kind`` is the caller's when given (``keras-gan export`` passes the
``model`` of the run's ``run.json``). Only without one is it guessed from the model: ``gmm``
for a mixture, ``generator`` for a bare generator, and for a GAN its name (presets name the
model), else its class, else its penalty or constraint (the fallback for a ``.keras`` file
exported on its own).

Example:
    >>> source = resolve(generator)  # doctest: +SKIP
    >>> source.latent_dim, source.output_shape  # doctest: +SKIP
    (100, (28, 28, 1))
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from keras_gan import _atomic

__all__ = [
    "ExportError",
    "ExportSource",
    "atomic_directory",
    "check_class_names",
    "next_version",
    "resolve",
    "resolve_with_metadata",
    "write_bytes_atomic",
]

# Names of the training library's GAN variants -> metadata model_kind, for the guess.
_KIND_BY_CLASS = {"gan": "gan", "dcgan": "dcgan", "wgan": "wgan", "wgangp": "wgan_gp"}


class ExportError(RuntimeError):
    """An export could not be completed; nothing was left at the destination.

    Example:
        >>> raise ExportError("ONNX conversion left unsupported ops: Foo")  # doctest: +SKIP
    """


@dataclasses.dataclass(frozen=True)
class ExportSource:
    """A generator ready to export, with what the metadata needs to say about it.

    Attributes:
        generator: the Keras model ``z [None, latent_dim] -> outputs [None, *output_shape]``,
            or ``[z, labels [None]] -> outputs`` for a class-conditional generator.
        latent_dim: length of ``z``.
        output_shape: per-sample output shape, e.g. ``(28, 28, 1)`` or ``(2,)``.
        model_kind: ``"dcgan"``, ``"gan"``, ``"wgan"``, ``"wgan_gp"``, ``"gmm"`` or ``"generator"``.
        epochs: training epochs when the model knows them, else None.
        num_classes: number of classes of a conditional generator; None when unconditional.
        class_names: the classes' names (``num_classes`` of them), or None when unconditional.

    Example:
        >>> ExportSource(generator, 4, (8, 8, 1), "generator").image_like  # doctest: +SKIP
        True
    """

    generator: keras.Model
    latent_dim: int
    output_shape: tuple[int, ...]
    model_kind: str
    epochs: int | None = None
    num_classes: int | None = None
    class_names: tuple[str, ...] | None = None

    @property
    def conditional(self) -> bool:
        """True when the generator takes ``[z, labels]`` (``num_classes`` is set)."""
        return self.num_classes is not None

    @property
    def image_like(self) -> bool:
        """True when outputs are images (``[H, W]`` or ``[H, W, C]``): ``sample`` returns uint8."""
        return len(self.output_shape) >= 2


def resolve_with_metadata(model: Any, metadata: Mapping[str, Any] | None) -> ExportSource:
    """``resolve`` with what the caller's export ``metadata`` says about the model.

    The entries read are ``image_shape``, ``model_kind``, ``num_classes`` and ``class_names``.

    Args:
        model: as for ``resolve``.
        metadata: the caller's metadata, or None.

    Returns:
        The ``ExportSource``.

    Example:
        >>> source = resolve_with_metadata(generator, {"num_classes": 10})  # doctest: +SKIP
        >>> source.class_names[:2]  # doctest: +SKIP
        ('0', '1')
    """
    given = metadata or {}
    return resolve(
        model,
        image_shape=given.get("image_shape"),
        model_kind=given.get("model_kind"),
        num_classes=given.get("num_classes"),
        class_names=given.get("class_names"),
    )


def resolve(
    model: Any,
    image_shape: Sequence[int] | None = None,
    model_kind: str | None = None,
    num_classes: int | None = None,
    class_names: Sequence[str] | None = None,
) -> ExportSource:
    """Find the generator to export inside ``model``.

    Args:
        model: a GAN (``generator`` + ``latent_dim``), a bare generator ``keras.Model`` or a
            fitted mixture (``as_generator``).
        image_shape: for a mixture only, the image shape its samples are reshaped to (passed to
            ``as_generator(image_shape=...)``); None keeps the mixture's own output shape.
        model_kind: the ``model_kind`` to record (a run's ``run.json`` knows it); None guesses
            it from the model (see the module docstring).
        num_classes: for a conditional generator, its number of classes; a GAN's own
            ``num_classes`` is used when this is None (and must agree when both are given).
        class_names: the classes' names; a GAN's own ``class_names`` when None, else
            ``"0"``, ``"1"``, ...

    Returns:
        The ``ExportSource``.

    Raises:
        TypeError: ``model`` is none of the above.
        ValueError: the generator does not map one ``[None, latent_dim]`` input (or the
            inputs ``[z, labels]``) to one output, or the classes are missing or disagree.

    Example:
        >>> resolve(gan).generator is gan.sampling_generator  # doctest: +SKIP
        True
    """
    epochs = _epochs_of(model)
    own_classes, own_names = None, None
    if hasattr(model, "as_generator"):
        kwargs = {} if image_shape is None else {"image_shape": tuple(int(d) for d in image_shape)}
        generator, kind, latent_dim = model.as_generator(**kwargs), "gmm", None
    elif hasattr(model, "generator") and hasattr(model, "latent_dim"):
        generator = getattr(model, "sampling_generator", None) or model.generator
        kind = model_kind or _guess_gan_kind(model)
        latent_dim = int(model.latent_dim)
        own_classes = getattr(model, "num_classes", None)
        own_names = getattr(model, "class_names", None)
    elif isinstance(model, keras.Model):
        generator, kind, latent_dim = model, "generator", None
    else:
        raise TypeError(
            "export expects a GAN (with `generator` and `latent_dim`), a generator keras.Model "
            f"or a fitted mixture (with `as_generator`). Received: model={type(model).__name__}"
        )
    if not isinstance(generator, keras.Model):
        raise TypeError(
            f"The generator to export must be a keras.Model. Received: {type(generator).__name__}"
        )
    input_dim, conditional = _latent_dim_of(generator)
    if latent_dim is not None and input_dim is not None and input_dim != latent_dim:
        raise ValueError(
            f"The generator's input has {input_dim} features but the model says "
            f"latent_dim={latent_dim}."
        )
    latent_dim = latent_dim or input_dim
    if latent_dim is None:
        raise ValueError(
            "Cannot tell the generator's latent size: build it or call it once first. "
            f"Received: input_shape={_input_shape(generator)}"
        )
    num_classes, class_names = _classes(
        conditional, own_classes, own_names, num_classes, class_names
    )
    generator = float32_copy(generator)
    z = np.zeros((1, latent_dim), np.float32)
    inputs = [z, np.zeros((1,), np.int32)] if conditional else z
    output = generator(inputs, training=False)
    if isinstance(output, (list, tuple, dict)):
        raise ValueError(
            f"The generator must have one output tensor. Received: {type(output).__name__}"
        )
    output_shape = tuple(int(d) for d in output.shape[1:])
    if not output_shape:
        raise ValueError(
            f"The generator's output must be at least [batch, D]. Received: shape={output.shape}"
        )
    return ExportSource(
        generator,
        int(latent_dim),
        output_shape,
        model_kind or kind,
        epochs,
        num_classes,
        class_names,
    )


def check_class_names(class_names: Any, num_classes: int) -> tuple[str, ...]:
    """Validate the names of ``num_classes`` classes: distinct non-empty strings, ignoring case.

    Serving looks classes up by name without regard to case, so two names that differ only in
    case would be ambiguous.

    Args:
        class_names: a sequence of ``num_classes`` strings.
        num_classes: the number of classes.

    Returns:
        The names as a tuple.

    Raises:
        ValueError: not a sequence of ``num_classes`` distinct non-empty strings.

    Example:
        >>> check_class_names(["top", "trouser"], 2)
        ('top', 'trouser')
    """
    if isinstance(class_names, (str, bytes)) or not isinstance(class_names, Sequence):
        raise ValueError(
            f"class_names must be a sequence of {num_classes} strings. "
            f"Received: class_names={class_names!r}"
        )
    names = tuple(class_names)
    if len(names) != num_classes or not all(isinstance(n, str) and n.strip() for n in names):
        raise ValueError(
            f"class_names must hold {num_classes} non-empty strings (num_classes={num_classes}). "
            f"Received: class_names={list(names)!r}"
        )
    folded = [n.casefold() for n in names]
    if len(set(folded)) != len(folded):
        raise ValueError(
            "class_names must differ other than in case (classes are looked up by name "
            f"without regard to case). Received: class_names={list(names)!r}"
        )
    return names


def _classes(
    conditional: bool,
    own_classes: Any,
    own_names: Any,
    num_classes: Any,
    class_names: Any,
) -> tuple[int | None, tuple[str, ...] | None]:
    """The exported ``(num_classes, class_names)``: the model's, the caller's, or both agreeing."""
    for key, own, given in (
        ("num_classes", own_classes, num_classes),
        ("class_names", own_names, class_names),
    ):
        if own is not None and given is not None and list(_as_list(own)) != list(_as_list(given)):
            raise ValueError(f"Metadata says {key}={given!r} but the model has {key}={own!r}.")
    count = own_classes if own_classes is not None else num_classes
    names = own_names if own_names is not None else class_names
    if not conditional:
        if count is not None or names is not None:
            raise ValueError(
                "num_classes and class_names describe a conditional generator (inputs "
                "[z, labels]); this generator has the single input z. "
                f"Received: num_classes={count!r}, class_names={names!r}"
            )
        return None, None
    if count is None:
        raise ValueError(
            "The generator takes [z, labels] but its number of classes is unknown: export the "
            "GAN (with num_classes) or pass metadata={'num_classes': ..., 'class_names': [...]}."
        )
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise ValueError(f"num_classes must be a positive integer. Received: num_classes={count!r}")
    count = int(count)
    names = tuple(str(i) for i in range(count)) if names is None else names
    return count, check_class_names(names, count)


def _as_list(value: Any) -> Any:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def float32_copy(generator: keras.Model) -> keras.Model:
    """The generator itself when every layer computes in float32, else a float32 copy.

    A generator trained under a mixed dtype policy (``mixed_bfloat16``, ``mixed_float16``)
    keeps float32 variables but computes in half precision; ONNX runtimes lack half-precision
    kernels for many ops (bfloat16 MatMul, for one), so the export computes in float32 with the
    same weights: it takes and returns float32 and differs from the Keras model by the half
    precision's rounding only.

    Example:
        >>> float32_copy(generator) is generator  # doctest: +SKIP
        True
    """
    layers = generator._flatten_layers(include_self=False)
    if all(getattr(layer, "compute_dtype", "float32") == "float32" for layer in layers):
        return generator

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        return layer.__class__.from_config({**layer.get_config(), "dtype": "float32"})

    try:
        copy = keras.models.clone_model(generator, clone_function=clone)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"the generator computes in {generator.compute_dtype} and could not be rebuilt in "
            f"float32 for export ({error}); build it under the float32 policy"
        ) from None
    copy.set_weights(generator.get_weights())
    return copy


def _guess_gan_kind(model: Any) -> str:
    """``model_kind`` of a GAN when the caller gave none: its name, class, penalty or constraint."""
    for label in (getattr(model, "name", None), type(model).__name__):
        if isinstance(label, str):
            kind = _KIND_BY_CLASS.get(label.lower().replace("_", "").replace("-", ""))
            if kind is not None and kind != "gan":
                return kind
    penalty = getattr(model, "penalty", None)
    if penalty is not None and "gradient" in type(penalty).__name__.lower():
        return "wgan_gp"
    if getattr(model, "constraint", None) is not None:
        return "wgan"
    return "gan"


def _input_shape(generator: keras.Model) -> Any:
    try:
        return generator.input_shape
    except (AttributeError, ValueError):
        return None


def _latent_dim_of(generator: keras.Model) -> tuple[int | None, bool]:
    """``(latent_dim, conditional)`` from the generator's inputs: ``z``, or ``[z, labels]``."""
    shape = _input_shape(generator)
    if shape is None:
        return None, False
    conditional = False
    if isinstance(shape, list) or (shape and isinstance(shape[0], (list, tuple))):
        if len(shape) != 2 or len(shape[0] or ()) != 2 or len(shape[1] or ()) != 1:
            raise ValueError(
                "The generator must have exactly one input z [None, latent_dim], or the two "
                "inputs [z, labels] of a class-conditional generator (z [None, latent_dim], "
                f"labels [None]). Received: input_shape={shape}"
            )
        shape, conditional = shape[0], True
    if len(shape) != 2 or shape[1] is None:
        raise ValueError(
            f"The generator's input must be [None, latent_dim]. Received: input_shape={shape}"
        )
    return int(shape[1]), conditional


def _epochs_of(model: Any) -> int | None:
    history = getattr(model, "history", None)
    epochs = getattr(history, "epoch", None)
    if isinstance(epochs, list) and epochs:
        return int(epochs[-1]) + 1
    return None


def next_version(base_dir: str | os.PathLike) -> int:
    """The next free TF Serving version number in ``base_dir``: 1 + the largest integer dir, or 1.

    Args:
        base_dir: the model's base path (it need not exist).

    Returns:
        A positive integer.

    Example:
        >>> next_version("/nonexistent")
        1
    """
    base = Path(base_dir)
    if not base.is_dir():
        return 1
    versions = [int(p.name) for p in base.iterdir() if p.is_dir() and p.name.isdigit()]
    return max(versions, default=0) + 1


# Build a version directory aside and rename it into place (see keras_gan._atomic).
atomic_directory = _atomic.atomic_directory


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically and durably (:func:`keras_gan._atomic.write_bytes`).

    Args:
        path: the destination file.
        data: its full contents.

    Example:
        >>> write_bytes_atomic(Path("model.onnx"), proto.SerializeToString())  # doctest: +SKIP
    """
    _atomic.write_bytes(path, data, durable=True)
