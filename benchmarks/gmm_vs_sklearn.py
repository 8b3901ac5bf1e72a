"""Whole fits and seconds per EM iteration: keras_gan.mixture.GaussianMixture against
scikit-learn's, side by side.

Two cases on the Fashion-MNIST train images (60,000 x 784, scaled to [0, 1]):

* ``diag``: K=10 diagonal covariances on the 784 pixels;
* ``full``: K=10 full covariances on a 50-dimensional PCA projection.

Both implementations start from the same initial parameters (``weights_init``, ``means_init``,
``precisions_init``, from our k-means initialisation on ``--init-sample-size`` samples), so they
run the same EM iterations. Ours runs in float64 and in float32 (``--dtype``); scikit-learn
runs in float64 on the float64 data (its default), and that one scikit-learn fit is the
baseline of both rows. Timed, per case and dtype:

* ``first fit``: one fit of ``--iterations`` iterations (``tol=0``) in a fresh Python process
  per side, after the imports and the data loading (the imports are printed apart);
* ``warm fit``: the same fit in this process after a one-iteration warm-up fit (TensorFlow has
  traced its functions; BLAS has started its threads);
* ``converged fit``: a warm fit with the default ``tol=1e-3`` and ``max_iter=100``;
* ``per iteration``: ``(T(N) - T(1)) / (N - 1)`` from warm fits of N and of 1 iteration, which
  cancels each side's fixed setup; the setup ``T(1) - per iteration`` is printed as a share of
  the warm N-iteration fit.

scikit-learn computes initial responsibilities even when every initial parameter is given (it
then overrides them); ``init_params="random_from_data"`` keeps that cheap, where its default
would run a full k-means. Warm fits of the two sides are timed alternately ``--repeats`` times
and the fastest of each kind kept, so a load that comes and goes touches both alike. The CPU
(model and AVX-512 flags) and the load average are printed: on a shared machine the ratios,
measured side by side, are what count.

Example:
    $ python benchmarks/gmm_vs_sklearn.py --repeats 1          # the whole table
    $ python benchmarks/gmm_vs_sklearn.py --case diag --dtype float32 --limit 10000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from _machine import cpu_description, load_average

#: Targets from the project's issue tracker: the minimum ratio scikit-learn time / ours.
TARGETS = {
    ("diag", "float64", "converged fit"): 3.0,
    ("diag", "float32", "converged fit"): 5.0,
    ("full", "float64", "converged fit"): 2.0,
    ("full", "float32", "converged fit"): 3.0,
    ("diag", "float64", "warm fit"): 2.0,
    ("full", "float64", "warm fit"): 2.0,
    ("diag", "float64", "first fit"): 1.0,
    ("diag", "float32", "first fit"): 1.0,
    ("full", "float64", "first fit"): 1.0,
    ("full", "float32", "first fit"): 1.0,
}


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


def make_fit(
    side: str, kind: str, init: dict[str, np.ndarray], dtype: str
) -> Callable[[int, float], Any]:
    """``make(max_iter, tol)`` building our estimator or scikit-learn's from ``init``.

    Example:
        >>> x = np.random.default_rng(0).normal(size=(50, 2))
        >>> init = {"weights_init": np.array([0.5, 0.5]), "means_init": x[:2],
        ...         "precisions_init": np.ones((2, 2))}
        >>> make_fit("ours", "diag", init, "float32")(100, 1e-3).fit(x).converged_
        True
    """
    k = len(init["weights_init"])
    if side == "ours":
        from keras_gan.mixture import GaussianMixture

        def ours(n: int, tol: float) -> Any:
            return GaussianMixture(k, kind, max_iter=n, tol=tol, dtype=dtype, **init)

        return ours
    from sklearn.mixture import GaussianMixture as SkGaussianMixture

    def theirs(n: int, tol: float) -> Any:
        return SkGaussianMixture(
            k,
            covariance_type=kind,
            max_iter=n,
            tol=tol,
            init_params="random_from_data",
            random_state=0,
            **init,
        )

    return theirs


def timed_fit(
    make: Callable[[int, float], Any], x: np.ndarray, iterations: int, tol: float = 0.0
) -> tuple[float, Any]:
    """Seconds of one fit of ``make(iterations, tol)`` on ``x``, and the fitted model.

    With ``tol=0`` the fit must run exactly ``iterations`` iterations.

    Example:
        >>> x = np.random.default_rng(0).normal(size=(200, 2))
        >>> from keras_gan.mixture import GaussianMixture
        >>> seconds, model = timed_fit(lambda n, t: GaussianMixture(2, max_iter=n, tol=t), x, 5)
        >>> model.n_iter_
        5
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make(iterations, tol)
        start = time.perf_counter()
        model.fit(x)
        seconds = time.perf_counter() - start
    if tol == 0 and model.n_iter_ != iterations:
        raise RuntimeError(f"expected {iterations} EM iterations, the fit ran {model.n_iter_}")
    return seconds, model


def first_fit(side: str, case_file: Path, dtype: str, iterations: int) -> dict[str, float]:
    """Time one fit in a fresh Python process (this script with ``--child``).

    Example:
        >>> first_fit("sklearn", Path("case.npz"), "float64", 10)  # doctest: +SKIP
        {'import_s': 0.9, 'fit_s': 3.4, 'lower_bound': 1406.4}
    """
    command = [sys.executable, __file__, "--child", side, str(case_file), dtype, str(iterations)]
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"the {side} first-fit process failed:\n{out.stderr[-2000:]}")
    return json.loads(lines[-1])


def child(side: str, case_file: str, dtype: str, iterations: int) -> int:
    """Body of the fresh process: import, load the case, time one fit, print JSON.

    Example:
        >>> child("ours", "case.npz", "float64", 10)  # doctest: +SKIP
        0
    """
    start = time.perf_counter()
    if side == "ours":
        import keras_gan.mixture  # noqa: F401  (TensorFlow and the package, as a user imports)
    else:
        import sklearn.mixture  # noqa: F401
    import_s = time.perf_counter() - start
    with np.load(case_file) as case:
        x = case["x"]
        kind = str(case["kind"])
        init = {name: case[name] for name in ("weights_init", "means_init", "precisions_init")}
    seconds, model = timed_fit(make_fit(side, kind, init, dtype), x, iterations)
    result = {"import_s": import_s, "fit_s": seconds, "lower_bound": float(model.lower_bound_)}
    print(json.dumps(result), flush=True)
    return 0


def run_case(
    kind: str,
    x: np.ndarray,
    init: dict[str, np.ndarray],
    dtypes: list[str],
    iterations: int,
    repeats: int,
    case_file: Path | None,
) -> list[dict[str, Any]]:
    """Time every fit of one case for each of our dtypes against scikit-learn (float64).

    ``case_file`` (an ``.npz`` of ``x``, ``kind`` and the initial values) enables the
    fresh-process first fits; without it they are skipped.

    Example:
        >>> x = np.random.default_rng(0).uniform(size=(500, 8))
        >>> init = {"weights_init": np.full(3, 1 / 3), "means_init": x[:3],
        ...         "precisions_init": np.full((3, 8), 12.0)}
        >>> rows = run_case("diag", x, init, ["float64"], 5, 1, None)
        >>> [row["fit"] for row in rows]
        ['warm fit', 'converged fit', 'per iteration']
    """
    sides = {"sklearn": make_fit("sklearn", kind, init, "float64")}
    for dtype in dtypes:
        sides[dtype] = make_fit("ours", kind, init, dtype)
    for make in sides.values():  # warm-up: traces, thread pools, first-touch allocations
        timed_fit(make, x, 1)
    best: dict[tuple[str, str], float] = {}
    models: dict[tuple[str, str], Any] = {}
    for _ in range(repeats):
        for fit, n, tol in (("warm", iterations, 0.0), ("one", 1, 0.0), ("converged", 100, 1e-3)):
            for side, make in sides.items():
                seconds, model = timed_fit(make, x, n, tol)
                key = (side, fit)
                if seconds < best.get(key, np.inf):
                    best[key], models[key] = seconds, model
    firsts = {}
    if case_file is not None:
        for side in sides:
            name, dtype = ("sklearn", "float64") if side == "sklearn" else ("ours", side)
            firsts[side] = first_fit(name, case_file, dtype, iterations)

    def per_iteration(side: str) -> float:
        return (best[(side, "warm")] - best[(side, "one")]) / (iterations - 1)

    sk_ll = models[("sklearn", "converged")].lower_bound_
    rows = []
    for dtype in dtypes:
        ours_ll = models[(dtype, "converged")].lower_bound_
        reference_ll = models[(dtypes[0], "converged")].lower_bound_
        common = {"case": kind, "dtype": dtype}
        if dtype in firsts:
            rows.append(
                {
                    **common,
                    "fit": "first fit",
                    "ours": firsts[dtype]["fit_s"],
                    "sklearn": firsts["sklearn"]["fit_s"],
                    "detail": (
                        f"{iterations} iterations; imports ours {firsts[dtype]['import_s']:.1f}"
                        f" s, sklearn {firsts['sklearn']['import_s']:.1f} s"
                    ),
                }
            )
        setup = best[(dtype, "one")] - per_iteration(dtype)
        sk_setup = best[("sklearn", "one")] - per_iteration("sklearn")
        rows.append(
            {
                **common,
                "fit": "warm fit",
                "ours": best[(dtype, "warm")],
                "sklearn": best[("sklearn", "warm")],
                "detail": (
                    f"{iterations} iterations; setup {setup:.2f} s"
                    f" ({100 * setup / best[(dtype, 'warm')]:.0f}% of the fit),"
                    f" sklearn {sk_setup:.2f} s"
                ),
            }
        )
        n_ours = models[(dtype, "converged")].n_iter_
        n_sk = models[("sklearn", "converged")].n_iter_
        rows.append(
            {
                **common,
                "fit": "converged fit",
                "ours": best[(dtype, "converged")],
                "sklearn": best[("sklearn", "converged")],
                "detail": (
                    f"{n_ours} / {n_sk} iterations; avg LL {ours_ll:.6f} / {sk_ll:.6f}, rel diff"
                    f" {abs(ours_ll - sk_ll) / abs(sk_ll):.1e}"
                    + (
                        f", vs our float64 {abs(ours_ll - reference_ll) / abs(reference_ll):.1e}"
                        if dtype != dtypes[0]
                        else ""
                    )
                ),
            }
        )
        rows.append(
            {
                **common,
                "fit": "per iteration",
                "ours": per_iteration(dtype),
                "sklearn": per_iteration("sklearn"),
                "detail": f"(T({iterations}) - T(1)) / {iterations - 1}",
            }
        )
    for row in rows:
        row["ratio"] = row["sklearn"] / row["ours"]
        row["target"] = TARGETS.get((kind, row["dtype"], row["fit"]))
    return rows


def format_row(row: dict[str, Any]) -> str:
    """One table line.

    Example:
        >>> format_row({"case": "diag", "dtype": "float64", "fit": "warm fit", "ours": 1.0,
        ...     "sklearn": 3.0, "ratio": 3.0, "target": 2.0, "detail": ""})[:40]
        'diag  float64 warm fit            1.000 '
    """
    target = row["target"]
    if target is None:
        verdict = ""
    else:
        verdict = f">= {target:g}x {'met' if row['ratio'] >= target else 'NOT met'}"
    return (
        f"{row['case']:<5} {row['dtype']:<7} {row['fit']:<15} {row['ours']:>9.3f} "
        f"{row['sklearn']:>9.3f} {row['ratio']:>7.2f}x {verdict:<14} {row['detail']}"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the cases and print the table.

    Example:
        >>> main(["--case", "diag", "--iterations", "2", "--limit", "2000"])  # doctest: +SKIP
        0
    """
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child(argv[1], argv[2], argv[3], int(argv[4]))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=10, help="EM iterations per fit")
    parser.add_argument("--limit", type=int, default=None, help="use the first N images only")
    parser.add_argument("--dtype", choices=["float64", "float32", "both"], default="both")
    parser.add_argument("--case", choices=["diag", "full", "both"], default="both")
    parser.add_argument("--repeats", type=int, default=2, help="timed fits of each, best kept")
    parser.add_argument(
        "--init-sample-size", type=int, default=5000, help="k-means sample for the start"
    )
    parser.add_argument(
        "--no-first-fit", action="store_true", help="skip the fresh-process first fits"
    )
    args = parser.parse_args(argv)
    if args.iterations < 2:
        parser.error(f"--iterations must be at least 2, got {args.iterations}")
    if args.repeats < 1:
        parser.error(f"--repeats must be positive, got {args.repeats}")
    if args.limit is not None and args.limit < 10:
        parser.error(f"--limit must be at least 10 (K=10 components), got {args.limit}")

    import sklearn
    import tensorflow as tf

    from keras_gan.mixture import GaussianMixture

    dtypes = ["float64", "float32"] if args.dtype == "both" else [args.dtype]
    x = load_fashion_mnist(args.limit)
    cases = []
    if args.case in ("diag", "both"):
        cases.append(("diag", x))
    if args.case in ("full", "both"):
        cases.append(("full", pca(x, 50)))
    print(
        f"Fashion-MNIST train {x.shape[0]} x {x.shape[1]}; TensorFlow {tf.__version__}, "
        f"scikit-learn {sklearn.__version__}; {cpu_description()}; devices: "
        f"{', '.join(d.device_type for d in tf.config.list_physical_devices())}\n"
        f"load average (1, 5, 15 min) at the start: {load_average()}\n"
        "K=10; same start for both sides; scikit-learn in float64 for every row"
    )
    header = (
        f"{'case':<5} {'dtype':<7} {'fit':<15} {'ours s':>9} {'sklearn s':>9} {'ratio':>8} "
        f"{'target':<14} detail"
    )
    print(header)
    print("-" * len(header), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for kind, data in cases:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                start = GaussianMixture(
                    10, kind, max_iter=0, random_state=0, init_sample_size=args.init_sample_size
                ).fit(data)
            init = {
                "weights_init": start.weights_,
                "means_init": start.means_,
                "precisions_init": start.precisions_,
            }
            case_file = None
            if not args.no_first_fit:
                case_file = Path(tmp) / f"{kind}.npz"
                np.savez(case_file, x=data, kind=np.array(kind), **init)
            rows = run_case(kind, data, init, dtypes, args.iterations, args.repeats, case_file)
            for row in rows:
                print(format_row(row), flush=True)
    print(f"load average (1, 5, 15 min) at the end: {load_average()} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
