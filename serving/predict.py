"""The ``:predict`` request: its two signatures, described and run on a ``Sampler``.

``predict`` turns a request body into the reply's array: it checks the body against the
``Limits`` before parsing it, reads ``z`` (``serving_default``, row or columnar format) or
``n`` and ``seed`` (``sample``), and runs the generator in chunks of ``run_rows`` rows into one
preallocated result. ``signature_def`` describes both signatures as TF Serving's model
metadata does.

A class-conditional model takes its classes too: ``serving_default`` the input ``labels``, one
integer class index per row of ``z`` (``{"instances": [{"z": [...], "labels": 3}]}`` or
``{"inputs": {"z": [[...]], "labels": [3]}}``), and ``sample`` the input ``label``, a class
name or index (``{"signature_name": "sample", "inputs": {"n": 16, "seed": 0, "label":
"sneaker"}}``). Labels are checked before any work; a missing, unknown or out-of-range class is
a 400 that lists the model's classes.

Example:
    >>> signature_def(sampler)["serving_default"]["inputs"]["z"]["dtype"]  # doctest: +SKIP
    'DT_FLOAT'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from keras_gan.serving.images import to_uint8
from keras_gan.serving.layout import SIGNATURES
from keras_gan.serving.limits import (
    ArrayReply,
    HTTPError,
    Limits,
    check_batch,
    check_body,
    check_reply,
    parse_body,
    shown,
)
from keras_gan.serving.sampler import Sampler

__all__ = ["SIGNATURES", "predict", "signature_def"]


def predict(sampler: Sampler, body: bytes, limits: Limits) -> ArrayReply:
    """Answer one ``:predict`` request body with the served ``sampler``.

    ``serving_default`` takes ``z`` in the row format (``{"instances": [...]}``, answered as
    ``{"predictions": [...]}``) or the columnar one (``{"inputs": ...}``, answered as
    ``{"outputs": ...}``); ``sample`` takes the columnar ``{"inputs": {"n": 16, "seed": 7}}``.
    A class-conditional model also takes ``labels`` (``serving_default``, one class index per
    row) or ``label`` (``sample``, a class name or index). The limits and the labels are
    checked before any work, and the generator runs ``limits.run_rows`` rows at a time.

    Args:
        sampler: the served version's ``Sampler``.
        body: the request body (JSON).
        limits: the request limits.

    Returns:
        The reply, to be written block by block.

    Raises:
        HTTPError: 400 for a malformed request, 413 for one over the limits.

    Example:
        >>> body = b'{"signature_name": "sample", "inputs": {"n": 2, "seed": 0}}'
        >>> reply = predict(sampler, body, Limits())  # doctest: +SKIP
        >>> reply.key, reply.array.shape  # doctest: +SKIP
        ('outputs', (2, 28, 28, 1))
    """
    if not body or body.isspace():
        raise HTTPError(400, "Empty request body: expected a JSON object.")
    check_body(body, sampler.latent_dim, limits, labelled=sampler.conditional)
    request = parse_body(body)
    if not isinstance(request, dict):
        raise HTTPError(
            400,
            f"The request body must be a JSON object. Received: {type(request).__name__}",
        )
    signature = request.get("signature_name", "serving_default")
    if not isinstance(signature, str) or signature not in SIGNATURES:
        raise HTTPError(
            400,
            f'Serving signature name: "{shown(signature)}" not found in signature def '
            f"(available: {', '.join(SIGNATURES)})",
        )
    has_rows, has_columns = "instances" in request, "inputs" in request
    if has_rows and has_columns:
        raise HTTPError(
            400,
            "Request can have either 'instances' (row format) or 'inputs' (columnar), not both.",
        )
    if not has_rows and not has_columns:
        raise HTTPError(400, "Missing 'inputs' or 'instances' key.")
    run_rows = limits.run_rows
    if signature == "sample":
        if has_rows:
            raise HTTPError(
                400,
                "The sample signature takes scalar inputs n and seed, which the row format "
                "('instances') cannot express; send the columnar format "
                '{"signature_name": "sample", "inputs": {"n": 16, "seed": 0}}.',
            )
        n, seed, label = _sample_inputs(request["inputs"], limits, sampler)
        check_reply(n, sampler.image_shape, sampler.sample_dtype, limits)
        labels = None if label is None else np.full((n,), label, np.int32)
        z = sampler.latent(n, seed)
        images = _run_in_chunks(sampler, z, labels, run_rows, sample=True)
        return ArrayReply("outputs", images)
    if has_rows:
        z, labels = _z_rows(request["instances"], limits, sampler.conditional)
    else:
        z, labels = _z_columns(request["inputs"], limits, sampler.conditional)
    del request
    z = _check_z(z, sampler.latent_dim, limits)
    if sampler.conditional:
        labels = _check_labels(labels, len(z), sampler)
    check_reply(len(z), sampler.image_shape, np.float32, limits)
    images = _run_in_chunks(sampler, z, labels, run_rows, sample=False)
    return ArrayReply("predictions" if has_rows else "outputs", images)


def _missing_labels(sampler: Sampler, rows: bool) -> HTTPError:
    example = (
        '{"instances": [{"z": [...], "labels": 3}]}'
        if rows
        else '{"inputs": {"z": [[...]], "labels": [3]}}'
    )
    return HTTPError(
        400,
        "This model is class-conditional: serving_default takes the inputs 'z' and 'labels' "
        f"(one class index per row), e.g. {example}. The classes are "
        f"{sampler.describe_classes()}.",
    )


def _check_labels(value: Any, rows: int, sampler: Sampler) -> np.ndarray:
    """``labels`` as int32 ``(rows,)``: integers in ``[0, num_classes)``, one per row of ``z``."""
    count = sampler.num_classes or 0
    expected = (
        f"labels must be {rows} integer class indices in [0, {count}), one per row of z; "
        f"the classes are {sampler.describe_classes()}"
    )
    if not isinstance(value, list) or len(value) != rows:
        raise HTTPError(400, f"{expected}. Received: {shown(value, 80)}")
    for label in value:
        if isinstance(label, bool) or not isinstance(label, int):
            raise HTTPError(400, f"{expected}. Received: {shown(label, 40)}")
        if not 0 <= label < count:
            raise HTTPError(400, f"Class index {shown(label, 40)} is out of range: {expected}.")
    return np.asarray(value, np.int32)


def _z_rows(instances: Any, limits: Limits, conditional: bool) -> tuple[Any, Any]:
    """``(z, labels)`` of the row format; ``labels`` is None for an unconditional model."""
    if not isinstance(instances, list) or not instances:
        example = '{"z": [...], "labels": 3}' if conditional else '{"z": [...]}'
        raise HTTPError(
            400, f"'instances' must be a non-empty list of z vectors or {example} objects."
        )
    check_batch(len(instances), limits)
    objects = [isinstance(row, dict) for row in instances]
    names = {"z", "labels"} if conditional else {"z"}
    if any(objects):
        if not all(objects):
            raise HTTPError(400, "'instances' mixes objects and plain values.")
        rows, labels = [], []
        for row in instances:
            if set(row) != names:
                if conditional and set(row) == {"z"}:
                    raise HTTPError(400, _MISSING_LABELS_ROWS)
                raise HTTPError(
                    400,
                    f"Each instance must have exactly the input{'s' if conditional else ''} "
                    f"{' and '.join(repr(n) for n in sorted(names, reverse=True))}. "
                    f"Received: {shown(str(sorted(row)))}",
                )
            rows.append(row["z"])
            if conditional:
                labels.append(row["labels"])
        return rows, labels if conditional else None
    if conditional:
        raise HTTPError(400, _MISSING_LABELS_ROWS)
    return instances, None


def _z_columns(inputs: Any, limits: Limits, conditional: bool) -> tuple[Any, Any]:
    """``(z, labels)`` of the columnar format; ``labels`` is None for an unconditional model."""
    labels = None
    if isinstance(inputs, dict):
        if conditional:
            if set(inputs) == {"z"}:
                raise HTTPError(400, _MISSING_LABELS_COLUMNS)
            if set(inputs) != {"z", "labels"}:
                raise HTTPError(
                    400,
                    "serving_default takes the inputs 'z' and 'labels'. "
                    f"Received inputs: {shown(str(sorted(inputs)))}",
                )
            labels = inputs["labels"]
        elif set(inputs) != {"z"}:
            raise HTTPError(
                400,
                "serving_default takes the input 'z' only. "
                f"Received inputs: {shown(str(sorted(inputs)))}",
            )
        inputs = inputs["z"]
    elif conditional:
        raise HTTPError(400, _MISSING_LABELS_COLUMNS)
    if isinstance(inputs, list):
        check_batch(len(inputs), limits)
    return inputs, labels


_MISSING_LABELS_ROWS = (
    "This model is class-conditional: each instance needs 'labels' (its class index) beside "
    '\'z\', e.g. {"instances": [{"z": [...], "labels": 3}]}.'
)
_MISSING_LABELS_COLUMNS = (
    "This model is class-conditional: the inputs need 'labels' (one class index per row of z) "
    'beside \'z\', e.g. {"inputs": {"z": [[...]], "labels": [3]}}.'
)


def _check_z(value: Any, latent_dim: int, limits: Limits) -> np.ndarray:
    try:
        z = np.asarray(value)
    except (ValueError, TypeError) as error:
        raise HTTPError(
            400, f"z must be a rectangular [N, {latent_dim}] list of numbers: {error}"
        ) from None
    if z.dtype.kind not in "iuf" or z.dtype == np.bool_:
        raise HTTPError(
            400,
            f"z must hold numbers (DT_FLOAT). Received values of type {_json_type(z)}",
        )
    if z.ndim != 2 or z.shape[1] != latent_dim or z.shape[0] == 0:
        raise HTTPError(
            400,
            f"z must have shape [N, {latent_dim}] with N >= 1. Received: shape {list(z.shape)}",
        )
    check_batch(z.shape[0], limits)
    z = z.astype(np.float32)
    if not np.isfinite(z).all():
        raise HTTPError(400, "z must be finite. Received: NaN or infinity in z")
    return z


def _sample_inputs(inputs: Any, limits: Limits, sampler: Sampler) -> tuple[int, int, int | None]:
    """``(n, seed, label)`` of a ``sample`` request; ``label`` is None for an unconditional
    model and the class index for a conditional one."""
    conditional = sampler.conditional
    example = '{"n": <int>, "seed": <int>' + (', "label": <name or index>}' if conditional else "}")
    if not isinstance(inputs, dict):
        raise HTTPError(400, f"The sample signature takes named inputs: {example}.")
    names = ("n", "seed", "label") if conditional else ("n", "seed")
    missing = [key for key in names if key not in inputs]
    extra = sorted(set(inputs) - set(names))
    if missing or extra:
        takes = "n (int32), seed (int64) and label (a class name or index)"
        if not conditional:
            takes = "n (int32) and seed (int64)"
        message = (
            f"The sample signature takes the inputs {takes}. "
            f"Missing: {missing}; unexpected: {extra}"
        )
        if missing == ["label"]:
            message += (
                f". This model is class-conditional; the classes are {sampler.describe_classes()}"
            )
        elif "label" in extra and not conditional:
            message += ". This model is unconditional: it takes no label"
        raise HTTPError(400, message)
    n, seed = inputs["n"], inputs["seed"]
    for key, value, dtype in (("n", n, "int32"), ("seed", seed, "int64")):
        if isinstance(value, bool) or not isinstance(value, int):
            raise HTTPError(
                400,
                f"{key} must be a scalar integer ({dtype}). Received: {shown(value, 80)}",
            )
    if not -(2**63) <= seed < 2**63:
        raise HTTPError(400, f"seed must fit in int64. Received: seed={seed}")
    if n > limits.max_batch:
        raise HTTPError(413, f"n={n} exceeds the limit of {limits.max_batch} samples per request.")
    if n <= 0:
        raise HTTPError(400, f"n must be a positive integer. Received: n={n}")
    label = None
    if conditional:
        value = inputs["label"]
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise HTTPError(
                400,
                "label must be a class name or index; the classes are "
                f"{sampler.describe_classes()}. Received: {shown(value, 40)}",
            )
        try:
            label = sampler.label_index(value)
        except ValueError as error:  # names the classes; no server path (label is given)
            raise HTTPError(400, str(error)) from None
    return n, seed, label


def _run_in_chunks(
    sampler: Sampler, z: np.ndarray, labels: np.ndarray | None, rows: int, sample: bool
) -> np.ndarray:
    """``generate(z, labels)``, or ``sample``'s output for the latents ``z``, ``rows`` rows a run.

    Each chunk is written into one preallocated result, so the working memory is one run's.
    """
    dtype = sampler.sample_dtype if sample else np.dtype(np.float32)
    out = np.empty((len(z), *sampler.image_shape), dtype)
    for start in range(0, len(z), rows):
        if labels is None:
            images = sampler.generate(z[start : start + rows])
        else:
            images = sampler.generate(z[start : start + rows], labels=labels[start : start + rows])
        if sample and dtype == np.uint8:
            images = to_uint8(images)
        out[start : start + rows] = images
    return out


def _json_type(array: np.ndarray) -> str:
    kinds = {"U": "string", "S": "string", "b": "boolean", "O": "object or mixed"}
    return kinds.get(array.dtype.kind, str(array.dtype))


def _tensor_info(name: str, dtype: str, dims: Sequence[int]) -> dict[str, Any]:
    return {
        "dtype": dtype,
        "tensor_shape": {
            "dim": [{"size": str(d), "name": ""} for d in dims],
            "unknown_rank": False,
        },
        "name": name,
    }


def signature_def(sampler: Sampler) -> dict[str, Any]:
    """Both signatures in the JSON form of TF Serving's ``GetModelMetadataResponse``.

    A class-conditional model's signatures list the label inputs: ``labels`` (``DT_INT32``
    ``[-1]``) of ``serving_default`` and ``label`` (``DT_INT32`` scalar) of ``sample``.

    Args:
        sampler: the served version's ``Sampler``.

    Returns:
        ``{"serving_default": {...}, "sample": {...}}``.

    Example:
        >>> signature_def(sampler)["sample"]["inputs"]["n"]["dtype"]  # doctest: +SKIP
        'DT_INT32'
    """
    images = [-1, *sampler.image_shape]
    sample_dtype = "DT_UINT8" if sampler.sample_dtype == np.uint8 else "DT_FLOAT"
    method = "tensorflow/serving/predict"
    generate_inputs = {
        "z": _tensor_info("serving_default_z:0", "DT_FLOAT", [-1, sampler.latent_dim])
    }
    sample_inputs = {
        "n": _tensor_info("sample_n:0", "DT_INT32", []),
        "seed": _tensor_info("sample_seed:0", "DT_INT64", []),
    }
    if sampler.conditional:
        generate_inputs["labels"] = _tensor_info("serving_default_labels:0", "DT_INT32", [-1])
        sample_inputs["label"] = _tensor_info("sample_label:0", "DT_INT32", [])
    return {
        "serving_default": {
            "inputs": generate_inputs,
            "outputs": {"images": _tensor_info("StatefulPartitionedCall:0", "DT_FLOAT", images)},
            "method_name": method,
        },
        "sample": {
            "inputs": sample_inputs,
            "outputs": {
                "images": _tensor_info("StatefulPartitionedCall_1:0", sample_dtype, images)
            },
            "method_name": method,
        },
    }
