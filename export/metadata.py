"""The metadata that travels with every export (``assets/keras_gan.json``, ONNX ``metadata_props``).

Where it is stored and which keys it has are the export layout, ``keras_gan.serving.layout``.

Example:
    >>> meta = build_metadata(source, {"dataset": "fashion_mnist"})  # doctest: +SKIP
    >>> meta["latent_recipe"]  # doctest: +SKIP
    'keras_gan.latent.v1'
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from typing import Any

import keras
import tensorflow as tf
from keras_gan.export.source import ExportSource
from keras_gan.serving.latent import RECIPE
from keras_gan.serving.layout import ASSET_NAME, FORMAT_VERSION, METADATA_KEY

__all__ = [
    "ASSET_NAME",
    "FORMAT_VERSION",
    "METADATA_KEY",
    "build_metadata",
    "dumps",
]


def build_metadata(source: ExportSource, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Describe an exported generator; entries of ``extra`` override and extend the defaults.

    Args:
        source: the resolved generator.
        extra: caller-supplied entries such as ``dataset``, ``epochs``, ``evaluation`` or
            ``model_kind`` (a training run's ``run.json`` knows these).

    Returns:
        A JSON-serialisable dict with ``format_version``, ``model_kind``, ``latent_dim``,
        ``image_shape``, ``output_range``, ``dataset``, ``epochs``, ``keras_gan_version``,
        ``tensorflow_version``, ``keras_version``, ``latent_recipe``, ``evaluation``,
        ``sample_dtype``, ``signatures`` and ``created``; for a conditional generator also
        ``num_classes`` and ``class_names`` (a list), and the label inputs in ``signatures``.

    Raises:
        ValueError: ``extra`` disagrees with the generator about ``latent_dim``,
            ``image_shape``, ``num_classes`` or ``class_names``, or is not JSON-serialisable.

    Example:
        >>> build_metadata(source)["output_range"]  # doctest: +SKIP
        [-1.0, 1.0]
    """
    import keras_gan

    sample_dtype = "uint8" if source.image_like else "float32"
    generate_inputs: dict[str, Any] = {"z": ["float32", [None, source.latent_dim]]}
    sample_inputs: dict[str, Any] = {"n": ["int32", []], "seed": ["int64", []]}
    if source.conditional:
        generate_inputs["labels"] = ["int32", [None]]
        sample_inputs["label"] = ["int32", []]
    metadata: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "model_kind": source.model_kind,
        "latent_dim": source.latent_dim,
        "image_shape": list(source.output_shape),
        "output_range": [-1.0, 1.0],
        "dataset": None,
        "epochs": source.epochs,
        "keras_gan_version": keras_gan.__version__,
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        "latent_recipe": RECIPE,
        "evaluation": None,
        "sample_dtype": sample_dtype,
        "signatures": {
            "serving_default": {
                "inputs": generate_inputs,
                "outputs": {"images": ["float32", [None, *source.output_shape]]},
            },
            "sample": {
                "inputs": sample_inputs,
                "outputs": {"images": [sample_dtype, ["n", *source.output_shape]]},
            },
        },
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    for key in ("latent_dim", "image_shape"):
        if extra and key in extra and extra[key] is not None:
            given = list(extra[key]) if key == "image_shape" else extra[key]
            if given != metadata[key]:
                raise ValueError(
                    f"Metadata says {key}={extra[key]!r} but the generator has "
                    f"{key}={metadata[key]!r}."
                )
    metadata.update(extra or {})
    if source.conditional:
        # resolve() checked the caller's entries against the model; record the model's.
        metadata["num_classes"] = source.num_classes
        metadata["class_names"] = list(source.class_names or ())
    dumps(metadata)  # Fail now, not halfway through an export, on values JSON cannot hold.
    return metadata


def dumps(metadata: Mapping[str, Any]) -> str:
    """The metadata as a JSON string (sorted keys, two-space indent).

    Args:
        metadata: a dict from ``build_metadata``.

    Returns:
        The JSON text.

    Example:
        >>> dumps({"latent_dim": 4})
        '{\\n  "latent_dim": 4\\n}'
    """
    try:
        return json.dumps(metadata, indent=2, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"Export metadata must be JSON-serialisable: {error}") from error
