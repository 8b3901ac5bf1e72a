"""The model-version store: which version of each model is served, loaded and swapped safely.

A ``ModelSource`` serves the highest numeric version directory under a model base path that
loads *and validates* (``validate_sampler``: metadata against the model, a warm-up run), as TF
Serving's default ``latest`` policy does, and picks up new and replaced version directories
while running: a background poller loads and validates them and swaps the served version in
one assignment, so request threads never load anything. What it loaded and what failed, with
each version's sha256 and time, is its ``status()`` and ``load_status()``.

Example:
    >>> source = ModelSource("dcgan", "runs/dcgan/export")  # doctest: +SKIP
    >>> version, sampler = source.current()  # doctest: +SKIP
    >>> source.load_status()[0]["state"]  # doctest: +SKIP
    'AVAILABLE'
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from keras_gan.serving.layout import ONNX_NAME, metadata_path
from keras_gan.serving.sampler import Sampler, find_versions

__all__ = [
    "MODEL_NAME_PATTERN",
    "FailedVersion",
    "LoadedVersion",
    "ModelSource",
    "check_model_name",
    "validate_sampler",
]

#: Model names: what TF Serving accepts in a URL and a file system accepts as a directory name.
MODEL_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}")


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
    for path in (directory, directory / ONNX_NAME, metadata_path(directory)):
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
    for path in (directory / ONNX_NAME, metadata_path(directory)):
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
    of ``sample(2, seed=0)``, with the first and the last class for a conditional export) must
    return finite float32 ``(2, *image_shape)`` and ``sample`` the declared dtype.

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
    inputs = session.get_inputs()
    feed = {inputs[0].name: z}
    if sampler.conditional:  # the first and the last class
        feed[inputs[1].name] = np.array([0, sampler.num_classes - 1], np.int32)
    raw = session.run([output.name], feed)[0]
    if raw.shape != (2, *shape) or raw.dtype != np.float32:
        raise ValueError(
            f"the warm-up returned {raw.dtype} of shape {list(raw.shape)}; expected float32 of "
            f"shape {[2, *shape]} (metadata image_shape {list(shape)})"
        )
    if not np.isfinite(raw).all():
        raise ValueError("the warm-up returned NaN or infinity")
    sample = sampler.sample(2, seed=0, label=0 if sampler.conditional else None)
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

        The served version of a class-conditional model also lists its ``num_classes`` and
        ``class_names``.

        Example:
            >>> source.load_status()[0]["loaded_at"]  # doctest: +SKIP
            '2026-12-03T14:05:00.120Z'
        """
        served, failed = self._served, self._failed
        entries = []
        if served is not None:
            entry: dict[str, Any] = {
                "version": str(served.version),
                "state": "AVAILABLE",
                "sha256": served.sha256,
                "loaded_at": _timestamp(served.loaded_at),
            }
            sampler = served.sampler
            if sampler.conditional:
                entry["num_classes"] = sampler.num_classes
                entry["class_names"] = list(sampler.class_names)
            entries.append(entry)
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
