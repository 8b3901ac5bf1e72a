"""Keep TensorFlow's C++ log lines out of a command's output.

``TF_CPP_MIN_LOG_LEVEL`` quiets TensorFlow's own logger, but TensorFlow 2.21 also logs through
Abseil before ``absl::InitializeLog()`` runs, and those lines (``I0000 ... oneDNN custom
operations are on``, ``E0000 ... failed call to cuInit``, ``E0000 ... remapper failed``) go to
standard error whatever the variable says. :class:`NativeLogFilter` therefore reads file
descriptor 2 through a pipe and drops the lines in that format; every other line (Python
warnings, tracebacks, onnxruntime's own messages) passes through unchanged. Child processes
(multi-worker training) inherit the pipe, so their lines are filtered too.

``keras-gan --verbose`` or a ``TF_CPP_MIN_LOG_LEVEL`` set by the user turns the filter off.

Example:
    >>> import sys
    >>> with NativeLogFilter():
    ...     pass
"""

from __future__ import annotations

import os
import re
import sys
import threading
from types import TracebackType

__all__ = ["NATIVE_LOG_LINE", "NativeLogFilter", "is_native_log_line"]

#: A C++ log line: Abseil/glog (``E0000 00:00:1796690838.679454    2349 cuda_platform.cc:52] ...``),
#: TensorFlow's own format (``2026-12-08 00:44:05.123456: I tensorflow/...cc:44] ...``) and
#: Abseil's notice that it logs to standard error before initialisation.
NATIVE_LOG_LINE = re.compile(
    rb"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [^\s\]]+:\d+\] "
    rb"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] [^\s\]]+:\d+\] "
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR)"
)
# A line that starts with another byte is passed on before its end arrives (progress bars).
_LOG_START = frozenset(b"IWEF0123456789")
# A line held this long without a newline is passed on.
_MAX_HELD = 1 << 16


def is_native_log_line(line: bytes) -> bool:
    """Whether ``line`` (without its newline) is a C++ log line.

    Example:
        >>> is_native_log_line(b"I0000 00:00:1.5    7 port.cc:153] oneDNN custom operations")
        True
        >>> is_native_log_line(b"Epoch 1/12")
        False
    """
    return NATIVE_LOG_LINE.match(line) is not None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except OSError:  # the reader of standard error went away: drop the rest
            return
        view = view[written:]


class NativeLogFilter:
    """Filter C++ log lines out of a file descriptor (standard error by default) while active.

    Args:
        fd: the descriptor to filter.

    Example:
        >>> with NativeLogFilter():
        ...     print("kept", file=sys.stderr)
    """

    def __init__(self, fd: int = 2) -> None:
        self.fd = fd
        self._saved: int | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> NativeLogFilter:
        try:
            sys.stderr.flush()
        except (AttributeError, ValueError):
            pass
        self._saved = os.dup(self.fd)
        read, write = os.pipe()
        os.dup2(write, self.fd)
        os.close(write)
        self._thread = threading.Thread(
            target=self._pump, args=(read, self._saved), name="native-log-filter", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            sys.stderr.flush()
        except (AttributeError, ValueError):
            pass
        if self._saved is None:
            return
        # Pointing fd back at the saved descriptor closes this process' end of the pipe; the
        # pump ends when every child holding it has exited too (it is not waited for longer).
        os.dup2(self._saved, self.fd)
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        os.close(self._saved)
        self._saved = None

    @staticmethod
    def _pump(read: int, out: int) -> None:
        held = b""
        passing = False  # inside a line already judged (and passed on) before its end
        with os.fdopen(read, "rb", buffering=0) as pipe:
            while True:
                chunk = pipe.read(1 << 16)
                if not chunk:
                    break
                held += chunk
                kept = []
                while True:
                    end = held.find(b"\n")
                    if end < 0:
                        break
                    line, held = held[: end + 1], held[end + 1 :]
                    if passing or not is_native_log_line(line):
                        kept.append(line)
                    passing = False
                if held and (passing or held[0] not in _LOG_START or len(held) > _MAX_HELD):
                    kept.append(held)
                    held = b""
                    passing = True
                if kept:
                    _write_all(out, b"".join(kept))
        if held and (passing or not is_native_log_line(held)):
            _write_all(out, held)
