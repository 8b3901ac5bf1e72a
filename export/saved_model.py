"""Export a generator as a SavedModel in TF Serving's layout ``base_dir/<version>/``.

Written through ``keras.export.ExportArchive`` with two signatures (both listed by
``saved_model_cli show --all`` with method ``tensorflow/serving/predict``):

* ``serving_default``: ``z`` float32 ``[None, latent_dim]`` -> ``images`` float32
  ``[None, *image_shape]`` in [-1, 1];
* ``sample``: ``n`` int32 scalar, ``seed`` int64 scalar -> ``images`` uint8
  ``[n, *image_shape]`` (float32 values for flat ``[D]`` outputs), ``z`` drawn by the recipe
  ``keras_gan.latent.v1``.

A class-conditional generator's signatures take the labels too: ``serving_default(z, labels)``
with int32 ``labels [None]`` and ``sample(n, seed, label)`` with one int32 ``label``.

The metadata JSON is written to ``assets/keras_gan.json``. The version directory is built in a
hidden sibling (``.tmp-<version>-<random>``, which TF Serving ignores) and renamed into place
only when complete.

Example:
    >>> from keras_gan.export import export_saved_model
    >>> export_saved_model(gan, "models/fashion_dcgan")  # doctest: +SKIP
    PosixPath('models/fashion_dcgan/1')
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras
from keras_gan.export.metadata import build_metadata, dumps
from keras_gan.export.signatures import input_signatures, make_generate_fn, make_sample_fn
from keras_gan.export.source import (
    ExportSource,
    atomic_directory,
    next_version,
    resolve_with_metadata,
)
from keras_gan.serving.layout import metadata_path

from keras_gan._checks import check_positive_int

__all__ = ["check_version", "export_saved_model", "write_saved_model"]


def export_saved_model(
    model: Any,
    base_dir: str | os.PathLike,
    version: int | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``base_dir/<version>/`` with the ``serving_default`` and ``sample`` signatures.

    Args:
        model: a GAN (its ``sampling_generator`` is exported), a bare generator
            ``keras.Model`` or a fitted mixture (``as_generator``).
        base_dir: TF Serving's model base path; created when missing.
        version: positive integer; None takes the next free one (1 + the largest present).
        metadata: entries that override or extend the default metadata.

    Returns:
        The version directory.

    Raises:
        FileExistsError: ``base_dir/<version>`` exists already.

    Example:
        >>> path = export_saved_model(generator, "models/g")  # doctest: +SKIP
        >>> tf.saved_model.load(str(path)).signatures["sample"](
        ...     n=tf.constant(4), seed=tf.constant(0, tf.int64))["images"].dtype  # doctest: +SKIP
        tf.uint8
    """
    source = resolve_with_metadata(model, metadata)
    meta = build_metadata(source, metadata)
    base = Path(base_dir)
    version = next_version(base) if version is None else check_version(version)
    final = base / str(version)
    with atomic_directory(final) as tmp:
        write_saved_model(source, meta, tmp)
    return final


def check_version(version: Any) -> int:
    """Validate a TF Serving version number.

    Args:
        version: the requested version.

    Returns:
        It, as an int.

    Example:
        >>> check_version(3)
        3
    """
    check_positive_int(version, "version")
    return version


def write_saved_model(
    source: ExportSource, metadata: Mapping[str, Any], directory: str | os.PathLike
) -> None:
    """Write the SavedModel (``saved_model.pb``, ``variables/``, ``assets/``) into ``directory``.

    ``directory`` is written in place; callers wanting atomicity pass a temporary directory
    (``export_saved_model`` does).

    Args:
        source: the resolved generator.
        metadata: the metadata dict, written to ``assets/keras_gan.json``.
        directory: an empty or missing directory.

    Example:
        >>> write_saved_model(resolve(generator), meta, tmp_dir)  # doctest: +SKIP
    """
    directory = Path(directory)
    archive = keras.export.ExportArchive()
    archive.track(source.generator)
    generate_spec, sample_spec = input_signatures(source)
    archive.add_endpoint(
        "serving_default",
        make_generate_fn(source.generator, source.conditional),
        input_signature=generate_spec,
    )
    archive.add_endpoint(
        "sample",
        make_sample_fn(source.generator, source.latent_dim, source.image_like, source.conditional),
        input_signature=sample_spec,
    )
    archive.write_out(str(directory), verbose=False)
    path = metadata_path(directory)
    path.parent.mkdir(exist_ok=True)
    path.write_text(dumps(metadata) + "\n", encoding="utf-8")
