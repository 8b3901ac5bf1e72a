"""The run directory's manifest: which directory is a keras-gan run, and which files are its own.

``keras-gan train`` writes ``keras-gan-run.json`` into its ``--out`` directory before it
writes anything else there. The manifest lists every file and directory the run writes (its
*owned* paths), the settings it was started with and whether it finished. The rules built on it:

- a directory that is neither absent, empty nor a keras-gan run is refused (nothing is written
  into it, nothing in it is touched);
- a finished run is replaced only with ``--overwrite``; an interrupted one is continued with
  ``--resume`` or replaced with ``--overwrite``;
- replacing removes the owned paths listed in the manifest and nothing else: a file a user put
  beside them (even inside ``samples/``) survives;
- on ``--resume`` the recorded settings are the defaults and a conflicting one is an error.

Standard library only.

Example:
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp())
    >>> inspect_run(out).state
    'new'
    >>> claim(out, files=["run.json"], settings={"seed": 1})
    >>> inspect_run(out).state, inspect_run(out).settings
    ('interrupted', {'seed': 1})
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from keras_gan import _atomic

MANIFEST = "keras-gan-run.json"
FORMAT = 1
#: What a run records about itself (read by ``keras-gan export`` and ``evaluate``).
RUN_INFO = "run.json"
#: The model files a run directory may hold, in the order a loader looks for them.
GENERATOR = "generator.keras"
MIXTURE = "mixture.npz"
MODEL = "model.keras"
#: What ``keras-gan evaluate`` writes into a run directory.
EVALUATION = "evaluation.json"


class RunError(ValueError):
    """The run directory cannot be used as asked (the message says why and what to do).

    Example:
        >>> str(RunError("runs/x is not empty"))
        'runs/x is not empty'
    """


@dataclass
class RunState:
    """What ``--out`` holds: ``state`` is ``"new"`` (absent or empty), ``"interrupted"`` or
    ``"finished"``; ``files``/``dirs`` are the owned paths and ``settings`` the recorded ones.

    Example:
        >>> RunState(Path("runs/x"), "new").state
        'new'
    """

    path: Path
    state: str
    files: list[str] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)


def _relative(entry: Any, manifest: Path) -> str:
    text = entry if isinstance(entry, str) else ""
    parts = PurePosixPath(text).parts
    if not text or text.startswith("/") or ".." in parts or "\\" in text or parts[0] == MANIFEST:
        raise RunError(
            f"{manifest} lists {entry!r}, which is not a path inside the run directory; "
            "the manifest was edited or damaged: move the run's files away by hand"
        )
    return str(PurePosixPath(*parts))


def inspect_run(out: str | os.PathLike[str]) -> RunState:
    """Read what ``out`` holds, refusing a directory that is not a keras-gan run.

    Raises:
        RunError: ``out`` is a file, a non-empty directory without a manifest, or its
            manifest is unreadable.

    Example:
        >>> inspect_run("/nonexistent/run").state
        'new'
    """
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise RunError(f"--out {path} is a file, not a directory")
    if not path.exists() or not any(path.iterdir()):
        return RunState(path, "new")
    manifest = path / MANIFEST
    if not manifest.is_file():
        raise RunError(
            f"--out {path} is not empty and is not a keras-gan run directory (no {MANIFEST}); "
            "nothing in it was touched: choose a new or empty directory for --out (a run "
            "written by a keras-gan without manifests must be moved away by hand)"
        )
    try:
        data = json.loads(manifest.read_text())
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"expected a JSON object with format {FORMAT}")
        files = [_relative(e, manifest) for e in data.get("files", [])]
        dirs = [_relative(e, manifest) for e in data.get("dirs", [])]
        settings = dict(data.get("settings") or {})
    except (OSError, ValueError, TypeError, AttributeError) as error:
        if isinstance(error, RunError):
            raise
        raise RunError(f"cannot read {manifest}: {error}") from None
    state = "finished" if data.get("finished") is True else "interrupted"
    return RunState(path, state, files, dirs, settings)


def check_reuse(run: RunState, *, resume: bool, overwrite: bool) -> None:
    """Refuse to reuse ``run`` unless the flags allow it (call before any work is done).

    Raises:
        RunError: conflicting flags, an interrupted run without ``--resume`` or
            ``--overwrite``, a finished run without ``--overwrite``.

    Example:
        >>> check_reuse(RunState(Path("runs/x"), "new"), resume=False, overwrite=False)
    """
    if resume and overwrite:
        raise RunError(
            "--resume and --overwrite contradict each other: --resume continues the run in "
            "--out, --overwrite replaces it; pass one of them"
        )
    if run.state == "interrupted" and not (resume or overwrite):
        raise RunError(
            f"{run.path} holds an interrupted run; pass --resume to continue it or "
            "--overwrite to start over"
        )
    if run.state == "finished" and not overwrite:
        hint = "; there is nothing to resume" if resume else ""
        raise RunError(
            f"{run.path} holds a finished run{hint}: pass --overwrite to replace it (its "
            "files only; other files there are kept) or choose another --out"
        )


def resolve_settings(
    run: RunState, given: Mapping[str, Any], *, resume: bool, option: Mapping[str, str]
) -> dict[str, Any]:
    """The settings to train with: on ``--resume`` an unset one takes the recorded value and a
    set one must equal it; otherwise ``given`` as is.

    Args:
        run: the inspected run directory.
        given: setting name -> value from the command line (None when not given).
        resume: whether the run is being resumed.
        option: setting name -> its command-line flag, for messages.

    Raises:
        RunError: a given setting differs from the recorded one.

    Example:
        >>> run = RunState(Path("runs/x"), "interrupted", settings={"seed": 1})
        >>> resolve_settings(run, {"seed": None}, resume=True, option={"seed": "--seed"})
        {'seed': 1}
    """
    if not (resume and run.state == "interrupted"):
        return dict(given)
    resolved = dict(given)
    for key, value in given.items():
        if key not in run.settings:
            continue
        recorded = run.settings[key]
        if value is None:
            resolved[key] = recorded
        elif value != recorded:
            flag = option.get(key, key)
            shown = "not set" if recorded is None else repr(recorded)
            raise RunError(
                f"{flag} {value!r} differs from the run being resumed ({key} {shown} in "
                f"{run.path / MANIFEST}): a resumed run keeps its settings; leave {flag} out, "
                "or start over with --overwrite"
            )
    return resolved


def _inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def remove_owned(run: RunState, keep: Iterable[str] = ()) -> list[str]:
    """Remove the files and directories ``run``'s manifest lists (not ``keep``), then the
    directories left empty by that; return what was removed. Nothing else is touched.

    Example:
        >>> import tempfile
        >>> out = Path(tempfile.mkdtemp())
        >>> claim(out, files=["a.txt"], settings={})
        >>> _ = (out / "a.txt").write_text("mine"), (out / "b.txt").write_text("user's")
        >>> remove_owned(inspect_run(out)), sorted(p.name for p in out.iterdir())
        (['a.txt'], ['b.txt', 'keras-gan-run.json'])
    """
    root = run.path
    keep = set(keep)
    removed = []
    for entry in run.dirs:
        path = root / entry
        if entry in keep or not path.is_dir() or path.is_symlink() or not _inside(root, path):
            continue
        shutil.rmtree(path)
        removed.append(entry)
    parents = set()
    for entry in run.files:
        path = root / entry
        if entry in keep or not _inside(root, path.parent):
            continue
        # The file, and temporaries of it left by a killed write (``.tmp-<hex>.<name>``).
        for found in [path, *path.parent.glob(f"{_atomic.TMP_PREFIX}????????.{path.name}")]:
            if found.is_file() or found.is_symlink():
                found.unlink()
                removed.append(found.relative_to(root).as_posix())
        parents.update(p for p in PurePosixPath(entry).parents if str(p) != ".")
    for parent in sorted(parents, key=lambda p: -len(p.parts)):
        try:
            (root / parent).rmdir()  # only when empty: a user's file keeps it
        except OSError:
            pass
    return removed


def claim(
    out: str | os.PathLike[str],
    *,
    files: Iterable[str],
    settings: Mapping[str, Any],
    dirs: Iterable[str] = (),
    replace: RunState | None = None,
    keep: Iterable[str] = (),
) -> None:
    """Make ``out`` this run's directory: remove the owned paths of ``replace`` (a run being
    overwritten, except ``keep``) and write the manifest (unfinished) listing what this run
    writes. A resumed run passes its previous files too, so nothing owned is forgotten.

    Example:
        >>> import tempfile
        >>> out = Path(tempfile.mkdtemp()) / "run"
        >>> claim(out, files=["model.keras"], dirs=["backup"], settings={"seed": 0})
        >>> inspect_run(out).dirs
        ['backup']
    """
    path = Path(out)
    if replace is not None and replace.state != "new":
        remove_owned(replace, keep=keep)
    path.mkdir(parents=True, exist_ok=True)
    _write(path, sorted(set(files)), sorted(set(dirs)), dict(settings), finished=False)


def finish(out: str | os.PathLike[str]) -> None:
    """Mark the run in ``out`` finished (its outputs are complete).

    Example:
        >>> import tempfile
        >>> out = Path(tempfile.mkdtemp())
        >>> claim(out, files=[], settings={})
        >>> finish(out); inspect_run(out).state
        'finished'
    """
    run = inspect_run(out)
    _write(run.path, run.files, run.dirs, run.settings, finished=True)


def _write(
    path: Path, files: list[str], dirs: list[str], settings: dict[str, Any], finished: bool
) -> None:
    data = {
        "format": FORMAT,
        "tool": "keras-gan",
        "finished": finished,
        "settings": settings,
        "files": files,
        "dirs": dirs,
    }
    _atomic.write_json(path / MANIFEST, data, durable=True)


def read_json_object(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON object in ``path``; ``{}`` when there is no such file.

    Raises:
        RunError: the file cannot be read or holds something other than a JSON object.

    Example:
        >>> read_json_object("/nonexistent/run.json")
        {}
    """
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RunError(f"Cannot read {path}: {error}") from None
    if not isinstance(data, dict):
        raise RunError(f"{path} must hold a JSON object. Received: {type(data).__name__}")
    return data


def read_run_info(out: str | os.PathLike[str]) -> dict[str, Any]:
    """What the run in ``out`` recorded about itself (``run.json``); ``{}`` when absent.

    Example:
        >>> import tempfile
        >>> out = Path(tempfile.mkdtemp())
        >>> write_run_info(out, {"model": "gan", "steps": 10})
        >>> read_run_info(out)["steps"]
        10
    """
    return read_json_object(Path(out) / RUN_INFO)


def write_run_info(out: str | os.PathLike[str], info: Mapping[str, Any]) -> None:
    """Write ``run.json`` into ``out`` atomically, keys in the given order.

    Example:
        >>> import tempfile
        >>> write_run_info(Path(tempfile.mkdtemp()), {"model": "gan"})
    """
    _atomic.write_json(Path(out) / RUN_INFO, dict(info), sort_keys=False)


@dataclass
class TrainedRun:
    """What :func:`train` returns.

    Attributes:
        out: the run directory.
        model: the trained model (a :class:`keras_gan.models.GAN`, or a
            :class:`keras_gan.mixture.GaussianMixture` for ``model="gmm"``).
        info: what ``run.json`` records.

    Example:
        >>> TrainedRun(Path("runs/x"), None, {"steps": 3}).info["steps"]
        3
    """

    out: Path
    model: Any
    info: dict[str, Any] = field(default_factory=dict)
