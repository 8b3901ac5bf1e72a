"""The ``:predict`` request: its two signatures, described and run on a ``Sampler``.

``predict`` turns a request body into the reply's array: it checks the body against the
``Limits`` before parsing it, reads ``z`` (``serving_default``, row or columnar format) or
``n`` and ``seed`` (``sample``), and runs the generator in chunks of ``run_rows`` rows into one
preallocated result. ``signature_def`` describes both signatures as TF Serving's model
metadata does.

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
    The limits are checked before any work, and the generator runs ``limits.run_rows`` rows
    at a time.

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
    check_body(body, sampler.latent_dim, limits)
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
        n, seed = _sample_inputs(request["inputs"], limits)
        check_reply(n, sampler.image_shape, sampler.sample_dtype, limits)
        images = _run_in_chunks(sampler, sampler.latent(n, seed), run_rows, sample=True)
        return ArrayReply("outputs", images)
    z = _z_rows(request["instances"], limits) if has_rows else _z_columns(request["inputs"], limits)
    del request
    z = _check_z(z, sampler.latent_dim, limits)
    check_reply(len(z), sampler.image_shape, np.float32, limits)
    images = _run_in_chunks(sampler, z, run_rows, sample=False)
    return ArrayReply("predictions" if has_rows else "outputs", images)


def _z_rows(instances: Any, limits: Limits) -> Any:
    if not isinstance(instances, list) or not instances:
        raise HTTPError(
            400, "'instances' must be a non-empty list of z vectors or {\"z\": [...]} objects."
        )
    check_batch(len(instances), limits)
    objects = [isinstance(row, dict) for row in instances]
    if any(objects):
        if not all(objects):
            raise HTTPError(400, "'instances' mixes objects and plain values.")
        rows = []
        for row in instances:
            if set(row) != {"z"}:
                raise HTTPError(
                    400,
                    "Each instance must have exactly the input 'z'. "
                    f"Received: {shown(str(sorted(row)))}",
                )
            rows.append(row["z"])
        return rows
    return instances


def _z_columns(inputs: Any, limits: Limits) -> Any:
    if isinstance(inputs, dict):
        if set(inputs) != {"z"}:
            raise HTTPError(
                400,
                "serving_default takes the input 'z' only. "
                f"Received inputs: {shown(str(sorted(inputs)))}",
            )
        inputs = inputs["z"]
    if isinstance(inputs, list):
        check_batch(len(inputs), limits)
    return inputs


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


def _sample_inputs(inputs: Any, limits: Limits) -> tuple[int, int]:
    if not isinstance(inputs, dict):
        raise HTTPError(
            400, 'The sample signature takes named inputs: {"n": <int>, "seed": <int>}.'
        )
    missing = [key for key in ("n", "seed") if key not in inputs]
    extra = sorted(set(inputs) - {"n", "seed"})
    if missing or extra:
        raise HTTPError(
            400,
            f"The sample signature takes the inputs n (int32) and seed (int64). "
            f"Missing: {missing}; unexpected: {extra}",
        )
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
    return n, seed


def _run_in_chunks(sampler: Sampler, z: np.ndarray, rows: int, sample: bool) -> np.ndarray:
    """``generate(z)``, or ``sample``'s output for the latents ``z``, ``rows`` rows a run.

    Each chunk is written into one preallocated result, so the working memory is one run's.
    """
    dtype = sampler.sample_dtype if sample else np.dtype(np.float32)
    out = np.empty((len(z), *sampler.image_shape), dtype)
    for start in range(0, len(z), rows):
        images = sampler.generate(z[start : start + rows])
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

    Example:
        >>> signature_def(sampler)["sample"]["inputs"]["n"]["dtype"]  # doctest: +SKIP
        'DT_INT32'
    """
    images = [-1, *sampler.image_shape]
    sample_dtype = "DT_UINT8" if sampler.sample_dtype == np.uint8 else "DT_FLOAT"
    method = "tensorflow/serving/predict"
    return {
        "serving_default": {
            "inputs": {
                "z": _tensor_info("serving_default_z:0", "DT_FLOAT", [-1, sampler.latent_dim])
            },
            "outputs": {"images": _tensor_info("StatefulPartitionedCall:0", "DT_FLOAT", images)},
            "method_name": method,
        },
        "sample": {
            "inputs": {
                "n": _tensor_info("sample_n:0", "DT_INT32", []),
                "seed": _tensor_info("sample_seed:0", "DT_INT64", []),
            },
            "outputs": {
                "images": _tensor_info("StatefulPartitionedCall_1:0", sample_dtype, images)
            },
            "method_name": method,
        },
    }
