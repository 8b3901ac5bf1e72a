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

Example:
    >>> from keras_gan.serving.server import make_app, serve
    >>> app = make_app("runs/dcgan/export", name="dcgan")  # doctest: +SKIP
    >>> serve(app, host="127.0.0.1", port=8501)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from keras_gan.serving.images import to_uint8
from keras_gan.serving.sampler import ASSET_NAME, ONNX_NAME, Sampler, find_versions

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
    "make_app",
    "reply_bytes_bound",
    "serve",
    "validate_sampler",
]

#: Signatures every exported generator has (see docs/export.md).
SIGNATURES = ("serving_default", "sample")
#: Model names: what TF Serving accepts in a URL and a file system accepts as a directory name.
MODEL_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}")
_ROUTE = re.compile(
    r"^/v1/models/(?P<name>[^/:]*)(?:/versions/(?P<version>[^/:]*))?"
    r"(?P<suffix>/metadata|/load_status|:predict|:classify|:regress)?$"
)
_INT32_MAX = 2**31 - 1
#: Most memory one request may add to the server with the default ``Limits`` and a generator
#: of about the DCGAN's size (28x28x1, latent_dim 100), in MiB (docs/serving.md); the load
#: benchmark checks 8 concurrent clients against 8 times this.
REQUEST_MEMORY_MIB = 48
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
    """Request limits; anything over them is refused with 413 before any work is done.

    Besides these, a body is refused before it is parsed when it holds more JSON values than
    ``max_batch`` rows of ``z`` need (``max_batch * (latent_dim + 4) + 64``), more than
    ``4 * max_batch + 64`` quotes, a string over 128 bytes or a non-ASCII byte.

    Attributes:
        max_body_bytes: largest request body.
        max_batch: most rows of ``z`` (``serving_default``) or largest ``n`` (``sample``).
        max_reply_bytes: largest reply, as estimated before the work (24 bytes per float,
            4 per uint8, plus brackets); replies over one block are streamed in chunks.
        run_rows: rows per onnxruntime run (a request is run in chunks of this many rows,
            which bounds onnxruntime's working memory per request).

    Example:
        >>> Limits(max_body_bytes=1 << 20, max_batch=256).max_batch
        256
    """

    max_body_bytes: int = 16 * 2**20
    max_batch: int = 1024
    max_reply_bytes: int = 32 * 2**20
    run_rows: int = 32

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_batch", "max_reply_bytes", "run_rows"):
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


@dataclass(frozen=True)
class LoadedVersion:
    """A validated version: what is served, and which files it came from.

    Attributes:
        version: the version number.
        sampler: its ``Sampler``.
        identity: device, inode, size and times of the directory and its files when loaded.
        sha256: hash of ``model.onnx`` and ``assets/keras_gan.json`` (hex).
        loaded_at: when it became AVAILABLE (seconds since the epoch).

    Example:
        >>> source.served.sha256[:12]  # doctest: +SKIP
        '3f2a9c0d1b7e'
    """

    version: int
    sampler: Sampler
    identity: tuple
    sha256: str
    loaded_at: float


@dataclass(frozen=True)
class FailedVersion:
    """A version whose files failed to load or to validate (retried when they change).

    Example:
        >>> source.failures[3].error  # doctest: +SKIP
        'ValueError: the metadata image_shape [9, 9, 1] differs from the model output ...'
    """

    version: int
    error: str
    identity: tuple
    sha256: str | None
    failed_at: float


def _identity(directory: Path) -> tuple:
    """Who the version's files are: a replaced directory or file changes this."""
    parts: list[Any] = []
    for path in (directory, directory / ONNX_NAME, directory / "assets" / ASSET_NAME):
        try:
            st = os.stat(path)
        except OSError:
            parts.append(None)
            continue
        same_directory = path == directory  # its mtime moves with any file added beside
        parts.append(
            (st.st_dev, st.st_ino)
            if same_directory
            else (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        )
    return tuple(parts)


def _content_hash(directory: Path) -> str:
    """sha256 of ``model.onnx`` followed by ``assets/keras_gan.json`` (when present)."""
    digest = hashlib.sha256()
    for path in (directory / ONNX_NAME, directory / "assets" / ASSET_NAME):
        try:
            with open(path, "rb") as file:
                while block := file.read(1 << 20):
                    digest.update(block)
        except FileNotFoundError:
            digest.update(b"\0absent")
    return digest.hexdigest()


def validate_sampler(sampler: Sampler) -> None:
    """Check that ``sampler`` can serve: metadata agree with the model and a warm-up runs.

    The metadata ``image_shape`` must equal the ONNX output's declared dimensions, the output
    must be float32, ``sample_dtype`` must be uint8 or float32, and a two-row warm-up (``z``
    of ``sample(2, seed=0)``) must return finite float32 ``(2, *image_shape)`` and
    ``sample`` the declared dtype.

    Raises:
        ValueError: what disagrees, with the values found and expected.

    Example:
        >>> validate_sampler(Sampler("models/dcgan/3"))  # doctest: +SKIP
        Traceback (most recent call last):
        ValueError: the metadata image_shape [9, 9, 1] differs from the model output [N, 8, 8, 1]
    """
    session = sampler.session
    output = session.get_outputs()[0]
    shape = tuple(sampler.image_shape)
    declared = list(output.shape[1:])
    shown = "[N, " + ", ".join(str(d) for d in declared) + "]"
    if len(declared) != len(shape) or any(
        isinstance(d, int) and d != s for d, s in zip(declared, shape, strict=False)
    ):
        raise ValueError(
            f"the metadata image_shape {list(shape)} differs from the model output {shown}"
        )
    if output.type != "tensor(float)":
        raise ValueError(f"the model output is {output.type}; expected tensor(float) (float32)")
    try:
        dtype = sampler.sample_dtype
    except TypeError as error:
        raise ValueError(f"the metadata sample_dtype is not a dtype: {error}") from None
    if dtype not in (np.dtype(np.uint8), np.dtype(np.float32)):
        raise ValueError(f"the metadata sample_dtype is {dtype}; expected uint8 or float32")
    z = sampler.latent(2, seed=0)
    raw = session.run([output.name], {session.get_inputs()[0].name: z})[0]
    if raw.shape != (2, *shape) or raw.dtype != np.float32:
        raise ValueError(
            f"the warm-up returned {raw.dtype} of shape {list(raw.shape)}; expected float32 of "
            f"shape {[2, *shape]} (metadata image_shape {list(shape)})"
        )
    if not np.isfinite(raw).all():
        raise ValueError("the warm-up returned NaN or infinity")
    sample = sampler.sample(2, seed=0)
    if sample.shape != (2, *shape) or sample.dtype != dtype:
        raise ValueError(
            f"the warm-up sample is {sample.dtype} {list(sample.shape)}; expected {dtype} "
            f"{[2, *shape]}"
        )


def _public_error(error: BaseException, paths: Iterable[Path]) -> str:
    """``Type: message`` without server file paths, on one line, at most 500 characters."""
    message = f"{type(error).__name__}: {error}"
    for path, shown in paths:
        for form in {str(path), str(Path(path).resolve())}:
            message = message.replace(form, shown)
    message = _ABSOLUTE_PATH.sub(lambda m: m["last"], message)
    message = " ".join(message.split())
    return message if len(message) <= 500 else message[:497] + "..."


_ABSOLUTE_PATH = re.compile(r"(?<![\w.])/(?:[^\s/:'\"]+/)+(?P<last>[^\s/:'\"]+)")


def _timestamp(seconds: float) -> str:
    milliseconds = int(seconds % 1 * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{milliseconds:03d}Z"


class ModelSource:
    """One named model: its base path, the version it serves and version discovery.

    The highest numeric version directory holding ``model.onnx`` that loads *and validates*
    (``validate_sampler``: metadata against the model, a warm-up) is served, TF Serving's
    default ``latest`` policy. A background poller scans ``base_path`` every
    ``poll_seconds``; request threads never load anything, they read the served version,
    which is swapped in one assignment once a new one has validated.

    * A new or changed version (a new directory, or the files of a version replaced under the
      same number: their identity and, when that changed, their sha256) is loaded and
      validated; a failure is reported in the status and the version served so far keeps
      serving, even when the failing files replaced the served version's own.
    * A failed version is retried only when its files change, by the poller.
    * When the served directory is removed, the highest remaining valid version takes over.

    Args:
        name: the model name in URLs.
        base_path: directory of numeric version directories.
        poll_seconds: time between two scans of ``base_path`` (0: about every 10 ms).
        sampler_factory: builds a ``Sampler`` from a version directory (threads, providers).
        log: where to write one line per load, failure and swap (``sys.stderr`` when None).
        poll: start the background poller (False: call ``refresh()`` yourself).

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
        log: Any = None,
        poll: bool = True,
    ) -> None:
        self.name = check_model_name(name)
        self.base_path = Path(base_path)
        self.poll_seconds = float(poll_seconds)
        self._factory = sampler_factory
        self._log = log
        self._lock = threading.Lock()
        # Replaced, never mutated, so request threads read them without a lock.
        self._served: LoadedVersion | None = None
        self._failed: dict[int, FailedVersion] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.refresh()
        if poll:
            self._thread = threading.Thread(
                target=self._poll, name=f"keras-gan poller {name}", daemon=True
            )
            self._thread.start()

    def _write(self, line: str) -> None:
        print(f"keras-gan serve: model {self.name!r} {line}", file=self._log or sys.stderr)

    def _poll(self) -> None:
        while not self._stop.wait(max(self.poll_seconds, 0.01)):
            try:
                self.refresh()
            except Exception as error:  # keep polling; the served version is untouched
                self._write(f"scan failed: {_public_error(error, [])}")

    def close(self) -> None:
        """Stop the poller (the served version stays usable).

        Example:
            >>> source.close()  # doctest: +SKIP
        """
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(10)

    def refresh(self) -> None:
        """Scan the base path once: load and validate new or changed versions, swap.

        The poller calls this every ``poll_seconds``; calling it directly scans now.

        Example:
            >>> source.refresh()  # doctest: +SKIP
        """
        with self._lock:
            versions = find_versions(self.base_path)
            failed = {v: f for v, f in self._failed.items() if v in versions}
            served = self._served
            for version in sorted(versions, reverse=True):
                directory = versions[version]
                identity = _identity(directory)
                is_served = served is not None and version == served.version
                if is_served and identity == served.identity:
                    failed.pop(version, None)  # its files are back to the served ones
                    break  # the highest valid version is already served
                known = failed.get(version)
                if known is not None and known.identity == identity:
                    if is_served:
                        break
                    continue  # unchanged since it failed: not retried
                result = self._load(version, directory, identity, served if is_served else None)
                if isinstance(result, LoadedVersion):
                    failed.pop(version, None)
                    served = result
                    break
                if result is not None:
                    failed[version] = result
                if is_served:
                    break  # the validated files loaded before keep serving
            else:
                if served is not None and served.version not in versions:
                    self._write(f"version {served.version} was removed; none left to serve")
                    served = None
            self._failed, self._served = failed, served

    def _load(
        self, version: int, directory: Path, identity: tuple, served: LoadedVersion | None
    ) -> LoadedVersion | FailedVersion | None:
        """Load and validate one version; None when its files changed meanwhile."""
        shown = [(directory, f"{version}"), (self.base_path, "<base_path>")]
        digest = None
        try:
            digest = _content_hash(directory)
            if served is not None and digest == served.sha256:  # same bytes, new identity
                return dataclasses.replace(served, identity=identity)
            sampler = self._factory(directory)
            validate_sampler(sampler)
        except Exception as error:
            if _identity(directory) != identity:
                return None  # being written: try again at the next scan
            message = _public_error(error, shown)
            what = "new files of the served version" if served is not None else "version"
            self._write(f"{what} {version} failed, not served: {message}")
            return FailedVersion(version, message, identity, digest, time.time())
        if _identity(directory) != identity:
            return None
        loaded = LoadedVersion(version, sampler, identity, digest, time.time())
        previous = self._served
        change = "" if previous is None else f" (replaces version {previous.version}"
        if previous is not None:
            change += f", sha256 {previous.sha256[:12]})"
        self._write(f"version {version} loaded, sha256 {digest[:12]}{change}")
        return loaded

    @property
    def served(self) -> LoadedVersion | None:
        """The served version with its hash and load time, or None.

        Example:
            >>> source.served.version  # doctest: +SKIP
            2
        """
        return self._served

    @property
    def failures(self) -> dict[int, FailedVersion]:
        """Versions whose current files failed to load or validate.

        Example:
            >>> sorted(source.failures)  # doctest: +SKIP
            [3]
        """
        return self._failed

    @property
    def failed(self) -> dict[int, str]:
        """``{version: error}`` of ``failures`` (messages hold no server paths).

        Example:
            >>> source.failed  # doctest: +SKIP
            {4: 'ValueError: onnxruntime cannot load 4/model.onnx: ...'}
        """
        return {v: f.error for v, f in self._failed.items()}

    def current(self) -> tuple[int, Sampler] | None:
        """The served ``(version, sampler)``, or None; never loads (the poller does).

        Example:
            >>> version, sampler = source.current()  # doctest: +SKIP
        """
        served = self._served
        return None if served is None else (served.version, served.sampler)

    def status(self) -> list[dict[str, Any]]:
        """TF Serving's ``model_version_status`` entries: the served version, failed loads.

        A failure of new files under the served version's number is the served entry's
        ``error_message`` (its state stays AVAILABLE, with the files loaded before).

        Example:
            >>> source.status()[0]["state"]  # doctest: +SKIP
            'AVAILABLE'
        """
        served, failed = self._served, self._failed
        entries = []
        if served is not None:
            replaced = failed.get(served.version)
            message = (
                ""
                if replaced is None
                else f"New files for this version failed and are not served: {replaced.error}"
            )
            entries.append(_version_status(served.version, "AVAILABLE", "OK", message))
        for version, failure in sorted(failed.items(), reverse=True):
            if served is None or version != served.version:
                entries.append(_version_status(version, "END", "UNKNOWN", failure.error))
        return entries

    def load_status(self) -> list[dict[str, Any]]:
        """Per version: state, sha256 of the files, when loaded or failed, the error.

        Example:
            >>> source.load_status()[0]["loaded_at"]  # doctest: +SKIP
            '2026-12-03T14:05:00.120Z'
        """
        served, failed = self._served, self._failed
        entries = []
        if served is not None:
            entries.append(
                {
                    "version": str(served.version),
                    "state": "AVAILABLE",
                    "sha256": served.sha256,
                    "loaded_at": _timestamp(served.loaded_at),
                }
            )
        for version, failure in sorted(failed.items(), reverse=True):
            entries.append(
                {
                    "version": str(version),
                    "state": "FAILED",
                    "sha256": failure.sha256,
                    "failed_at": _timestamp(failure.failed_at),
                    "error": failure.error,
                }
            )
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


class ArrayReply:
    """A reply ``{key: array.tolist()}`` written block by block, never as one Python list.

    Args:
        key: ``predictions`` or ``outputs``.
        array: the images.
        block_values: about how many values one block of text holds.

    Example:
        >>> b"".join(ArrayReply("outputs", np.arange(3, dtype=np.uint8)).chunks())
        b'{"outputs":[0,1,2]}'
    """

    def __init__(self, key: str, array: np.ndarray, block_values: int = 1 << 14) -> None:
        self.key = key
        self.array = array
        per_row = max(1, int(np.prod(array.shape[1:], dtype=np.int64)))
        self.block_rows = max(1, block_values // per_row)

    def chunks(self) -> Iterator[bytes]:
        """The JSON text in blocks of ``block_rows`` rows.

        Example:
            >>> list(ArrayReply("o", np.zeros((2, 1), np.uint8), block_values=1).chunks())
            [b'{"o":[', b'[0]', b',[0]', b']}']
        """
        yield b'{"' + self.key.encode() + b'":['
        for start in range(0, len(self.array), self.block_rows):
            block = self.array[start : start + self.block_rows].tolist()
            text = json.dumps(block, separators=(",", ":"))[1:-1]
            yield (("," if start else "") + text).encode()
        yield b"]}"


def reply_bytes_bound(rows: int, image_shape: Sequence[int], dtype: Any) -> int:
    """Most bytes the JSON text of ``rows`` images can take (24 per float, 4 per uint8).

    Example:
        >>> reply_bytes_bound(1, (2, 2, 1), np.uint8)  # the text is '[[[[0],[0]],[[0],[0]]]]'
        69
    """
    per_value = 4 if np.dtype(dtype) == np.uint8 else 24
    values = rows * int(np.prod(image_shape, dtype=np.int64))
    lists = count = rows  # each list costs "[", "]" and a comma
    for dim in image_shape[:-1]:
        count *= int(dim)
        lists += count
    return per_value * values + 3 * lists + 32


class _NumberTooLong(ValueError):
    pass


def _parse_int(text: str) -> int:
    digits = len(text) - text.startswith("-")
    if digits > 40:
        raise _NumberTooLong(
            f"An integer of {digits} digits in the request body; numbers must fit in float32 "
            "(z), int32 (n) or int64 (seed)."
        )
    return int(text)


def _shown(value: Any, limit: int = 64) -> str:
    """``value`` as JSON text, cut to ``limit`` characters: what an error may echo."""
    try:
        text = value if isinstance(value, str) else json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_MAX_STRING_BYTES = 128


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
                f"keras-gan serve: internal error in {_shown(request, 120)}: {text}{where}",
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
            raise HTTPError(404, f"Malformed request: {_shown(method, 16)} {_shown(path, 200)}")
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
                    f"Invalid version {_shown(version_text)!r}: expected a non-negative integer.",
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
                raise HTTPError(405, f"{path} accepts POST only. Received: {_shown(method, 16)}")
            body = self._read_body(environ)  # before the lookup, so oversize bodies are drained
            source, served_version, sampler = self._lookup(name, version)
            return 200, self._predict(sampler, body)
        if method not in ("GET", "HEAD"):
            raise HTTPError(405, f"{path} accepts GET only. Received: {_shown(method, 16)}")
        if suffix == "/metadata":
            source, served_version, sampler = self._lookup(name, version)
            return 200, {
                "model_spec": {"name": name, "signature_name": "", "version": str(served_version)},
                "metadata": {"signature_def": {"signature_def": signature_def(sampler)}},
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
            f"Invalid model name {_shown(name)!r}: expected letters, digits, '_', '-' and '.', "
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
                raise HTTPError(400, f"Invalid Content-Length {_shown(text)!r}") from None
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

    def _check_body(self, body: bytes, latent_dim: int) -> None:
        """Refuse, before parsing, a body that no valid request for this model could be.

        Counting bytes bounds what ``json.loads`` would allocate: one value per ``,``, ``[``,
        ``{`` or ``:``, strings of at most 128 bytes, ASCII only (so text is one byte a
        character).
        """
        max_batch = self.limits.max_batch
        if not body.isascii():
            raise HTTPError(
                400,
                "The request body must be ASCII JSON (numbers and the keys of a predict "
                "request); it holds non-ASCII bytes.",
            )
        values = sum(body.count(c) for c in (b",", b"[", b"{", b":"))
        max_values = max_batch * (latent_dim + 4) + 64
        if values > max_values:
            raise HTTPError(
                413,
                f"Request body holds about {values} JSON values; at most {max_values} fit "
                f"{max_batch} rows of z (latent_dim {latent_dim}), the limit per request.",
            )
        quotes = body.count(b'"')
        if quotes > 4 * max_batch + 64:
            raise HTTPError(
                413,
                f"Request body holds {quotes} quotes; a predict request for at most {max_batch} "
                f"rows holds at most {4 * max_batch + 64}.",
            )
        if quotes:
            for match in _STRING.finditer(body):
                if match.end() - match.start() > _MAX_STRING_BYTES + 2:
                    raise HTTPError(
                        400,
                        f"A string of {match.end() - match.start() - 2} bytes in the request "
                        f"body; the keys and signature names of a predict request are at most "
                        f"{_MAX_STRING_BYTES}.",
                    )

    def _check_reply(self, rows: int, sampler: Sampler, dtype: Any) -> None:
        size = reply_bytes_bound(rows, sampler.image_shape, dtype)
        limit = self.limits.max_reply_bytes
        if size > limit:
            per_row = reply_bytes_bound(1, sampler.image_shape, dtype) - 32
            fits = max(0, (limit - 32) // max(1, per_row))
            raise HTTPError(
                413,
                f"The reply for {rows} rows of {list(sampler.image_shape)} "
                f"{np.dtype(dtype).name} values may take {size} bytes, over the limit of "
                f"{limit} bytes; request at most {fits} rows.",
            )

    def _predict(self, sampler: Sampler, body: bytes) -> ArrayReply:
        if not body or body.isspace():
            raise HTTPError(400, "Empty request body: expected a JSON object.")
        self._check_body(body, sampler.latent_dim)
        try:
            request = json.loads(body, parse_int=_parse_int)
        except _NumberTooLong as error:
            raise HTTPError(400, str(error)) from None
        except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError
            message = _shown(str(error), 200)
            raise HTTPError(400, f"Malformed JSON request body: {message}") from None
        if not isinstance(request, dict):
            raise HTTPError(
                400,
                f"The request body must be a JSON object. Received: {type(request).__name__}",
            )
        signature = request.get("signature_name", "serving_default")
        if not isinstance(signature, str) or signature not in SIGNATURES:
            raise HTTPError(
                400,
                f'Serving signature name: "{_shown(signature)}" not found in signature def '
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
        run_rows = self.limits.run_rows
        if signature == "sample":
            if has_rows:
                raise HTTPError(
                    400,
                    "The sample signature takes scalar inputs n and seed, which the row format "
                    "('instances') cannot express; send the columnar format "
                    '{"signature_name": "sample", "inputs": {"n": 16, "seed": 0}}.',
                )
            n, seed = self._sample_inputs(request["inputs"])
            self._check_reply(n, sampler, sampler.sample_dtype)
            images = _run_in_chunks(sampler, sampler.latent(n, seed), run_rows, sample=True)
            return ArrayReply("outputs", images)
        z = self._z_rows(request["instances"]) if has_rows else self._z_columns(request["inputs"])
        del request
        z = self._check_z(z, sampler.latent_dim)
        self._check_reply(len(z), sampler, np.float32)
        images = _run_in_chunks(sampler, z, run_rows, sample=False)
        return ArrayReply("predictions" if has_rows else "outputs", images)

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
                        "Each instance must have exactly the input 'z'. "
                        f"Received: {_shown(str(sorted(row)))}",
                    )
                rows.append(row["z"])
            return rows
        return instances

    def _z_columns(self, inputs: Any) -> Any:
        if isinstance(inputs, dict):
            if set(inputs) != {"z"}:
                raise HTTPError(
                    400,
                    "serving_default takes the input 'z' only. "
                    f"Received inputs: {_shown(str(sorted(inputs)))}",
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
                    f"{key} must be a scalar integer ({dtype}). Received: {_shown(value, 80)}",
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
