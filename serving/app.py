"""``ServingApp``: the WSGI application that routes TF Serving's REST API to the served models.

Routes, as in TF Serving (``{name}`` a model name, ``/versions/{v}`` optional):

* ``GET /v1/models/{name}``: the version status (``model_version_status``);
* ``GET /v1/models/{name}/metadata``: both signatures (``signature_def``), and for a
  class-conditional model its classes (``metadata.keras_gan``: ``num_classes``,
  ``class_names``);
* ``POST /v1/models/{name}:predict``: ``keras_gan.serving.predict``;
* ``GET /v1/models/{name}/load_status``: each version's sha256 and load time, and the classes
  of a class-conditional model (an extension).

Errors are answered as ``{"error": "..."}`` with 400, 404, 405, 413 or 500 (never a crash,
one log line). ``make_app`` and ``make_multi_app`` build the application from model base paths.

Example:
    >>> app = make_app("runs/dcgan/export", name="dcgan")  # doctest: +SKIP
    >>> app.handle({"REQUEST_METHOD": "GET", "PATH_INFO": "/v1/models/dcgan"})  # doctest: +SKIP
    (200, {'model_version_status': [...]})
"""

from __future__ import annotations

import json
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from keras_gan.serving.layout import ONNX_NAME, SIGNATURES
from keras_gan.serving.limits import ArrayReply, HTTPError, Limits, reply_bytes_bound, shown
from keras_gan.serving.predict import predict, signature_def
from keras_gan.serving.sampler import Sampler
from keras_gan.serving.versions import ModelSource, check_model_name

__all__ = ["ServingApp", "make_app", "make_multi_app"]

_ROUTE = re.compile(
    r"^/v1/models/(?P<name>[^/:]*)(?:/versions/(?P<version>[^/:]*))?"
    r"(?P<suffix>/metadata|/load_status|:predict|:classify|:regress)?$"
)
_STATUS_TEXT = {
    200: "200 OK",
    400: "400 Bad Request",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    413: "413 Payload Too Large",
    500: "500 Internal Server Error",
    503: "503 Service Unavailable",
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

    #: Replies estimated over this many bytes are streamed (chunked) instead of buffered.
    stream_over_bytes = 1 << 20

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

    def close(self) -> None:
        """Stop the models' pollers.

        Example:
            >>> app.close()  # doctest: +SKIP
        """
        for source in self.models.values():
            source.close()

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        try:
            status, payload = self.handle(environ)
        except HTTPError as error:
            status, payload = error.status, {"error": error.message}
        except Exception as error:  # never let a request take the server down
            frame = traceback.extract_tb(error.__traceback__)[-1:] or None
            where = f" at {Path(frame[0].filename).name}:{frame[0].lineno}" if frame else ""
            text = " ".join(f"{type(error).__name__}: {error}".split())[:300]
            request = f"{environ.get('REQUEST_METHOD', '')} {environ.get('PATH_INFO', '')}"
            print(
                f"keras-gan serve: internal error in {shown(request, 120)}: {text}{where}",
                file=self._log or sys.stderr,
            )
            status, payload = 500, {"error": f"Internal error: {text}"}
        status_text = _STATUS_TEXT.get(status, f"{status} Error")
        if isinstance(payload, ArrayReply):
            array = payload.array
            size = reply_bytes_bound(len(array), array.shape[1:], array.dtype)
            if size > self.stream_over_bytes:  # chunked transfer: no Content-Length
                start_response(status_text, [("Content-Type", "application/json")])
                return payload.chunks()
            body = b"".join(payload.chunks())
        else:
            body = json.dumps(payload, separators=(",", ":")).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        start_response(status_text, headers)
        return [body]

    # -- routing -----------------------------------------------------------------------------

    def handle(self, environ: Mapping[str, Any]) -> tuple[int, Any]:
        """Answer one request: ``(status, payload)``; raises ``HTTPError`` for errors.

        The payload is a JSON-able object, or an ``ArrayReply`` for predictions.

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
            raise HTTPError(404, f"Malformed request: {shown(method, 16)} {shown(path, 200)}")
        name, version_text, suffix = match["name"], match["version"], match["suffix"] or ""
        try:
            check_model_name(name)
        except ValueError:
            raise HTTPError(400, self._name_error(name)) from None
        version = None
        if version_text is not None:
            if not (version_text.isascii() and version_text.isdigit()) or len(version_text) > 18:
                raise HTTPError(
                    400,
                    f"Invalid version {shown(version_text)!r}: expected a non-negative integer.",
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
                raise HTTPError(405, f"{path} accepts POST only. Received: {shown(method, 16)}")
            body = self._read_body(environ)  # before the lookup, so oversize bodies are drained
            source, served_version, sampler = self._lookup(name, version)
            return 200, predict(sampler, body, self.limits)
        if method not in ("GET", "HEAD"):
            raise HTTPError(405, f"{path} accepts GET only. Received: {shown(method, 16)}")
        if suffix == "/metadata":
            source, served_version, sampler = self._lookup(name, version)
            metadata: dict[str, Any] = {"signature_def": {"signature_def": signature_def(sampler)}}
            if sampler.conditional:
                metadata["keras_gan"] = {
                    "num_classes": sampler.num_classes,
                    "class_names": list(sampler.class_names or ()),
                }
            return 200, {
                "model_spec": {"name": name, "signature_name": "", "version": str(served_version)},
                "metadata": metadata,
            }
        source = self._source(name)
        if suffix == "/load_status":
            entries = source.load_status()
            key = "versions"
        else:
            entries = source.status()
            key = "model_version_status"
        if version is not None:
            entries = [e for e in entries if e["version"] == str(version)]
        if not entries:
            request = f"Specific({name}, {version})" if version is not None else f"Latest({name})"
            raise HTTPError(404, f"Servable not found for request: {request}")
        return 200, {key: entries}

    @staticmethod
    def _name_error(name: str) -> str:
        return (
            f"Invalid model name {shown(name)!r}: expected letters, digits, '_', '-' and '.', "
            "starting with a letter or digit (no path separators or '..'), at most 128 "
            "characters."
        )

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
                raise HTTPError(400, f"Invalid Content-Length {shown(text)!r}") from None
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
            for opened in [*sources.values(), source]:
                opened.close()
            raise FileNotFoundError(
                f"No servable version under {base_path} for model {name!r}: expected numeric "
                f"version directories holding {ONNX_NAME} (`keras-gan export --out "
                f"{base_path}`).{' ' + failed if failed else ''}"
            )
        sources[name] = source
    return ServingApp(sources, limits)
