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

    from keras_gan.callbacks import write_json_atomic
    from keras_gan.data import write_idx
    from keras_gan.metrics.evaluation import _write_text
    from keras_gan.mixture import GaussianMixture

    written = [
        _atomic.write_bytes(tmp_path / "a.bin", b"a"),
        write_models_config({"gan": "/models/gan"}, tmp_path / "models.config"),
        save_grid(np.zeros((4, 8, 8, 1)), tmp_path / "grid.png"),
        GaussianMixture(n_components=1, random_state=0)
        .fit(np.random.default_rng(0).normal(size=(20, 2)))
        .save(tmp_path / "mixture.npz"),
    ]
    write_json_atomic(tmp_path / "run.json", {"a": 1})
    write_idx(tmp_path / "x-idx1-ubyte", np.arange(3, dtype=np.uint8))
    write_bytes_atomic(tmp_path / "model.onnx", b"onnx")
    _write_text(tmp_path / "eval.md", "x")
    written += [tmp_path / n for n in ("run.json", "x-idx1-ubyte", "model.onnx", "eval.md")]
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
