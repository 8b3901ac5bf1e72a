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
up new and replaced version directories while running: a background poller scans every
``poll_seconds`` and swaps in a version only after it has validated (metadata against the
model, a warm-up run). ``GET /v1/models/{name}/load_status`` (an extension) gives each
version's sha256 and load time. Errors are ``{"error": "..."}``: 400 for a malformed body,
shape, dtype, NaN, overlong number, ``n <= 0`` or unknown signature; 404 for an unknown model,
version or route; 413 for a body, batch or reply over the ``Limits`` (checked before the
work); 405 for a wrong method; 500 (never a crash, one log line) if onnxruntime fails.

The parts: ``limits`` (what one request may cost, checked before the work), ``versions``
(the model-version store: loading, validation, warm-up, reload on change, load status),
``predict`` (the ``:predict`` request and the signatures' description), ``app`` (``ServingApp``,
the routes) and this module (the waitress server). The names callers use (``ServingApp``,
``ModelSource``, ``Limits``, ``make_app``, ...) are importable from here as well.

Example:
    >>> from keras_gan.serving.server import make_app, serve
    >>> app = make_app("runs/dcgan/export", name="dcgan")  # doctest: +SKIP
    >>> serve(app, host="127.0.0.1", port=8501)  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from keras_gan.serving.app import ServingApp, make_app, make_multi_app
from keras_gan.serving.layout import SIGNATURES
from keras_gan.serving.limits import (
    REQUEST_MEMORY_MIB,
    ArrayReply,
    HTTPError,
    Limits,
    reply_bytes_bound,
)
from keras_gan.serving.predict import signature_def
from keras_gan.serving.versions import (
    MODEL_NAME_PATTERN,
    FailedVersion,
    LoadedVersion,
    ModelSource,
    check_model_name,
    validate_sampler,
)

__all__ = [
    "MODEL_NAME_PATTERN",
    "REQUEST_MEMORY_MIB",
    "SIGNATURES",
    "ArrayReply",
    "FailedVersion",
    "HTTPError",
    "Limits",
    "LoadedVersion",
    "ModelSource",
    "ServingApp",
    "check_model_name",
    "create_server",
    "make_app",
    "make_multi_app",
    "reply_bytes_bound",
    "serve",
    "signature_def",
    "validate_sampler",
]


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
        app.close()


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
