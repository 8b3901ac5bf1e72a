"""The 2-D benchmark mixtures, their scatter plots, and mode coverage measured on them."""

from __future__ import annotations

import numpy as np
import pytest

from keras_gan.data import load_points, mixture_centers, mixture_of_gaussians
from keras_gan.plotting import scatter_panels, scatter_points


def test_ring_has_eight_distinct_means_on_the_unit_circle():
    centers, std = mixture_centers("ring")
    assert centers.shape == (8, 2) and centers.dtype == np.float32 and std == 0.01
    np.testing.assert_allclose(np.linalg.norm(centers, axis=1), 1.0, rtol=1e-6)
    # linspace(0, 2 pi, 8) would repeat the first mean: all 8 must be distinct and evenly spaced.
    gaps = np.linalg.norm(centers - np.roll(centers, 1, axis=0), axis=1)
    np.testing.assert_allclose(gaps, 2 * np.sin(np.pi / 8), rtol=1e-5)
    angles = np.sort(np.mod(np.arctan2(centers[:, 1], centers[:, 0]), 2 * np.pi))
    np.testing.assert_allclose(angles, 2 * np.pi * np.arange(8) / 8, atol=1e-6)


def test_grid_means_are_the_25_points_of_minus4_to_4_step_2():
    centers, std = mixture_centers("grid")
    assert centers.shape == (25, 2) and std == 0.05
    expected = {(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)}
    assert {tuple(int(v) for v in c) for c in centers} == expected
    np.testing.assert_array_equal(centers, np.round(centers))


@pytest.mark.parametrize("kind", ["ring", "grid"])
def test_points_are_an_equal_weight_mixture_with_the_stated_std(kind):
    centers, std = mixture_centers(kind)
    points = mixture_of_gaussians(kind, n=20_000, seed=3)
    assert points.shape == (20_000, 2) and points.dtype == np.float32
    distances = np.linalg.norm(points[:, None] - centers[None], axis=-1)
    nearest = distances.argmin(axis=1)
    offsets = points - centers[nearest]
    np.testing.assert_allclose(offsets.std(axis=0), std, rtol=0.05)
    np.testing.assert_allclose(offsets.mean(axis=0), 0.0, atol=std / 20)
    counts = np.bincount(nearest, minlength=len(centers))
    expected = len(points) / len(centers)
    assert np.abs(counts - expected).max() < 5 * np.sqrt(expected)  # ~5 sigma of a binomial


def test_draws_are_reproducible_per_seed():
    a = mixture_of_gaussians("grid", n=100, seed=7)
    np.testing.assert_array_equal(a, mixture_of_gaussians("grid", n=100, seed=7))
    assert not np.array_equal(a, mixture_of_gaussians("grid", n=100, seed=8))


def test_bad_arguments_name_the_value():
    with pytest.raises(ValueError, match="Received: kind='circle'"):
        mixture_of_gaussians("circle", 10)
    with pytest.raises(ValueError, match="Received: n=0"):
        mixture_of_gaussians("ring", 0)
    with pytest.raises(ValueError, match="Received: kind=3"):
        mixture_centers(3)


def test_load_points_batches_a_fixed_draw():
    dataset = load_points("ring", n=1000, batch_size=256, seed=0, shuffle=False)
    batches = [np.asarray(b) for b in dataset]
    assert [b.shape for b in batches] == [(256, 2)] * 3  # remainder dropped
    np.testing.assert_array_equal(batches[0], mixture_of_gaussians("ring", 1000, seed=0)[:256])


def test_scatter_plots_are_written_atomically(tmp_path):
    centers, _ = mixture_centers("ring")
    path = tmp_path / "plots" / "ring.png"
    scatter_points(mixture_of_gaussians("ring", 500), centers, path, title="data")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["ring.png"]  # no temporary left
    panels = tmp_path / "panels.png"
    scatter_panels([(np.zeros((4, 2)), centers, "a"), (np.ones((4, 2)), centers, "b")], panels)
    assert panels.stat().st_size > 1000
    with pytest.raises(ValueError, match=r"shape \(4, 3\)"):
        scatter_points(np.zeros((4, 3)), centers, tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()
