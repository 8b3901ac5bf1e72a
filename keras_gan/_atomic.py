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
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = [
    "atomic_directory",
    "fsync_dir",
    "remove_stale_temporaries",
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


# ------------------------------------------------------------------------------ directories


def _rename_noreplace(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target``, failing with ``FileExistsError`` if ``target`` exists
    (even as an empty directory, which a plain ``rename`` would silently replace).

    Linux ``renameat2(RENAME_NOREPLACE)`` makes the check and the rename one step; where it is
    missing the check comes just before the rename.
    """
    import ctypes
    import errno

    renameat2 = None
    if sys.platform.startswith("linux"):
        try:
            renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
        except (AttributeError, OSError):
            renameat2 = None
    if renameat2 is not None:
        at_fdcwd, rename_noreplace = -100, 1
        result = renameat2(
            at_fdcwd, os.fsencode(source), at_fdcwd, os.fsencode(target), rename_noreplace
        )
        if result == 0:
            return
        code = ctypes.get_errno()
        if code == errno.EEXIST:
            raise FileExistsError(code, os.strerror(code), str(target))
        if code not in (errno.ENOSYS, errno.EINVAL, errno.EPERM):  # unsupported: fall back
            raise OSError(code, os.strerror(code), str(source))
    if os.path.lexists(target):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target))
    os.rename(source, target)


def _lock_nonblocking(fd: int) -> bool:
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def remove_stale_temporaries(parent: str | os.PathLike[str]) -> list[str]:
    """Remove the temporary directories of :func:`atomic_directory` calls whose process died
    (SIGKILL, power loss); return their names. A live one holds a lock and is left alone.

    Each temporary directory ``.tmp-<name>-<random>`` has a lock file beside it,
    ``.tmp-<name>-<random>.lock``, locked (``flock``) by its process for as long as it runs;
    the kernel drops the lock when the process dies, which is what proves it stale.

    Example:
        >>> import tempfile
        >>> remove_stale_temporaries(tempfile.mkdtemp())
        []
    """
    try:
        import fcntl  # noqa: F401 - POSIX only; elsewhere nothing is provably stale
    except ImportError:
        return []
    parent = Path(parent)
    removed = []
    for lock in sorted(parent.glob(f"{TMP_PREFIX}*.lock")):
        try:
            fd = os.open(lock, os.O_RDWR)
        except OSError:
            continue
        try:
            if not _lock_nonblocking(fd):
                continue  # its exporter is running
            directory = lock.with_suffix("")
            if directory.is_dir() and not directory.is_symlink():
                shutil.rmtree(directory, ignore_errors=True)
                removed.append(directory.name)
            lock.unlink(missing_ok=True)
        finally:
            os.close(fd)
    return removed


def _fsync_tree(root: Path) -> None:
    for path in sorted(root.rglob("*"), key=lambda p: -len(p.parts)):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
        elif path.is_dir():
            fsync_dir(path)
    fsync_dir(root)


class _Terminated(SystemExit):
    """SIGTERM arrived while a directory was being built (exit status 143)."""


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into an exception for the block (main thread, default handler only), so
    clean-up runs as for any error and the process then exits with status 143."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous not in (signal.SIG_DFL, None):
        yield  # the application handles SIGTERM itself
        return

    def terminate(signum: int, frame: Any) -> None:
        raise _Terminated(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def atomic_directory(final: str | os.PathLike[str]) -> Iterator[Path]:
    """Build a directory in a hidden temporary sibling and rename it to ``final`` when complete.

    The rename is the only commit point: it never replaces anything (not even an empty
    directory), and losing a race to another writer of ``final`` is a ``FileExistsError``
    naming it. On any exception, SIGTERM included, the temporary directory is removed and
    ``final`` is never created. Temporaries left by killed processes are removed by the next
    call in the same parent (:func:`remove_stale_temporaries`). The files, the new directory
    and the parent are fsynced.

    Args:
        final: the directory to create; it must not exist.

    Yields:
        The temporary directory to fill.

    Raises:
        FileExistsError: ``final`` exists, or appeared while the directory was being built.

    Example:
        >>> import tempfile
        >>> target = Path(tempfile.mkdtemp()) / "3"
        >>> with atomic_directory(target) as tmp:
        ...     _ = (tmp / "model.onnx").write_bytes(b"onnx")
        >>> sorted(p.name for p in target.iterdir())
        ['model.onnx']
    """
    final = Path(final)
    if os.path.lexists(final):
        raise FileExistsError(f"Export destination already exists: {final}")
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(final.parent)
    tmp = final.parent / f"{TMP_PREFIX}{final.name}-{secrets.token_hex(4)}"
    lock = tmp.with_name(tmp.name + ".lock")
    # Locked under another name, then renamed: a cleaner never sees it unlocked.
    locking = tmp.with_name(tmp.name + ".locking")
    fd = os.open(locking, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        try:
            _lock_nonblocking(fd)
        except ImportError:  # no fcntl: nothing can be proven stale either
            pass
        os.replace(locking, lock)
        with _sigterm_raises():
            try:
                tmp.mkdir()
                yield tmp
                _fsync_tree(tmp)
                try:
                    _rename_noreplace(tmp, final)
                except FileExistsError:
                    raise FileExistsError(
                        f"Export destination appeared while exporting: {final} (another "
                        "writer took it; nothing was replaced)"
                    ) from None
                fsync_dir(final.parent)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
    finally:
        locking.unlink(missing_ok=True)
        lock.unlink(missing_ok=True)
        os.close(fd)
