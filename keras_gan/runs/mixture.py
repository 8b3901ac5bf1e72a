"""The Gaussian mixture's run: fit on flattened images, write a run directory.

The run directory holds ``mixture.npz`` (the saved model, see ``GaussianMixture.save``),
``samples.png`` (an 8x8 grid of samples), ``means.png`` (the component means), ``run.json`` and
the manifest ``keras-gan-run.json``. The directory rules are those of every run
(:mod:`keras_gan.runs.directory`): a directory that is not a keras-gan run is refused, a previous
run is replaced (its own files only) with ``overwrite`` and only after the fit succeeded.

Example:
    >>> run = train_mixture("fashion_mnist", "runs/gmm", limit=2000, seed=0)  # doctest: +SKIP
    >>> run.info["converged"]  # doctest: +SKIP
    True
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from keras_gan._checks import check_positive_int
from keras_gan.mixture.defaults import TRAIN_DEFAULTS

from . import directory
from .directory import RunError, TrainedRun

OUTPUTS = ("mixture.npz", "samples.png", "means.png", "run.json")


def train_mixture(
    dataset: str | None = None,
    out: str | os.PathLike[str] | None = None,
    *,
    components: int | None = None,
    covariance: str | None = None,
    max_iter: int | None = None,
    limit: int | None = None,
    seed: int | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    verbose: int = 1,
) -> TrainedRun:
    """Fit :class:`~keras_gan.mixture.GaussianMixture` on a dataset's train images and write
    the run directory.

    Images are scaled from uint8 to [0, 1] and flattened.

    Args:
        dataset: a name or a directory of IDX files (default ``fashion_mnist``).
        out: the run directory (default ``runs/gmm``).
        components: mixture components (default ``TRAIN_DEFAULTS["n_components"]``, 10).
        covariance: ``full``, ``diag``, ``spherical`` or ``tied`` (default
            ``TRAIN_DEFAULTS["covariance_type"]``, diag).
        max_iter: EM iterations at most (default ``TRAIN_DEFAULTS["max_iter"]``, 100).
        limit: fit on the first ``limit`` images.
        seed: the fit's ``random_state`` and the sample grid's seed.
        data_dir: a directory to look for the dataset first.
        overwrite: replace the keras-gan run in ``out`` (its own files only).
        verbose: 0 is silent, 1 prints a summary line, 2 and up also the EM progress.

    Returns:
        A :class:`~keras_gan.runs.directory.TrainedRun` holding the fitted mixture.

    Raises:
        RunError: a bad setting or ``out``, or the fit failed.
        keras_gan.data.DatasetError: the dataset cannot be read.

    Example:
        >>> run = train_mixture("fashion_mnist", "/tmp/gmm", limit=1000)  # doctest: +SKIP
    """
    from keras_gan.data import load_arrays
    from keras_gan.mixture import GaussianMixture
    from keras_gan.serving.images import save_grid

    dataset = dataset or "fashion_mnist"
    components = int(components or TRAIN_DEFAULTS["n_components"])
    covariance = covariance or TRAIN_DEFAULTS["covariance_type"]
    max_iter = int(max_iter or TRAIN_DEFAULTS["max_iter"])
    out = Path(out or Path("runs") / "gmm")
    state = directory.inspect_run(out)
    directory.check_reuse(state, resume=False, overwrite=overwrite)
    images, _ = load_arrays(dataset, split="train", data_dir=data_dir)
    limit = check_positive_int(limit, "limit", allow_none=True)
    if limit is not None:
        images = images[:limit]
    image_shape = tuple(int(s) for s in images.shape[1:])
    x = images.reshape(images.shape[0], -1).astype(np.float64) / 255.0
    gmm = GaussianMixture(
        n_components=components,
        covariance_type=covariance,
        max_iter=max_iter,
        random_state=seed,
        verbose=max(0, int(verbose) - 1),
    )
    start = time.perf_counter()
    try:
        gmm.fit(x)
    except ValueError as error:
        raise RunError(f"fitting the mixture failed: {error}") from None
    seconds = time.perf_counter() - start
    gmm.image_shape_ = image_shape
    gmm.data_range_ = (0.0, 1.0)
    settings = {"model": "gmm", "dataset": dataset, "limit": limit, "seed": seed}
    settings.update(components=components, covariance=covariance, max_iter=max_iter)
    directory.claim(out, files=OUTPUTS, settings=settings, replace=state if overwrite else None)
    gmm.save(out / directory.MIXTURE)
    samples, _ = gmm.sample(64, seed=0 if seed is None else seed)
    rng = np.random.default_rng(0 if seed is None else seed)
    samples = samples[rng.permutation(len(samples))]
    save_grid(_to_images(samples, image_shape), out / "samples.png", columns=8)
    save_grid(_to_images(gmm.means_, image_shape), out / "means.png")
    info = {
        "model": "gmm",
        "dataset": dataset,
        "components": components,
        "covariance": covariance,
        "n_samples": int(x.shape[0]),
        "n_iter": int(gmm.n_iter_),
        "converged": bool(gmm.converged_),
        "avg_log_likelihood": float(gmm.score(x)),
        "lower_bound": float(gmm.lower_bound_),
        "latent_dim": int(gmm.latent_dim),
        "image_shape": list(image_shape),
        "seed": seed,
        "fit_seconds": round(seconds, 3),
    }
    directory.write_run_info(out, info)
    directory.finish(out)
    if verbose:
        print(
            f"gmm: {components} {covariance} components on {x.shape[0]} images, "
            f"{gmm.n_iter_} iterations, average log-likelihood {info['avg_log_likelihood']:.2f}"
        )
    return TrainedRun(out, gmm, info)


def _to_images(rows: np.ndarray, image_shape: tuple[int, ...]) -> np.ndarray:
    """Rows in [0, 1] to images in [-1, 1], shape ``(n, *image_shape)``."""
    images = np.clip(np.asarray(rows, np.float64), 0.0, 1.0) * 2.0 - 1.0
    return images.reshape((-1, *image_shape)).astype(np.float32)
