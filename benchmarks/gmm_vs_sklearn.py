"""Seconds per EM iteration: keras_gan.mixture.GaussianMixture against scikit-learn's, side by side.

Two cases on the Fashion-MNIST train images (60,000 x 784, scaled to [0, 1]):

* ``diag``: K=10 diagonal covariances on the 784 pixels;
* ``full``: K=10 full covariances on a 50-dimensional PCA projection.

Both implementations start from the same initial parameters (``weights_init``, ``means_init``,
``precisions_init``, taken from our k-means initialisation) and run the same number of EM
iterations (``tol=0`` so neither stops early). Each is fitted once to warm up (TensorFlow traces
its functions; BLAS warms its threads). A fit costs a fixed setup plus its iterations: ours
validates, centres and copies the data; scikit-learn computes initial responsibilities even when
every initial parameter is given (it then overrides the result; ``init_params=
"random_from_data"`` keeps that cheap, where the default would run a full k-means). The seconds
per EM iteration are therefore measured as ``(T(N) - T(1)) / (N - 1)`` from fits of N and of 1
iteration, which cancels the setup of each side; the setup is printed apart. The fits of the two
implementations are timed alternately ``--repeats`` times and the fastest of each kind kept, so
a load that comes and goes on a shared machine touches both sides alike. Printed per case:
seconds per iteration of each, the ratio, the final average log-likelihood of each with their
relative difference, and each side's setup; then the load average.

Example:
    $ python benchmarks/gmm_vs_sklearn.py                      # both cases, 20 iterations
    $ python benchmarks/gmm_vs_sklearn.py --case diag --iterations 5 --limit 10000
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from collections.abc import Callable
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np


def load_fashion_mnist(limit: int | None) -> np.ndarray:
    """Fashion-MNIST train images as float64 rows ``(n, 784)`` in [0, 1].

    Example:
        >>> load_fashion_mnist(100).shape  # doctest: +SKIP
        (100, 784)
    """
    from keras_gan.data import load_arrays

    images, _ = load_arrays("fashion_mnist", split="train")
    if limit:
        images = images[:limit]
    return images.reshape(images.shape[0], -1).astype(np.float64) / 255.0


def pca(x: np.ndarray, components: int) -> np.ndarray:
    """Project centred rows on their top ``components`` principal axes (SVD of a subsample).

    Example:
        >>> pca(np.random.default_rng(0).normal(size=(100, 5)), 2).shape
        (100, 2)
    """
    centred = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(centred[:: max(1, len(x) // 20000)], full_matrices=False)
    return centred @ vt[:components].T


def timed_fit(make: Callable[[int], Any], x: np.ndarray, iterations: int) -> tuple[float, Any]:
    """Seconds of one fit of ``make(iterations)`` on ``x``, and the fitted model.

    Example:
        >>> x = np.random.default_rng(0).normal(size=(200, 2))
        >>> from keras_gan.mixture import GaussianMixture
        >>> seconds, model = timed_fit(lambda n: GaussianMixture(2, max_iter=n, tol=0), x, 5)
        >>> model.n_iter_
        5
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make(iterations)
        start = time.perf_counter()
        model.fit(x)
        seconds = time.perf_counter() - start
    if model.n_iter_ != iterations:
        raise RuntimeError(f"expected {iterations} EM iterations, the fit ran {model.n_iter_}")
    return seconds, model


def warm_up(make: Callable[[int], Any], x: np.ndarray) -> None:
    """One single-iteration fit: TensorFlow traces its functions, BLAS starts its threads.

    Example:
        >>> warm_up(lambda n: GaussianMixture(2, max_iter=n), x)  # doctest: +SKIP
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        make(1).fit(x)


def run_case(
    name: str, x: np.ndarray, kind: str, k: int, iterations: int, dtype: str, repeats: int
) -> dict[str, Any]:
    """Fit both from the same initial parameters; time them alternately, keep each one's best.

    Example:
        >>> x = np.random.default_rng(0).uniform(size=(500, 8))
        >>> row = run_case("diag", x, "diag", 3, iterations=5, dtype="float64", repeats=1)
        >>> row["rel_diff"] < 1e-6
        True
    """
    from sklearn.mixture import GaussianMixture as SkGaussianMixture

    from keras_gan.mixture import GaussianMixture

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = GaussianMixture(k, kind, max_iter=0, random_state=0).fit(x)
    init = {
        "weights_init": start.weights_,
        "means_init": start.means_,
        "precisions_init": start.precisions_,
    }
    common = {"covariance_type": kind, "tol": 0.0, **init}

    def ours(n: int) -> GaussianMixture:
        return GaussianMixture(k, max_iter=n, dtype=dtype, **common)

    def theirs(n: int) -> SkGaussianMixture:
        return SkGaussianMixture(
            k, max_iter=n, init_params="random_from_data", random_state=0, **common
        )

    warm_up(ours, x)
    warm_up(theirs, x)
    best = {key: np.inf for key in ("ours_1", "ours_n", "sk_1", "sk_n")}
    for _ in range(repeats):
        for key, make, n in (
            ("ours_n", ours, iterations),
            ("sk_n", theirs, iterations),
            ("ours_1", ours, 1),
            ("sk_1", theirs, 1),
        ):
            seconds, model = timed_fit(make, x, n)
            best[key] = min(best[key], seconds)
            if key == "ours_n":
                ours_model = model
            elif key == "sk_n":
                sk_model = model
    ours_s = (best["ours_n"] - best["ours_1"]) / (iterations - 1)
    sk_s = (best["sk_n"] - best["sk_1"]) / (iterations - 1)
    ours_ll, sk_ll = ours_model.score(x), sk_model.score(x)
    return {
        "case": name,
        "ours_s": ours_s,
        "sklearn_s": sk_s,
        "ratio": sk_s / ours_s,
        "ours_setup": best["ours_1"] - ours_s,
        "sklearn_setup": best["sk_1"] - sk_s,
        "ours_ll": ours_ll,
        "sklearn_ll": sk_ll,
        "rel_diff": abs(ours_ll - sk_ll) / abs(sk_ll),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the cases and print the table.

    Example:
        >>> main(["--case", "diag", "--iterations", "2", "--limit", "2000"])  # doctest: +SKIP
        0
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20, help="EM iterations per fit")
    parser.add_argument("--limit", type=int, default=None, help="use the first N images only")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--case", choices=["diag", "full", "both"], default="both")
    parser.add_argument("--repeats", type=int, default=2, help="timed fits of each, best kept")
    args = parser.parse_args(argv)
    if args.iterations < 2:
        parser.error(f"--iterations must be at least 2, got {args.iterations}")
    if args.repeats < 1:
        parser.error(f"--repeats must be positive, got {args.repeats}")
    if args.limit is not None and args.limit < 10:
        parser.error(f"--limit must be at least 10 (K=10 components), got {args.limit}")

    import sklearn
    import tensorflow as tf

    x = load_fashion_mnist(args.limit)
    cases = []
    if args.case in ("diag", "both"):
        cases.append(("diag K=10, 784-d", x, "diag"))
    if args.case in ("full", "both"):
        cases.append(("full K=10, PCA-50", pca(x, 50), "full"))
    print(
        f"Fashion-MNIST train {x.shape[0]} x {x.shape[1]}, {args.iterations} EM iterations, "
        f"dtype {args.dtype}; TensorFlow {tf.__version__}, scikit-learn {sklearn.__version__}, "
        f"{os.cpu_count()} CPUs, devices: "
        f"{', '.join(d.device_type for d in tf.config.list_physical_devices())}"
    )
    header = (
        f"{'case':<20} {'ours s/iter':>12} {'sklearn s/iter':>15} {'speed-up':>9} "
        f"{'ours avg LL':>14} {'sklearn avg LL':>15} {'rel diff':>9} {'setup s (ours/sk)':>18}"
    )
    print(header)
    print("-" * len(header))
    for name, data, kind in cases:
        r = run_case(name, data, kind, 10, args.iterations, args.dtype, args.repeats)
        print(
            f"{r['case']:<20} {r['ours_s']:>12.4f} {r['sklearn_s']:>15.4f} {r['ratio']:>8.1f}x "
            f"{r['ours_ll']:>14.6f} {r['sklearn_ll']:>15.6f} {r['rel_diff']:>9.1e} "
            f"{r['ours_setup']:>8.2f} / {r['sklearn_setup']:<7.2f}",
            flush=True,
        )
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"load average (1, 5, 15 min) at the end: {load} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
