"""Shared fixtures: quiet TensorFlow, small deterministic data."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pathlib import Path

import numpy as np
import pytest

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture
def idx_dir(tmp_path: Path) -> Path:
    """A directory of small gzip IDX files (train: 64 images, test: 16) of 8x8 noise."""
    from keras_gan.data import write_idx

    rng = np.random.default_rng(0)
    for prefix, n in (("train", 64), ("t10k", 16)):
        write_idx(
            tmp_path / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 8, 8), np.uint8)
        )
        write_idx(
            tmp_path / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n).astype(np.uint8)
        )
    return tmp_path


requires_fashion_mnist = pytest.mark.skipif(
    not FASHION_DIR.is_dir(), reason="needs `apt-get install dataset-fashion-mnist`"
)
