"""Every atomic write ends with the process umask's usual mode, and leaves nothing behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from keras_gan import _atomic


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_files_written_atomically_are_0644_under_umask_022(tmp_path, umask_022):
    from keras_gan.export.source import write_bytes_atomic
    from keras_gan.serving.config import write_models_config
    from keras_gan.serving.images import save_grid

    from keras_gan.data import write_idx
    from keras_gan.mixture import GaussianMixture
    from keras_gan.plotting import plot_history
    from keras_gan.runs.directory import write_run_info

    written = [
        _atomic.write_bytes(tmp_path / "a.bin", b"a"),
        write_models_config({"gan": "/models/gan"}, tmp_path / "models.config"),
        save_grid(np.zeros((4, 8, 8, 1)), tmp_path / "grid.png"),
        GaussianMixture(n_components=1, random_state=0)
        .fit(np.random.default_rng(0).normal(size=(20, 2)))
        .save(tmp_path / "mixture.npz"),
    ]
    write_run_info(tmp_path, {"a": 1})
    write_idx(tmp_path / "x-idx1-ubyte", np.arange(3, dtype=np.uint8))
    write_bytes_atomic(tmp_path / "model.onnx", b"onnx")
    plot_history([{"epoch": 1, "d_loss": 1.0}], tmp_path / "eval.png")
    written += [tmp_path / n for n in ("run.json", "x-idx1-ubyte", "model.onnx", "eval.png")]
    assert {p.name: oct(_mode(Path(p))) for p in written} == {
        Path(p).name: oct(0o644) for p in written
    }
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_the_umask_is_honoured_not_a_fixed_mode(tmp_path):
    old = os.umask(0o077)
    try:
        path = _atomic.write_bytes(tmp_path / "private.bin", b"x")
    finally:
        os.umask(old)
    assert _mode(path) == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = _atomic.write_bytes(tmp_path / "keep.txt", b"old")
    with pytest.raises(RuntimeError), _atomic.write_with(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("killed half way")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


# ------------------------------------------------------------------ atomic version directories

CHILD = r"""
import os, signal, sys, time
from pathlib import Path
from keras_gan._atomic import atomic_directory

final, how = Path(sys.argv[1]), sys.argv[2]
with atomic_directory(final) as tmp:
    (tmp / "model.onnx").write_bytes(b"half")
    print("READY", flush=True)
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif how == "term":
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
    else:
        time.sleep(60)
"""


def _child(final: Path, how: str):
    import subprocess
    import sys

    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(final), how], stdout=subprocess.PIPE, text=True
    )


def test_a_lost_race_is_a_clear_error_and_replaces_nothing(tmp_path):
    final = tmp_path / "3"
    for competitor in ("empty", "full"):
        with pytest.raises(FileExistsError, match=r"appeared while exporting: .*3"):
            with _atomic.atomic_directory(final) as tmp:
                (tmp / "model.onnx").write_bytes(b"mine")
                final.mkdir()  # another writer takes the number meanwhile
                if competitor == "full":
                    (final / "theirs").write_bytes(b"theirs")
        assert [p.name for p in final.iterdir()] == ([] if competitor == "empty" else ["theirs"])
        assert sorted(p.name for p in tmp_path.iterdir()) == ["3"]  # no temporary left
        if competitor == "empty":
            final.rmdir()


def test_an_existing_empty_version_directory_is_refused(tmp_path):
    (tmp_path / "3").mkdir()
    with (
        pytest.raises(FileExistsError, match="already exists"),
        _atomic.atomic_directory(tmp_path / "3"),
    ):
        pass


def test_sigterm_cleans_up_like_an_exception(tmp_path):
    child = _child(tmp_path / "1", "term")
    assert child.wait(timeout=60) == 143
    assert list(tmp_path.iterdir()) == []


def test_temporaries_of_killed_exports_are_cleaned_and_live_ones_kept(tmp_path):
    killed = _child(tmp_path / "1", "kill")
    assert killed.wait(timeout=60) == -9
    left = sorted(p.name for p in tmp_path.iterdir())
    assert len(left) == 2 and left[0].startswith(".tmp-1-") and left[1].endswith(".lock")
    live = _child(tmp_path / "2", "sleep")
    try:
        assert live.stdout.readline().strip() == "READY"
        with _atomic.atomic_directory(tmp_path / "3") as tmp:
            (tmp / "model.onnx").write_bytes(b"onnx")
        names = sorted(p.name for p in tmp_path.iterdir())
        assert not [n for n in names if n.startswith(".tmp-1-")]  # the dead one: removed
        assert len([n for n in names if n.startswith(".tmp-2-")]) == 2  # the live one: kept
        assert "3" in names
    finally:
        live.kill()
        live.wait()
