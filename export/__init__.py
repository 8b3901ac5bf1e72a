"""keras_gan.export: write generators as SavedModel (TF Serving layout) and ONNX.

``export(model, base_dir)`` writes one version directory ``base_dir/<version>/`` holding

* the SavedModel (``saved_model.pb``, ``variables/``, ``assets/keras_gan.json``) with the
  signatures ``serving_default`` (``z`` -> ``images``) and ``sample`` (``n``, ``seed`` ->
  ``images``), loadable by TF Serving with ``base_dir`` as its model base path;
* ``model.onnx`` (``z`` -> ``images``) and ``model.sample.onnx`` (``n``, ``seed`` -> ``images``)
  for onnxruntime (``keras_gan.serving``).

A class-conditional generator (inputs ``[z, labels]``) is exported with the labels as inputs:
``serving_default(z, labels)`` and ``sample(n, seed, label)``, in both formats, and its
``num_classes`` and ``class_names`` in the metadata.

The directory is built in a hidden temporary sibling and renamed into place when complete.
``sample`` draws ``z`` in-graph by the recipe ``keras_gan.latent.v1`` (written out in
``keras_gan.serving.latent``), so both runtimes give the same images for the same seed.

Example:
    >>> from keras_gan.export import export, verify
    >>> version_dir = export(gan, "models/fashion_dcgan")  # doctest: +SKIP
    >>> verify(version_dir).max_abs_difference < 1e-5  # doctest: +SKIP
    True
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from keras_gan.export.metadata import build_metadata
from keras_gan.export.onnx import build_onnx_models, export_onnx
from keras_gan.export.saved_model import check_version, export_saved_model, write_saved_model
from keras_gan.export.source import (
    ExportError,
    atomic_directory,
    next_version,
    resolve_with_metadata,
    write_bytes_atomic,
)
from keras_gan.export.verify import VerifyReport, verify
from keras_gan.serving.latent import RECIPE
from keras_gan.serving.layout import ASSET_NAME, METADATA_KEY, ONNX_NAME, SAMPLE_ONNX_NAME

__all__ = [
    "ASSET_NAME",
    "FORMATS",
    "METADATA_KEY",
    "ONNX_NAME",
    "RECIPE",
    "SAMPLE_ONNX_NAME",
    "ExportError",
    "VerifyReport",
    "export",
    "export_and_verify",
    "export_onnx",
    "export_saved_model",
    "next_version",
    "verify",
]

FORMATS = ("saved_model", "onnx")
_ATTEMPTS = 5


def export(
    model: Any,
    base_dir: str | os.PathLike,
    formats: Iterable[str] = FORMATS,
    version: int | None = None,
    metadata: Mapping[str, Any] | None = None,
    opset: int = 18,
) -> Path:
    """Write one version directory ``base_dir/<version>/`` with the requested formats.

    Args:
        model: a GAN (its ``sampling_generator`` is exported), a bare generator
            ``keras.Model`` or a fitted mixture (``as_generator``). A conditional GAN
            (``num_classes``) or a generator with the inputs ``[z, labels]`` is exported with
            the labels as inputs.
        base_dir: the model base path (TF Serving's and ``keras_gan.serving``'s).
        formats: any of ``"saved_model"`` and ``"onnx"``.
        version: positive integer; None takes the next free one.
        metadata: entries that override or extend the default metadata (``dataset``,
            ``epochs``, ``evaluation``, ``model_kind``, ``image_shape`` for a mixture,
            ``num_classes`` and ``class_names`` for a bare conditional generator, ...).
        opset: ONNX opset (18).

    Returns:
        The version directory.

    Raises:
        ExportError: the ONNX conversion or its checks failed; nothing was written.
        FileExistsError: ``base_dir/<version>`` exists already.

    Example:
        >>> export(generator, "models/g", formats=("onnx",))  # doctest: +SKIP
        PosixPath('models/g/1')
        >>> export(conditional_generator, "models/c",
        ...        metadata={"num_classes": 10, "class_names": names})  # doctest: +SKIP
        PosixPath('models/c/1')
    """
    return _export(model, base_dir, formats, version, metadata, opset, check=None)[0]


def export_and_verify(
    model: Any,
    base_dir: str | os.PathLike,
    formats: Iterable[str] = FORMATS,
    version: int | None = None,
    metadata: Mapping[str, Any] | None = None,
    opset: int = 18,
    atol: float = 1e-5,
) -> VerifyReport:
    """``export``, with ``verify`` run on the finished directory before it is renamed into place.

    A model that fails verification never appears under ``base_dir``.

    Args:
        model: as for ``export``.
        base_dir: as for ``export``.
        formats: as for ``export``.
        version: as for ``export``.
        metadata: as for ``export``.
        opset: as for ``export``.
        atol: the largest allowed SavedModel-vs-ONNX difference (see ``verify``).

    Returns:
        The ``VerifyReport``; its ``path`` is the version directory.

    Raises:
        VerificationError: the export does not behave as its metadata says; nothing written.

    Example:
        >>> export_and_verify(gan, "models/g").max_abs_difference  # doctest: +SKIP
        4.76837158203125e-07
    """
    path, report = _export(model, base_dir, formats, version, metadata, opset, check=atol)
    report.path = path
    return report


def _export(
    model: Any,
    base_dir: str | os.PathLike,
    formats: Iterable[str],
    version: int | None,
    metadata: Mapping[str, Any] | None,
    opset: int,
    check: float | None,
) -> tuple[Path, VerifyReport | None]:
    formats = tuple(formats)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(
            f"formats must be a non-empty selection of {FORMATS}. Received: formats={formats!r}"
        )
    source = resolve_with_metadata(model, metadata)
    meta = build_metadata(source, metadata)
    protos = build_onnx_models(source, meta, opset=opset) if "onnx" in formats else None
    base = Path(base_dir)
    explicit = version is not None
    version = check_version(version) if explicit else next_version(base)
    for _ in range(_ATTEMPTS):
        report = None
        try:
            with atomic_directory(base / str(version)) as tmp:
                if "saved_model" in formats:
                    write_saved_model(source, meta, tmp)
                if protos is not None:
                    write_bytes_atomic(tmp / ONNX_NAME, protos[0].SerializeToString())
                    write_bytes_atomic(tmp / SAMPLE_ONNX_NAME, protos[1].SerializeToString())
                if check is not None:
                    report = verify(tmp, atol=check)
            return base / str(version), report
        except FileExistsError:
            # Another exporter took this number meanwhile: take the next one.
            if explicit:
                raise
            version = next_version(base)
    raise ExportError(f"No free version directory in {base} after {_ATTEMPTS} attempts.")
