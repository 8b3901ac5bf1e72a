"""A REST server for exported generators that speaks TF Serving's REST API, on onnxruntime.

``ServingApp`` is a plain WSGI application (testable in-process, servable by any WSGI
server); ``serve`` runs it under waitress (the ``[serve]`` extra). Routes, as in TF Serving:

* ``GET /v1/models/{name}[/versions/{v}]``: version status
  ``{"model_version_status": [{"version": "1", "state": "AVAILABLE", "status": {...}}]}``;
* ``GET /v1/models/{name}[/versions/{v}]/metadata``: ``{"model_spec": ..., "metadata":
  {"signature_def": {"signature_def": {...}}}}`` with both signatures;
* ``POST /v1/models/{name}[/versions/{v}]:predict`` with ``signature_name``
  ``serving_default`` (``z`` -> ``images``, row format ``{"instances": [...]}`` ->
  ``{"predictions": [...]}`` or columnar ``{"inputs": ...}`` -> ``{"outputs": ...}``) or
  ``sample`` (columnar ``{"inputs": {"n": 16, "seed": 7}}`` -> uint8 ``{"outputs": ...}``).

Like TF Serving, each model serves the highest numeric version under its base path and picks
up a new version directory while running (checked at most every ``poll_seconds``, on the
request path, with one ``stat`` of the base directory in between). Errors are
``{"error": "..."}``: 400 for a malformed body, shape, dtype, NaN, ``n <= 0`` or unknown
signature; 404 for an unknown model, version or route; 413 for a body or batch over the
``Limits``; 405 for a wrong method; 500 (never a crash) if onnxruntime fails.

Example:
    >>> from keras_gan.serving.server import make_app, serve
    >>> app = make_app("runs/dcgan/export", name="dcgan")  # doctest: +SKIP
    >>> serve(app, host="127.0.0.1", port=8501)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from keras_gan.serving.sampler import Sampler, find_versions

__all__ = [
    "MODEL_NAME_PATTERN",
    "SIGNATURES",
    "HTTPError",
    "Limits",
    "ModelSource",
    "ServingApp",
    "check_model_name",
    "make_app",
    "serve",
]

#: Signatures every exported generator has (see docs/export.md).
SIGNATURES = ("serving_default", "sample")
#: Model names: what TF Serving accepts in a URL and a file system accepts as a directory name.
MODEL_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}")
_ROUTE = re.compile(
    r"^/v1/models/(?P<name>[^/:]*)(?:/versions/(?P<version>[^/:]*))?"
    r"(?P<suffix>/metadata|:predict|:classify|:regress)?$"
)
_INT32_MAX = 2**31 - 1
_STATUS_TEXT = {
    200: "200 OK",
    400: "400 Bad Request",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    413: "413 Payload Too Large",
    500: "500 Internal Server Error",
    503: "503 Service Unavailable",
}


class HTTPError(Exception):
    """An error answered as ``{"error": message}`` with an HTTP status.

    Example:
        >>> HTTPError(404, "Servable not found for request: Latest(x)").status
        404
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Limits:
    """Request limits; anything over them is refused with 413.

    Attributes:
        max_body_bytes: largest request body.
        max_batch: most rows of ``z`` (``serving_default``) or largest ``n`` (``sample``).

    Example:
        >>> Limits(max_body_bytes=1 << 20, max_batch=256).max_batch
        256
    """

    max_body_bytes: int = 16 * 2**20
    max_batch: int = 1024

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_batch"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")


def check_model_name(name: str) -> str:
    """Return ``name`` if it is a plain model name, else raise ``ValueError``.

    Path-like names (``..``, ``a/b``, ``C:\\x``) and empty names are refused.

    Example:
        >>> check_model_name("fashion_dcgan")
        'fashion_dcgan'
    """
    if not isinstance(name, str) or not MODEL_NAME_PATTERN.fullmatch(name) or ".." in name:
        raise ValueError(
            f"Invalid model name {name!r}: expected letters, digits, '_', '-' and '.', starting "
            "with a letter or digit (no path separators or '..'), at most 128 characters."
        )
    return name


class ModelSource:
    """One named model: its base path, the version it serves and version discovery.

    The highest numeric version directory holding ``model.onnx`` is served (TF Serving's
    default ``latest`` policy). ``current()`` checks for a new version when the base
    directory's modification time has changed or ``poll_seconds`` have passed since the last
    scan; the request that notices it loads the new ``Sampler`` while other requests keep using
    the previous one, which is then dropped. A version that fails to load is reported in the
    status (and retried at the next scan) while the previous version keeps serving.

    Args:
        name: the model name in URLs.
        base_path: directory of numeric version directories.
        poll_seconds: longest time between two scans of ``base_path``.
        sampler_factory: builds a ``Sampler`` from a version directory (threads, providers).

    Example:
        >>> source = ModelSource("dcgan", "runs/dcgan/export")  # doctest: +SKIP
        >>> source.current()[0]  # doctest: +SKIP
        1
    """

    def __init__(
        self,
        name: str,
        base_path: str | os.PathLike,
        poll_seconds: float = 1.0,
        sampler_factory: Callable[[Path], Sampler] = Sampler,
    ) -> None:
        self.name = check_model_name(name)
        self.base_path = Path(base_path)
        self.poll_seconds = float(poll_seconds)
        self._factory = sampler_factory
        self._lock = threading.Lock()
        self._current: tuple[int, Sampler] | None = None
        # Replaced, never mutated, so readers need no lock: {version: load error}.
        self._failed: dict[int, str] = {}
        self._stamp: int | None = None
        self._last_scan = -math.inf
        self.refresh(force=True)

    def _base_stamp(self) -> int | None:
        try:
            return os.stat(self.base_path).st_mtime_ns
        except OSError:
            return None

    def refresh(self, force: bool = False) -> None:
        """Scan the base path and load its highest version if it is not the one served.

        Args:
            force: scan even if nothing seems to have changed, and wait for a scan that
                another thread is running.

        Example:
            >>> source.refresh(force=True)  # doctest: +SKIP
        """
        stamp = self._base_stamp()
        due = time.monotonic() - self._last_scan >= self.poll_seconds
        if not force and not due and stamp == self._stamp:
            return
        if not self._lock.acquire(blocking=force):
            return  # another request is scanning; keep serving the current version
        try:
            self._stamp, self._last_scan = stamp, time.monotonic()
            versions = find_versions(self.base_path)
            if any(v not in versions for v in self._failed):  # forget removed versions
                self._failed = {v: m for v, m in self._failed.items() if v in versions}
            current = self._current
            for version in sorted(versions, reverse=True):
                if current is not None and version == current[0]:
                    return  # the highest loadable version is already served
                try:
                    sampler = self._factory(versions[version])
                except Exception as error:
                    message = f"{type(error).__name__}: {error}"
                    self._failed = {**self._failed, version: message}
                    continue
                self._failed = {v: m for v, m in self._failed.items() if v != version}
                self._current = (version, sampler)
                return
            if current is not None and current[0] not in versions:
                self._current = None  # its directory is gone and nothing else loads
        finally:
            self._lock.release()

    @property
    def failed(self) -> dict[int, str]:
        """Versions that failed to load and their errors (retried at each scan).

        Example:
            >>> source.failed  # doctest: +SKIP
            {4: 'ValueError: onnxruntime cannot load .../4/model.onnx: ...'}
        """
        return self._failed

    def current(self) -> tuple[int, Sampler] | None:
        """The served ``(version, sampler)`` after a cheap check for a new version, or None.

        Example:
            >>> version, sampler = source.current()  # doctest: +SKIP
        """
        self.refresh()
        return self._current

    def status(self) -> list[dict[str, Any]]:
        """TF Serving's ``model_version_status`` entries: the served version, failed loads.

        Example:
            >>> source.status()[0]["state"]  # doctest: +SKIP
            'AVAILABLE'
        """
        entries = []
        current = self.current()
        if current is not None:
            entries.append(_version_status(current[0], "AVAILABLE", "OK", ""))
        for version, message in sorted(self._failed.items(), reverse=True):
            if current is None or version != current[0]:
                entries.append(_version_status(version, "END", "UNKNOWN", message))
        return entries


def _version_status(version: int, state: str, code: str, message: str) -> dict[str, Any]:
    return {
        "version": str(version),
        "state": state,
        "status": {"error_code": code, "error_message": message},
    }


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


class ServingApp:
    """WSGI application serving one or more ``ModelSource`` s with TF Serving's REST API.

    Args:
        models: ``{name: ModelSource}``.
        limits: request limits.
        log: where to write one line per unexpected (500) error; ``sys.stderr`` when None.

    Example:
        >>> app = ServingApp({"dcgan": ModelSource("dcgan", "models/dcgan")})  # doctest: +SKIP
        >>> from wsgiref.simple_server import make_server  # doctest: +SKIP
        >>> make_server("127.0.0.1", 8501, app).serve_forever()  # doctest: +SKIP
    """

    def __init__(
        self, models: Mapping[str, ModelSource], limits: Limits | None = None, log: Any = None
    ) -> None:
        if not models:
            raise ValueError("ServingApp needs at least one model.")
        for name, source in models.items():
            if name != source.name:
                raise ValueError(f"Model key {name!r} differs from its source name {source.name!r}")
        self.models = dict(models)
        self.limits = limits or Limits()
        self._log = log

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        try:
            status, payload = self.handle(environ)
        except HTTPError as error:
            status, payload = error.status, {"error": error.message}
        except Exception as error:  # never let a request take the server down
            print(
                f"keras-gan serve: internal error: {error}\n{traceback.format_exc()}",
                file=self._log or sys.stderr,
            )
            status, payload = 500, {"error": f"Internal error: {type(error).__name__}: {error}"}
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        start_response(_STATUS_TEXT.get(status, f"{status} Error"), headers)
        return [body]

    # -- routing -----------------------------------------------------------------------------

    def handle(self, environ: Mapping[str, Any]) -> tuple[int, Any]:
        """Answer one request: ``(status, JSON payload)``; raises ``HTTPError`` for errors.

        Example:
            >>> app.handle({"REQUEST_METHOD": "GET", "PATH_INFO": "/v1/models/g"})  # doctest: +SKIP
            (200, {'model_version_status': [...]})
        """
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "") or "/"
        match = _ROUTE.match(path)
        if match is None:
            if path.startswith("/v1/models/"):
                name = path[len("/v1/models/") :].split(":")[0]
                if ".." in name or "\\" in name:
                    raise HTTPError(400, self._name_error(name))
            raise HTTPError(404, f"Malformed request: {method} {path}")
        name, version_text, suffix = match["name"], match["version"], match["suffix"] or ""
        try:
            check_model_name(name)
        except ValueError as error:
            raise HTTPError(400, str(error)) from None
        version = None
        if version_text is not None:
            if not (version_text.isascii() and version_text.isdigit()) or len(version_text) > 18:
                raise HTTPError(
                    400, f"Invalid version {version_text!r}: expected a non-negative integer."
                )
            version = int(version_text)
        if suffix in (":classify", ":regress"):
            raise HTTPError(
                400,
                f"{suffix[1:]} is not supported by these generators; use :predict with "
                f"signature_name {' or '.join(SIGNATURES)}.",
            )
        if suffix == ":predict":
            if method != "POST":
                raise HTTPError(405, f"{path} accepts POST only. Received: {method}")
            body = self._read_body(environ)  # before the lookup, so oversize bodies are drained
            source, served_version, sampler = self._lookup(name, version)
            return 200, self._predict(sampler, body)
        if method not in ("GET", "HEAD"):
            raise HTTPError(405, f"{path} accepts GET only. Received: {method}")
        if suffix == "/metadata":
            source, served_version, sampler = self._lookup(name, version)
            return 200, {
                "model_spec": {"name": name, "signature_name": "", "version": str(served_version)},
                "metadata": {"signature_def": {"signature_def": signature_def(sampler)}},
            }
        source = self._source(name)
        entries = source.status()
        if version is not None:
            entries = [e for e in entries if e["version"] == str(version)]
        if not entries:
            request = f"Specific({name}, {version})" if version is not None else f"Latest({name})"
            raise HTTPError(404, f"Servable not found for request: {request}")
        return 200, {"model_version_status": entries}

    @staticmethod
    def _name_error(name: str) -> str:
        try:
            check_model_name(name)
        except ValueError as error:
            return str(error)
        return f"Invalid model name {name!r}"

    def _source(self, name: str) -> ModelSource:
        source = self.models.get(name)
        if source is None:
            raise HTTPError(404, f"Servable not found for request: Latest({name})")
        return source

    def _lookup(self, name: str, version: int | None) -> tuple[ModelSource, int, Sampler]:
        source = self._source(name)
        current = source.current()
        if current is None or (version is not None and version != current[0]):
            request = f"Specific({name}, {version})" if version is not None else f"Latest({name})"
            raise HTTPError(404, f"Servable not found for request: {request}")
        return source, current[0], current[1]

    def _read_body(self, environ: Mapping[str, Any]) -> bytes:
        limit = self.limits.max_body_bytes
        text = environ.get("CONTENT_LENGTH") or ""
        stream = environ.get("wsgi.input")
        if text:
            try:
                length = int(text)
            except ValueError:
                raise HTTPError(400, f"Invalid Content-Length {text!r}") from None
            if length > limit:
                raise HTTPError(
                    413, f"Request body of {length} bytes exceeds the limit of {limit} bytes."
                )
            return stream.read(length) if stream is not None and length > 0 else b""
        if stream is None:
            return b""
        body = stream.read(limit + 1)  # chunked: the server has buffered and terminated it
        if len(body) > limit:
            raise HTTPError(413, f"Request body exceeds the limit of {limit} bytes.")
        return body

    # -- predict -----------------------------------------------------------------------------

    def _predict(self, sampler: Sampler, body: bytes) -> dict[str, Any]:
        if not body.strip():
            raise HTTPError(400, "Empty request body: expected a JSON object.")
        try:
            request = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
            raise HTTPError(400, f"Malformed JSON request body: {error}") from None
        if not isinstance(request, dict):
            raise HTTPError(
                400,
                f"The request body must be a JSON object. Received: {type(request).__name__}",
            )
        signature = request.get("signature_name", "serving_default")
        if not isinstance(signature, str) or signature not in SIGNATURES:
            raise HTTPError(
                400,
                f'Serving signature name: "{signature}" not found in signature def '
                f"(available: {', '.join(SIGNATURES)})",
            )
        has_rows, has_columns = "instances" in request, "inputs" in request
        if has_rows and has_columns:
            raise HTTPError(
                400,
                "Request can have either 'instances' (row format) or 'inputs' (columnar), "
                "not both.",
            )
        if not has_rows and not has_columns:
            raise HTTPError(400, "Missing 'inputs' or 'instances' key.")
        if signature == "sample":
            if has_rows:
                raise HTTPError(
                    400,
                    "The sample signature takes scalar inputs n and seed, which the row format "
                    "('instances') cannot express; send the columnar format "
                    '{"signature_name": "sample", "inputs": {"n": 16, "seed": 0}}.',
                )
            n, seed = self._sample_inputs(request["inputs"])
            images = sampler.sample(n, seed=seed)
            return {"outputs": images.tolist()}
        z = self._z_rows(request["instances"]) if has_rows else self._z_columns(request["inputs"])
        images = sampler.generate(self._check_z(z, sampler.latent_dim))
        return {"predictions": images.tolist()} if has_rows else {"outputs": images.tolist()}

    def _z_rows(self, instances: Any) -> Any:
        if not isinstance(instances, list) or not instances:
            raise HTTPError(
                400, "'instances' must be a non-empty list of z vectors or {\"z\": [...]} objects."
            )
        self._check_batch(len(instances))
        objects = [isinstance(row, dict) for row in instances]
        if any(objects):
            if not all(objects):
                raise HTTPError(400, "'instances' mixes objects and plain values.")
            rows = []
            for row in instances:
                if set(row) != {"z"}:
                    raise HTTPError(
                        400,
                        f"Each instance must have exactly the input 'z'. Received: {sorted(row)}",
                    )
                rows.append(row["z"])
            return rows
        return instances

    def _z_columns(self, inputs: Any) -> Any:
        if isinstance(inputs, dict):
            if set(inputs) != {"z"}:
                raise HTTPError(
                    400,
                    f"serving_default takes the input 'z' only. Received inputs: {sorted(inputs)}",
                )
            inputs = inputs["z"]
        if isinstance(inputs, list):
            self._check_batch(len(inputs))
        return inputs

    def _check_batch(self, rows: int) -> None:
        if rows > self.limits.max_batch:
            raise HTTPError(
                413, f"Batch of {rows} exceeds the limit of {self.limits.max_batch} per request."
            )

    def _check_z(self, value: Any, latent_dim: int) -> np.ndarray:
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
        self._check_batch(z.shape[0])
        z = z.astype(np.float32)
        if not np.isfinite(z).all():
            raise HTTPError(400, "z must be finite. Received: NaN or infinity in z")
        return z

    def _sample_inputs(self, inputs: Any) -> tuple[int, int]:
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
                    f"{key} must be a scalar integer ({dtype}). Received: {json.dumps(value)[:80]}",
                )
        if not -(2**63) <= seed < 2**63:
            raise HTTPError(400, f"seed must fit in int64. Received: seed={seed}")
        if n > self.limits.max_batch:
            raise HTTPError(
                413, f"n={n} exceeds the limit of {self.limits.max_batch} samples per request."
            )
        if n <= 0:
            raise HTTPError(400, f"n must be a positive integer. Received: n={n}")
        return n, seed


def _json_type(array: np.ndarray) -> str:
    kinds = {"U": "string", "S": "string", "b": "boolean", "O": "object or mixed"}
    return kinds.get(array.dtype.kind, str(array.dtype))


def make_app(
    base_path: str | os.PathLike,
    name: str = "default",
    limits: Limits | None = None,
    poll_seconds: float = 1.0,
    threads: int | None = None,
    providers: Sequence[str] | None = None,
) -> ServingApp:
    """A ``ServingApp`` for one model base path.

    Args:
        base_path: directory of numeric version directories (``keras-gan export --out``).
        name: the model name in URLs (TF Serving's ``MODEL_NAME``; default ``default``).
        limits: request limits.
        poll_seconds: longest time before a new version directory is noticed.
        threads: onnxruntime intra-op threads per request (None: onnxruntime's default).
        providers: onnxruntime execution providers.

    Returns:
        The WSGI application.

    Raises:
        FileNotFoundError: no version under ``base_path`` can be loaded.

    Example:
        >>> app = make_app("runs/demo/export", name="dcgan")  # doctest: +SKIP
    """
    return make_multi_app({name: base_path}, limits, poll_seconds, threads, providers)


def make_multi_app(
    models: Mapping[str, str | os.PathLike],
    limits: Limits | None = None,
    poll_seconds: float = 1.0,
    threads: int | None = None,
    providers: Sequence[str] | None = None,
) -> ServingApp:
    """A ``ServingApp`` for several models ``{name: base_path}`` (a ``models.config``'s list).

    Example:
        >>> app = make_multi_app({"a": "models/a", "b": "models/b"})  # doctest: +SKIP
    """

    def factory(path: Path) -> Sampler:
        return Sampler(path, providers=providers, threads=threads)

    sources = {}
    for name, base_path in models.items():
        source = ModelSource(name, base_path, poll_seconds=poll_seconds, sampler_factory=factory)
        if source.current() is None:
            failed = "; ".join(f"version {v}: {m}" for v, m in sorted(source.failed.items()))
            raise FileNotFoundError(
                f"No servable version under {base_path} for model {name!r}: expected numeric "
                f"version directories holding model.onnx (`keras-gan export --out "
                f"{base_path}`).{' ' + failed if failed else ''}"
            )
        sources[name] = source
    return ServingApp(sources, limits)


def serve(
    app: ServingApp,
    host: str = "127.0.0.1",
    port: int = 8501,
    threads: int = 8,
    ready: Callable[[Any], None] | None = None,
) -> None:
    """Run ``app`` under waitress until interrupted.

    Errors that waitress answers itself (a body over the limit announced by its
    Content-Length, a malformed HTTP request) are answered in the same ``{"error": ...}``
    JSON form.

    Args:
        app: the WSGI application.
        host: address to bind (127.0.0.1: this machine only).
        port: TCP port (0: a free one; see ``ready``).
        threads: waitress worker threads (concurrent requests).
        ready: called with the waitress server once it listens (``server.effective_port``).

    Raises:
        ImportError: waitress is missing (``pip install keras-gan[serve]``).

    Example:
        >>> serve(make_app("models/dcgan", "dcgan"), port=8501)  # doctest: +SKIP
    """
    server = create_server(app, host=host, port=port, threads=threads)
    if ready is not None:
        ready(server)
    try:
        server.run()
    finally:
        server.close()


def create_server(
    app: ServingApp, host: str = "127.0.0.1", port: int = 8501, threads: int = 8
) -> Any:
    """A listening waitress server for ``app`` (not yet running; call ``.run()``).

    Example:
        >>> server = create_server(app, port=0)  # doctest: +SKIP
        >>> server.effective_port  # doctest: +SKIP
        40211
    """
    try:
        import waitress
        from waitress.channel import HTTPChannel
        from waitress.task import ErrorTask
    except ImportError as error:
        raise ImportError(
            "keras-gan serve needs the WSGI server waitress: pip install 'keras-gan[serve]' "
            "(or pip install waitress)"
        ) from error

    class JSONErrorTask(ErrorTask):
        """waitress's own error responses (413, 400, ...) as TF Serving's JSON error body."""

        def execute(self) -> None:
            error = self.request.error
            message = f"{error.reason}: {error.body}"
            if error.code == 413:
                limit = app.limits.max_body_bytes
                message = f"Request body exceeds the limit of {limit} bytes."
            body = json.dumps({"error": message}).encode()
            self.status = f"{error.code} {error.reason}"
            self.response_headers.append(("Content-Type", "application/json"))
            self.set_close_on_finish()
            self.content_length = len(body)
            self.write(body)

    class JSONChannel(HTTPChannel):
        error_task_class = JSONErrorTask

    server = waitress.create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        # waitress refuses larger bodies itself (as JSON, above) before buffering them.
        max_request_body_size=app.limits.max_body_bytes + 1,
        ident="keras-gan",
        clear_untrusted_proxy_headers=True,
    )
    server.channel_class = JSONChannel
    return server
