"""``keras-gan train --model gmm``: fit a Gaussian mixture on flattened images, write a run dir.

The run directory holds ``mixture.npz`` (the saved model, see ``GaussianMixture.save``),
``samples.png`` (an 8x8 grid of samples), ``means.png`` (the component means), ``run.json`` and
the manifest ``keras-gan-run.json``. The directory rules are those of ``keras-gan train``
(:mod:`keras_gan.rundir`): a directory that is not a keras-gan run is refused, a previous run
is replaced (its own files only) with ``overwrite`` and only after the fit succeeded.

Example:
    >>> import argparse
    >>> args = argparse.Namespace(dataset="fashion_mnist", limit=2000, components=10,
    ...     covariance="diag", out="runs/gmm", seed=0)
    >>> run_train(args)  # doctest: +SKIP
    0
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from keras_gan import _atomic, rundir

OUTPUTS = ("mixture.npz", "samples.png", "means.png", "run.json")


def _command_error(message: str) -> Exception:
    try:
        from keras_gan.cli import CommandError
    except ImportError:  # pragma: no cover - the CLI package is part of every install
        return ValueError(message)
    return CommandError(message)


def run_train(args: argparse.Namespace) -> int:
    """Fit ``GaussianMixture`` on a dataset's train images and write the run directory.

    Reads from ``args``: ``dataset`` (name or IDX directory, default ``fashion_mnist``),
    ``data_dir``, ``limit`` (first N images), ``seed``, ``out`` (default ``runs/gmm``),
    ``components`` (default 10), ``covariance`` (default ``diag``), ``max_iter`` (default 100)
    and ``verbose``. Images are scaled from uint8 to [0, 1] and flattened.

    Returns:
        0 on success.

    Raises:
        keras_gan.cli.CommandError: the dataset cannot be loaded or the fit fails.

    Example:
        >>> run_train(argparse.Namespace(dataset="fashion_mnist", limit=1000, out="/tmp/g"))
        ... # doctest: +SKIP
        0
    """
    from keras_gan.data import DatasetError, load_arrays
    from keras_gan.serving.images import save_grid

    from .gaussian import GaussianMixture

    dataset = getattr(args, "dataset", None) or "fashion_mnist"
    components = int(getattr(args, "components", None) or 10)
    covariance = getattr(args, "covariance", None) or "diag"
    max_iter = int(getattr(args, "max_iter", None) or 100)
    seed = getattr(args, "seed", None)
    limit = getattr(args, "limit", None)
    out = Path(getattr(args, "out", None) or Path("runs") / "gmm")
    overwrite = bool(getattr(args, "overwrite", False))
    try:
        run_state = rundir.inspect_run(out)
        rundir.check_reuse(run_state, resume=False, overwrite=overwrite)
    except rundir.RunDirError as error:
        raise _command_error(str(error)) from None
    try:
        images, _ = load_arrays(dataset, split="train", data_dir=getattr(args, "data_dir", None))
    except DatasetError as error:
        raise _command_error(str(error)) from None
    if limit is not None:
        if int(limit) < 1:
            raise _command_error(f"--limit must be >= 1, got {limit}")
        images = images[: int(limit)]
    image_shape = tuple(int(s) for s in images.shape[1:])
    x = images.reshape(images.shape[0], -1).astype(np.float64) / 255.0
    gmm = GaussianMixture(
        n_components=components,
        covariance_type=covariance,
        max_iter=max_iter,
        random_state=seed,
        verbose=int(getattr(args, "verbose", 0) or 0),
    )
    start = time.perf_counter()
    try:
        gmm.fit(x)
    except ValueError as error:
        raise _command_error(f"fitting the mixture failed: {error}") from None
    seconds = time.perf_counter() - start
    gmm.image_shape_ = image_shape
    gmm.data_range_ = (0.0, 1.0)
    settings = {"model": "gmm", "dataset": dataset, "limit": limit, "seed": seed}
    settings.update(components=components, covariance=covariance, max_iter=max_iter)
    rundir.claim(out, files=OUTPUTS, settings=settings, replace=run_state if overwrite else None)
    gmm.save(out / "mixture.npz")
    samples, _ = gmm.sample(64, seed=0 if seed is None else seed)
    rng = np.random.default_rng(0 if seed is None else seed)
    samples = samples[rng.permutation(len(samples))]
    save_grid(_to_images(samples, image_shape), out / "samples.png", columns=8)
    save_grid(_to_images(gmm.means_, image_shape), out / "means.png")
    run = {
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
    _atomic.write_json(out / "run.json", run, sort_keys=False)
    rundir.finish(out)
    print(
        f"gmm: {components} {covariance} components on {x.shape[0]} images, "
        f"{gmm.n_iter_} iterations, average log-likelihood {run['avg_log_likelihood']:.2f}; "
        f"wrote {out}"
    )
    return 0


def _to_images(rows: np.ndarray, image_shape: tuple[int, ...]) -> np.ndarray:
    """Rows in [0, 1] to images in [-1, 1], shape ``(n, *image_shape)``."""
    images = np.clip(np.asarray(rows, np.float64), 0.0, 1.0) * 2.0 - 1.0
    return images.reshape((-1, *image_shape)).astype(np.float32)
