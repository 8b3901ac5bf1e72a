"""Every plot the library draws (matplotlib, Agg backend): 2-D samples over the true mixture
means, training curves, and the class histogram of an evaluation.

Files are written atomically: to a temporary sibling, then renamed into place. Only numpy and
matplotlib are imported (lazily), never TensorFlow.

Example:
    >>> from keras_gan.data import mixture_centers, mixture_of_gaussians
    >>> centers, _ = mixture_centers("ring")
    >>> scatter_points(mixture_of_gaussians("ring", 500), centers, "/tmp/ring.png", title="data")
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from keras_gan import _atomic
from keras_gan._checks import check_positive_int


def _points(value: Any, name: str) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(
            f"{name} must be an array of shape (n, 2). Received: {name} of shape {array.shape}"
        )
    return array


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _limits(centers: np.ndarray) -> tuple[float, float, float, float]:
    low, high = centers.min(axis=0), centers.max(axis=0)
    pad = 0.35 * float(max(high - low)) + 0.5
    return low[0] - pad, high[0] + pad, low[1] - pad, high[1] + pad


def _draw(ax: Any, samples: np.ndarray, centers: np.ndarray, title: str | None) -> None:
    x0, x1, y0, y1 = _limits(centers)
    inside = (
        (samples[:, 0] >= x0)
        & (samples[:, 0] <= x1)
        & (samples[:, 1] >= y0)
        & (samples[:, 1] <= y1)
    )
    ax.scatter(
        centers[:, 0],
        centers[:, 1],
        s=60,
        marker="+",
        linewidths=0.8,
        color="tab:red",
        label="true means",
        zorder=1,
    )
    ax.scatter(
        samples[:, 0], samples[:, 1], s=2, alpha=0.35, color="tab:blue", label="samples", zorder=2
    )
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.grid(alpha=0.2)
    outside = int(len(samples) - inside.sum())
    heading = title or ""
    if outside:
        heading = f"{heading}\n({outside} of {len(samples)} samples off the plot)".strip()
    if heading:
        ax.set_title(heading, fontsize=9)


def _save(fig: Any, path: str | os.PathLike[str], dpi: int = 110) -> None:
    plt = _pyplot()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with _atomic.write_with(path) as tmp:
            fig.savefig(tmp, format="png", dpi=dpi)
    finally:
        plt.close(fig)


def scatter_points(
    samples: Any,
    centers: Any,
    path: str | os.PathLike[str],
    title: str | None = None,
) -> None:
    """Write a PNG scatter of 2-D ``samples`` with the true ``centers`` marked as crosses.

    The axes are fixed by the centers (so plots of different runs compare); samples that fall
    outside are counted in the title.

    Args:
        samples: ``(n, 2)`` generated points.
        centers: ``(K, 2)`` mixture means.
        path: output PNG path (parent directories are created).
        title: plot title.

    Example:
        >>> scatter_points(np.zeros((3, 2)), np.ones((1, 2)), "/tmp/s.png", title="t")
    """
    samples, centers = _points(samples, "samples"), _points(centers, "centers")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    _draw(ax, samples, centers, title)
    ax.legend(loc="upper right", fontsize=7, markerscale=2)
    fig.tight_layout()
    _save(fig, path)


def scatter_panels(
    panels: Sequence[tuple[Any, Any, str | None]],
    path: str | os.PathLike[str],
    columns: int = 4,
) -> None:
    """Write several scatter plots, one panel per ``(samples, centers, title)``, to one PNG.

    Args:
        panels: ``(samples, centers, title)`` triples.
        path: output PNG path.
        columns: panels per row.

    Example:
        >>> scatter_panels([(np.zeros((3, 2)), np.ones((1, 2)), "a")] * 2, "/tmp/p.png")
    """
    if not panels:
        raise ValueError("panels must hold at least one (samples, centers, title). Received: []")
    columns = check_positive_int(columns, "columns")
    columns = min(columns, len(panels))
    rows = math.ceil(len(panels) / columns)
    plt = _pyplot()
    fig, axes = plt.subplots(rows, columns, figsize=(3.4 * columns, 3.4 * rows), squeeze=False)
    for ax, (samples, centers, title) in zip(axes.ravel(), panels, strict=False):
        _draw(ax, _points(samples, "samples"), _points(centers, "centers"), title)
    for ax in axes.ravel()[len(panels) :]:
        ax.axis("off")
    fig.tight_layout()
    _save(fig, path)


def plot_history(rows: Sequence[dict[str, float]], path: str | os.PathLike[str]) -> None:
    """Plot losses (and the Wasserstein estimate, discriminator outputs) per epoch to a PNG.

    Args:
        rows: one dict per epoch with ``epoch`` and the logged values.
        path: the PNG to write.

    Example:
        >>> plot_history([{"epoch": 1, "d_loss": 1.3, "g_loss": 0.8}], "/tmp/loss.png")
    """
    plt = _pyplot()
    epochs = [r["epoch"] for r in rows]
    panels = [
        ("loss", ("d_loss", "g_loss", "penalty")),
        ("discriminator", ("d_real", "d_fake", "w_distance")),
    ]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, (title, keys) in zip(axes, panels, strict=True):
        for key in keys:
            if any(key in r for r in rows):
                ax.plot(epochs, [r.get(key, float("nan")) for r in rows], marker="o", label=key)
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    fig.tight_layout()
    _save(fig, path, dpi=100)


def plot_class_histogram(
    path: str | os.PathLike[str],
    generated: Sequence[float],
    real: Sequence[float],
    labels: Sequence[str],
) -> None:
    """Bar chart of the predicted-class fractions of generated and real images.

    Args:
        path: the PNG to write.
        generated: fraction of generated samples per class.
        real: fraction of real (test) samples per class.
        labels: the class names.

    Example:
        >>> plot_class_histogram("/tmp/classes.png", [0.6, 0.4], [0.5, 0.5], ["a", "b"])
    """
    plt = _pyplot()
    x = np.arange(len(generated))
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.bar(x - 0.2, real, width=0.4, label="real (test)", color="0.6")
    ax.bar(x + 0.2, generated, width=0.4, label="generated", color="C0")
    ax.set_xticks(x, labels, rotation=30, ha="right")
    ax.set_ylabel("fraction of samples")
    ax.set_title("predicted classes")
    ax.legend()
    fig.tight_layout()
    _save(fig, path, dpi=100)
