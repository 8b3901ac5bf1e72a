"""Atomic file writes: the one place where a file is written aside and renamed into place.

A reader sees the old file or the new one, never half of one. The temporary sibling is a hidden
``.tmp-<random>.<name>`` (it keeps the name's suffixes, which some writers insist on, such as
``.keras`` or ``.weights.h5``) and is created with mode ``0o666`` less the process umask, so the
result has the usual mode (``0644`` under umask 022) rather than ``mkstemp``'s ``0600``.

Standard library only: ``keras_gan.serving`` (no TensorFlow) uses it too.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = write_bytes(Path(tempfile.mkdtemp()) / "a.bin", b"abc")
    >>> path.read_bytes()
    b'abc'
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = [
    "fsync_dir",
    "temporary_sibling",
    "write_bytes",
    "write_callback",
    "write_json",
    "write_with",
]

TMP_PREFIX = ".tmp-"


def temporary_sibling(path: str | os.PathLike[str]) -> Path:
    """A fresh hidden name next to ``path`` that keeps its suffixes.

    Example:
        >>> temporary_sibling("runs/x/model.keras").name.endswith(".model.keras")
        True
    """
    path = Path(path)
    return path.with_name(f"{TMP_PREFIX}{secrets.token_hex(4)}.{path.name}")


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Flush a directory's entries (a rename inside it) to disk; a no-op where unsupported.

    Example:
        >>> fsync_dir(".")
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _commit(tmp: Path, path: Path, durable: bool) -> None:
    os.replace(tmp, path)
    if durable:
        fsync_dir(path.parent)


@contextmanager
def write_with(path: str | os.PathLike[str], *, durable: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling for a writer that wants a path (``model.save``,
    ``fig.savefig``); rename it to ``path`` when the block ends without an exception.

    The writer creates the file itself, so the process umask applies. On any exception
    (``KeyboardInterrupt`` included) the temporary file is removed and ``path`` is untouched.

    Args:
        path: the destination (its parent is created).
        durable: fsync the file and its directory (for backups that must survive a crash).

    Example:
        >>> import tempfile
        >>> target = Path(tempfile.mkdtemp()) / "note.txt"
        >>> with write_with(target) as tmp:
        ...     _ = tmp.write_text("hi")
        >>> target.read_text()
        'hi'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling(path)
    try:
        yield tmp
        if durable:
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
        _commit(tmp, path, durable)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(path: str | os.PathLike[str], data: bytes, *, durable: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary sibling and a rename; return ``path``.

    Args:
        path: the destination (its parent is created).
        data: the full contents.
        durable: fsync the file and its directory before returning.

    Example:
        >>> import tempfile
        >>> write_bytes(Path(tempfile.mkdtemp()) / "x.bin", b"\\x00").stat().st_size
        1
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling(path)
    # O_EXCL on a fresh random name; 0o666 less the umask, like open(..., "w").
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        _commit(tmp, path, durable)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_json(
    path: str | os.PathLike[str], data: Any, *, durable: bool = False, **dumps: Any
) -> Path:
    """Write ``data`` as JSON (``indent=2``, sorted keys unless told otherwise) atomically.

    Example:
        >>> import tempfile
        >>> write_json(Path(tempfile.mkdtemp()) / "x.json", {"a": 1}).read_text()
        '{\\n  "a": 1\\n}\\n'
    """
    options: dict[str, Any] = {"indent": 2, "sort_keys": True, **dumps}
    return write_bytes(path, (json.dumps(data, **options) + "\n").encode(), durable=durable)


def write_callback(path: str | os.PathLike[str], write: Callable[[Path], Any]) -> Path:
    """Call ``write(tmp)`` on a temporary sibling, then rename it to ``path``; return ``path``.

    Example:
        >>> import tempfile
        >>> write_callback(Path(tempfile.mkdtemp()) / "y.txt", lambda p: p.write_text("y")).name
        'y.txt'
    """
    with write_with(path) as tmp:
        write(tmp)
    return Path(path)
