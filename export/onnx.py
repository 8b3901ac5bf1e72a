"""Export a generator to ONNX: ``model.onnx`` (z -> images), ``model.sample.onnx`` (n, seed).

Both graphs are converted from ``tf.function`` s by tf2onnx (what ``Model.export(format="onnx")``
uses), then checked before anything is written: tf2onnx reports success even when it leaves an
op it cannot convert (TensorFlow's stateless random ops, for one) in an invalid graph, so every
model goes through ``onnx.checker.check_model`` and an onnxruntime load, and a failure names the
unconverted ops. Files are written to temporary siblings and renamed into place.

Entry points (input -> output names):

* ``model.onnx``: ``z`` float32 ``[N, latent_dim]`` -> ``images`` float32 ``[N, *image_shape]``
  in [-1, 1];
* ``model.sample.onnx``: ``n`` int32 scalar, ``seed`` int64 scalar -> ``images`` uint8
  ``[n, *image_shape]`` (float32 values for flat ``[D]`` outputs), with ``z`` drawn in-graph by
  the recipe ``keras_gan.latent.v1`` (``keras_gan.serving.latent``).

A class-conditional generator's files take the labels too: ``model.onnx`` the inputs ``z`` and
``labels`` (int32 ``[N]``), ``model.sample.onnx`` the inputs ``n``, ``seed`` and ``label`` (int32
scalar, one class for all ``n`` rows).

The metadata JSON is stored in each file's ``metadata_props`` under the key ``keras_gan``.

Example:
    >>> from keras_gan.export import export_onnx
    >>> export_onnx(generator, "out/model.onnx")  # doctest: +SKIP
    PosixPath('out/model.onnx')
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import tensorflow as tf
from keras_gan.export.metadata import build_metadata, dumps
from keras_gan.export.rewrite import convtranspose_to_conv
from keras_gan.export.signatures import input_signatures, make_generate_fn, make_sample_fn
from keras_gan.export.source import (
    ExportError,
    ExportSource,
    resolve_with_metadata,
    write_bytes_atomic,
)
from keras_gan.serving.layout import METADATA_KEY, sample_path_for

__all__ = ["DEFAULT_OPSET", "MAX_OPSET", "build_onnx_models", "export_onnx", "sample_path_for"]

#: Opset used by default; the highest that tf2onnx 1.17 converts to.
DEFAULT_OPSET = 18
MAX_OPSET = 18
MIN_OPSET = 18  # BitwiseAnd/BitwiseXor, used by the latent recipe, arrive in opset 18.


def export_onnx(
    model: Any,
    path: str | os.PathLike,
    opset: int = DEFAULT_OPSET,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``path`` (z -> images) and ``<stem>.sample.onnx`` (n, seed -> images), both checked.

    Args:
        model: a GAN, a bare generator ``keras.Model`` or a fitted mixture (see
            ``keras_gan.export.source.resolve``).
        path: destination of the ``z -> images`` model, conventionally ``.../model.onnx``.
        opset: ONNX opset; 18 (the recipe needs opset 18's bitwise ops and tf2onnx 1.17 stops
            at 18).
        metadata: entries that override or extend the default metadata (``dataset``,
            ``epochs``, ``evaluation``, ...).

    Returns:
        ``path``.

    Raises:
        ExportError: conversion left unsupported ops, or the model fails the ONNX checker or
            does not load in onnxruntime. Nothing is written then.

    Example:
        >>> path = export_onnx(generator, "exports/model.onnx")  # doctest: +SKIP
        >>> import onnxruntime as ort  # doctest: +SKIP
        >>> ort.InferenceSession(path).run(None, {"z": z})[0].shape  # doctest: +SKIP
        (16, 28, 28, 1)
    """
    path = Path(path)
    source = resolve_with_metadata(model, metadata)
    meta = build_metadata(source, metadata)
    generate, sample = build_onnx_models(source, meta, opset=opset)
    sample_path = sample_path_for(path)
    write_bytes_atomic(sample_path, sample.SerializeToString())
    try:
        write_bytes_atomic(path, generate.SerializeToString())
    except BaseException:
        sample_path.unlink(missing_ok=True)
        raise
    return path


def build_onnx_models(
    source: ExportSource,
    metadata: Mapping[str, Any],
    opset: int = DEFAULT_OPSET,
    rewrite_conv_transpose: bool = True,
) -> tuple[onnx.ModelProto, onnx.ModelProto]:
    """Convert, annotate and check both entry points; nothing touches the disk.

    Args:
        source: the resolved generator.
        metadata: the metadata dict to store under ``metadata_props["keras_gan"]``.
        opset: ONNX opset (18).
        rewrite_conv_transpose: replace ``ConvTranspose`` by ``Conv`` + ``DepthToSpace``
            (``keras_gan.export.rewrite``), which onnxruntime runs several times faster on
            CPU; kept only where both graphs agree within 1e-5 on the same inputs.

    Returns:
        ``(generate_model, sample_model)``, each passed by the ONNX checker and onnxruntime.

    Example:
        >>> generate, sample = build_onnx_models(resolve(generator), meta)  # doctest: +SKIP
    """
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= MAX_OPSET:
        raise ValueError(
            f"opset must be {MIN_OPSET}..{MAX_OPSET} (tf2onnx 1.17 converts up to opset 18 and "
            f"the latent recipe needs opset 18's bitwise ops). Received: opset={opset!r}"
        )
    text = dumps(metadata)
    generate_spec, sample_spec = input_signatures(source)
    generate = _convert(
        make_generate_fn(source.generator, source.conditional), generate_spec, opset, "generate"
    )
    sample = _convert(
        make_sample_fn(source.generator, source.latent_dim, source.image_like, source.conditional),
        sample_spec,
        opset,
        "sample",
    )
    generate_feed = _generate_feed(source, 4)
    sample_feed = _sample_feed(source, 4)
    if rewrite_conv_transpose:
        generate = _rewrite_checked(generate, generate_feed)
        sample = _rewrite_checked(sample, sample_feed)
    labels_doc = ", labels int32 [N]" if source.conditional else ""
    label_doc = ", label int32" if source.conditional else ""
    for proto, doc in (
        (generate, f"z float32 [N, latent_dim]{labels_doc} -> images float32 in [-1, 1]"),
        (sample, f"n int32, seed int64{label_doc} -> images (z by the recipe keras_gan.latent.v1)"),
    ):
        proto.doc_string = doc
        _name_batch_axis(proto, "N" if proto is generate else "n")
        del proto.metadata_props[:]
        proto.metadata_props.add(key=METADATA_KEY, value=text)
        _check(proto, opset)
    _check_io(generate, [spec.name for spec in generate_spec], _generate_feed(source, 2))
    _check_io(sample, [spec.name for spec in sample_spec], _sample_feed(source, 2))
    return generate, sample


def _generate_feed(source: ExportSource, rows: int) -> dict[str, np.ndarray]:
    """A test input of ``model.onnx``: ``rows`` random ``z`` (and labels cycling the classes)."""
    rng = np.random.default_rng(0)
    feed = {"z": rng.standard_normal((rows, source.latent_dim)).astype(np.float32)}
    if source.conditional:
        feed["labels"] = (np.arange(rows) % source.num_classes).astype(np.int32)
    return feed


def _sample_feed(source: ExportSource, n: int) -> dict[str, np.ndarray]:
    """A test input of ``model.sample.onnx``: ``n``, seed 0 (and the last class)."""
    feed = {"n": np.array(n, np.int32), "seed": np.array(0, np.int64)}
    if source.conditional:
        feed["label"] = np.array(source.num_classes - 1, np.int32)
    return feed


def _rewrite_checked(
    proto: onnx.ModelProto, feed: dict[str, np.ndarray], atol: float = 1e-5
) -> onnx.ModelProto:
    """``convtranspose_to_conv`` on a copy, kept only if onnxruntime gives the same outputs."""
    rewritten, count = convtranspose_to_conv(_copy(proto))
    if count == 0:
        return proto
    try:
        before = _session(proto).run(None, feed)[0]
        after = _session(rewritten).run(None, feed)[0]
    except ExportError:
        return proto
    if before.shape != after.shape or before.dtype != after.dtype:
        return proto
    # uint8 samples may differ by one where a value lies on a rounding boundary.
    tolerance = 1 if before.dtype == np.uint8 else atol
    difference = np.abs(before.astype(np.float64) - after.astype(np.float64))
    return rewritten if difference.size == 0 or difference.max() <= tolerance else proto


def _copy(proto: onnx.ModelProto) -> onnx.ModelProto:
    copy = onnx.ModelProto()
    copy.CopyFrom(proto)
    return copy


def _convert(
    fn: Callable, input_signature: Sequence[tf.TensorSpec], opset: int, name: str
) -> onnx.ModelProto:
    import tf2onnx

    _patch_tf2onnx()
    function = tf.function(fn, input_signature=input_signature, autograph=False)
    try:
        proto, _ = tf2onnx.convert.from_function(
            function, input_signature=input_signature, opset=opset
        )
    except Exception as error:
        raise ExportError(f"tf2onnx could not convert the {name!r} entry point: {error}") from error
    _restore_double_log(proto)
    return proto


def _patch_tf2onnx() -> None:
    # Keras applies this compatibility patch (tf2onnx 1.17 on numpy 2) inside
    # Model.export(format="onnx"); the same conversion runs here.
    try:
        from keras.src.export.tf2onnx_lib import patch_tf2onnx
    except ImportError:  # A Keras without the patch does not need it.
        return
    with warnings.catch_warnings():
        # The patch probes `np.object`, which numpy 2 answers with a FutureWarning.
        warnings.simplefilter("ignore", FutureWarning)
        patch_tf2onnx()


def _restore_double_log(proto: onnx.ModelProto) -> None:
    """Undo tf2onnx's float32 detour for float64 ``Log``.

    tf2onnx wraps every float64 ``Log`` in ``Cast(float)`` / ``Cast(double)`` because early
    onnxruntime releases had no float64 ``Log``. That detour rounds the latent recipe's
    ``log(u1)`` to float32 and breaks its bit-for-bit agreement with TensorFlow; onnxruntime
    runs float64 ``Log`` natively (the model is loaded in onnxruntime before it is written),
    so the casts are removed.
    """
    graph = proto.graph
    if not any(node.op_type == "Log" for node in graph.node):
        return
    inferred = onnx.shape_inference.infer_shapes(proto).graph
    elem_type = {
        info.name: info.type.tensor_type.elem_type
        for info in [*inferred.value_info, *inferred.input, *inferred.output]
    }
    producer = {name: node for node in graph.node for name in node.output}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    def cast_to(node: onnx.NodeProto | None) -> int | None:
        if node is None or node.op_type != "Cast":
            return None
        return next((a.i for a in node.attribute if a.name == "to"), None)

    unused: list[onnx.NodeProto] = []
    for node in graph.node:
        if node.op_type != "Log":
            continue
        down, up = consumers.get(node.output[0], []), producer.get(node.input[0])
        if cast_to(up) != onnx.TensorProto.FLOAT or len(down) != 1:
            continue
        if cast_to(down[0]) != onnx.TensorProto.DOUBLE:
            continue
        if elem_type.get(up.input[0]) != onnx.TensorProto.DOUBLE:
            continue
        node.input[0] = up.input[0]
        node.output[0] = down[0].output[0]
        unused.append(down[0])
        if len(consumers[up.output[0]]) == 1:
            unused.append(up)
    for node in unused:
        graph.node.remove(node)


def _name_batch_axis(proto: onnx.ModelProto, name: str) -> None:
    # tf2onnx names unknown dimensions "unk__<k>"; name the batch axis of z and images instead.
    for value in [*proto.graph.input, *proto.graph.output]:
        dims = value.type.tensor_type.shape.dim
        if dims and not dims[0].HasField("dim_value"):
            dims[0].dim_param = name


def _check(proto: onnx.ModelProto, opset: int) -> None:
    unknown = sorted(
        {
            node.op_type
            for node in proto.graph.node
            if not onnx.defs.has(node.op_type, max_inclusive_version=opset, domain=node.domain)
        }
    )
    if unknown:
        raise ExportError(
            f"tf2onnx left TensorFlow ops with no ONNX opset {opset} equivalent: "
            f"{', '.join(unknown)}. Replace them in the generator (stateless random ops, for "
            "one, do not convert)."
        )
    try:
        onnx.checker.check_model(proto, full_check=True)
    except onnx.checker.ValidationError as error:
        raise ExportError(f"The converted ONNX model is invalid: {error}") from error


def _session(proto: onnx.ModelProto) -> Any:
    import onnxruntime as ort

    try:
        return ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    except Exception as error:
        raise ExportError(f"onnxruntime cannot load the converted model: {error}") from error


def _check_io(proto: onnx.ModelProto, input_names: list[str], feed: dict[str, np.ndarray]) -> None:
    session = _session(proto)
    inputs = [i.name for i in session.get_inputs()]
    outputs = [o.name for o in session.get_outputs()]
    if inputs != input_names or outputs != ["images"]:
        raise ExportError(
            f"The converted model has inputs {inputs} and outputs {outputs}; expected "
            f"{input_names} -> ['images']."
        )
    try:
        session.run(None, feed)
    except Exception as error:
        raise ExportError(f"onnxruntime cannot run the converted model: {error}") from error
