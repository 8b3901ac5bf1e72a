"""Mode collapse on the 2-D mixtures (VEEGAN / PacGAN protocol), every variant side by side.

Each configuration trains on 100,000 points of the ``ring`` (8 modes, std 0.01) and ``grid`` (25
modes, std 0.05) mixtures for the same wall-clock budget, for several seeds; 2,500 samples are
then scored with :func:`keras_gan.metrics.mode_coverage`: modes captured, high-quality samples
(within 3 std of the nearest mean) and the reverse KL of the mode histogram. The grid is divided
by 2 sqrt 2 for training (as in the toy experiments of Gulrajani et al. 2017; it brings its
coordinates to about unit spread) and the samples are scaled back before scoring, for every
configuration alike. A table gives the mean and the spread (standard deviation) over seeds, and
a PNG per configuration shows the samples over the true means (rows: mixtures, columns: seeds).

The budget: ``--budget`` minutes for the whole benchmark are shared equally by its runs. Before
its first run each configuration is timed on a throw-away model (after tracing), and its runs get
as many generator steps as fit in their share at that rate (``--steps`` fixes the count
instead). A WGAN step (5 critic updates) costs more than a GAN step, so equal time means fewer
WGAN steps: the comparison is per CPU minute, which is what a user on this machine pays.

Configurations (all one ``GAN`` class, composed differently):

- ``points``: what a user gets from ``keras-gan train --dataset ring|grid --seed S`` with no
  other flag (the ``points`` preset and its recommended training), run as that command in a
  subprocess, so its time is the command's whole wall time (start-up, XLA compilation, training,
  scoring and the scatter plot included); its coverage is the one the command writes to
  ``run.json``. It is not budgeted: the preset fixes its steps.
- ``gan``, ``wgan``, ``wgan_gp``: the presets of :func:`keras_gan.models.build` for 2-D points
  (MLP pair with a linear generator output), with their papers' optimizers, unchanged
  (``dcgan`` is the same MLP pair and optimizer as ``gan`` for points, so it is left out),
  trained in this process for the budget; they show what the remedies of ``points`` buy.

Published anchors (10 trials each; VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018;
GDPP, Elfeki et al. 2019), printed beside our means: ring PacGAN2 7.9 modes / 95.6% high
quality, GAN 6.3 / 98.2%, VEEGAN 8 / 52.9%; grid PacGAN4 24.8 / 93.6%, ALI 24.1 / 95.7%, GDPP
24.8 / 68.5%, WGAN-GP 24.2 / 28.7%. Targets of ``points``, on every seed, each run at most 3
minutes of wall time on an idle 2-core machine: ring 8/8 modes, >= 98% high quality, reverse
KL <= 0.02; grid 25/25, >= 95%, reverse KL <= 0.05.

``--resume`` keeps the ``points`` runs whose ``run.json`` is already in ``--out`` (a long table
can be run in parts); every run's row is also written to ``--out``/``points/rows.jsonl``.

Example:
    $ python benchmarks/mode_collapse.py --configs points --seeds 5 --resume   # docs/variants.md
    $ python benchmarks/mode_collapse.py --budget 30 --seeds 3 --configs gan wgan wgan_gp
    $ python benchmarks/mode_collapse.py --steps 500 --kinds ring --configs gan  # fixed steps
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf

from keras_gan.data import mixture_centers, mixture_of_gaussians
from keras_gan.models import GAN, build
from keras_gan.plotting import scatter_panels

TRAIN_POINTS = 100_000
EVAL_SAMPLES = 2_500
KINDS = ("ring", "grid")
PRESET_NAMES = ("gan", "wgan", "wgan_gp")
TARGETS = {"ring": (8, 0.98, 0.02), "grid": (25, 0.95, 0.05)}
#: Wall-time target of one ``points`` run, seconds (idle 2-core machine).
TARGET_SECONDS = 180.0
#: Published (modes, high-quality fraction), means of 10 trials.
ANCHORS = {
    "ring": [("PacGAN2", 7.9, 0.956), ("GAN", 6.3, 0.982), ("VEEGAN", 8.0, 0.529)],
    "grid": [
        ("PacGAN4", 24.8, 0.936),
        ("ALI", 24.1, 0.957),
        ("GDPP", 24.8, 0.685),
        ("WGAN-GP", 24.2, 0.287),
    ],
}
#: Training coordinates are the mixture's divided by this (the grid by 2 sqrt 2, as in the toy
#: experiments of Gulrajani et al. 2017); samples are scaled back before they are scored.
TRAIN_SCALE = {"ring": 1.0, "grid": 2.0 * 2.0**0.5}


def build_config(name: str, seed: int, steps: int) -> GAN:
    """A preset for 2-D points, as its paper trains it.

    Example:
        >>> build_config("wgan", seed=0, steps=100).discriminator_steps  # doctest: +SKIP
        5
    """
    del steps  # constant learning rates
    return build(name, image_shape=(2,), seed=seed)


CONFIGS: dict[str, Callable[[int, int], GAN]] = {
    name: (lambda seed, steps, name=name: build_config(name, seed, steps)) for name in PRESET_NAMES
}
ALL_CONFIGS = ["points", *CONFIGS]


def run_cli(kind: str, seed: int, out: Path, resume: bool) -> dict[str, Any]:
    """``keras-gan train --dataset KIND --seed SEED --out OUT/points/KIND-SEED`` with no other
    flag, timed as a whole; the coverage from its ``run.json`` and the samples it scored.

    Example:
        >>> row = run_cli("ring", 0, Path("benchmarks/results"), resume=True)  # doctest: +SKIP
    """
    run_dir = out / "points" / f"{kind}-{seed}"
    rows_file = out / "points" / "rows.jsonl"
    previous = _previous_row(rows_file, kind, seed) if resume else None
    if previous is None or not (run_dir / "run.json").is_file():
        if run_dir.exists():
            raise SystemExit(
                f"{run_dir} exists without a finished run: remove it, or pass --resume to keep "
                "finished runs"
            )
        command = [
            *_keras_gan(), "train", "--dataset", kind, "--seed", str(seed), "--out", str(run_dir)
        ]  # fmt: skip
        load = os.getloadavg()[0]
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
        previous = {"kind": kind, "seed": seed, "seconds": seconds, "load_before": load}
        previous["load_after"] = os.getloadavg()[0]
        rows_file.parent.mkdir(parents=True, exist_ok=True)
        with rows_file.open("a") as handle:
            handle.write(json.dumps(previous) + "\n")
    info = json.loads((run_dir / "run.json").read_text())
    coverage = info["mode_coverage"]
    return {
        "config": "points",
        "kind": kind,
        "seed": seed,
        "seconds": previous["seconds"],
        "steps": info["steps"],
        "samples": _cli_samples(run_dir),
        **{key: float(coverage[key]) for key in ("modes", "high_quality", "reverse_kl")},
    }


def _keras_gan() -> list[str]:
    return [sys.executable, "-m", "keras_gan.cli"]


def _previous_row(rows_file: Path, kind: str, seed: int) -> dict[str, Any] | None:
    if not rows_file.is_file():
        return None
    rows = [json.loads(line) for line in rows_file.read_text().splitlines() if line.strip()]
    matches = [r for r in rows if r["kind"] == kind and r["seed"] == seed]
    return matches[-1] if matches else None


def _cli_samples(run_dir: Path) -> np.ndarray:
    """The 2,500 samples ``keras-gan train`` scored: ``GAN.generate(2500, seed=0)``, the latent
    recipe every sampler of the library shares."""
    from keras_gan.runs import load_generator

    return load_generator(run_dir).sample(EVAL_SAMPLES, seed=0)


def _coverage(samples: np.ndarray, kind: str) -> dict[str, float]:
    from keras_gan.metrics import mode_coverage

    centers, std = mixture_centers(kind)
    result = mode_coverage(samples, centers, std)
    values = dataclasses.asdict(result) if dataclasses.is_dataclass(result) else dict(result)
    return {key: float(values[key]) for key in ("modes", "high_quality", "reverse_kl")}


def _dataset(points: np.ndarray, step_batch: int, seed: int) -> tf.data.Dataset:
    return (
        tf.data.Dataset.from_tensor_slices(points)
        .repeat()
        .shuffle(TRAIN_POINTS, seed=seed)
        .batch(step_batch, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )


def steps_per_second(config: str, batch_size: int, probe: int = 100) -> float:
    """Generator steps per second of ``config`` on this machine now (a throw-away model, timed
    after a first fit that traces the step).

    Example:
        >>> steps_per_second("gan", batch_size=512) > 0  # doctest: +SKIP
        True
    """
    gan = CONFIGS[config](0, 10 * probe)
    points = mixture_of_gaussians("ring", 10_000, seed=0)
    dataset = _dataset(points, batch_size * gan.discriminator_steps, seed=0)
    gan.fit(dataset, steps_per_epoch=max(1, probe // 5), epochs=1, verbose=0)
    started = time.perf_counter()
    gan.fit(dataset, steps_per_epoch=probe, epochs=1, verbose=0)
    return probe / (time.perf_counter() - started)


def run_one(config: str, kind: str, seed: int, steps: int, batch_size: int) -> dict[str, Any]:
    """Train one configuration on one mixture with one seed; score 2,500 samples.

    Example:
        >>> row = run_one("gan", "ring", seed=0, steps=100, batch_size=256)  # doctest: +SKIP
    """
    keras.utils.set_random_seed(seed)
    gan = CONFIGS[config](seed, steps)
    points = mixture_of_gaussians(kind, TRAIN_POINTS, seed=seed) / TRAIN_SCALE[kind]
    dataset = _dataset(points, batch_size * gan.discriminator_steps, seed)
    started = time.perf_counter()
    gan.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0)
    seconds = time.perf_counter() - started
    samples = gan.generate(EVAL_SAMPLES, seed=10_000 + seed) * TRAIN_SCALE[kind]
    return {
        "config": config,
        "kind": kind,
        "seed": seed,
        "seconds": seconds,
        "steps": steps,
        "samples": samples,
        **_coverage(samples, kind),
    }


def _spread(values: list[float], fmt: str) -> str:
    """``mean ± std``; ``inf`` when a value is infinite (a reverse KL with no high-quality
    sample)."""
    if not all(np.isfinite(values)):
        return "inf"
    mean = statistics.fmean(values)
    std = statistics.pstdev(values) if len(values) > 1 else 0.0
    return f"{format(mean, fmt)} ± {format(std, fmt)}"


def format_table(rows: list[dict[str, Any]]) -> str:
    """One line per (configuration, mixture): mean ± std over seeds, and whether every seed
    met the target.

    Example:
        >>> print(format_table([]))  # doctest: +SKIP
    """
    header = (
        f"{'config':<9} {'data':<5} {'seeds':>5} {'modes':>13} {'high quality %':>15} "
        f"{'reverse KL':>15} {'target met':>11} {'steps':>6} {'s/run':>6}"
    )
    lines = [header, "-" * len(header)]
    keys = sorted({(r["config"], r["kind"]) for r in rows}, key=lambda k: (_order(k[0]), k[1]))
    for config, kind in keys:
        group = [r for r in rows if (r["config"], r["kind"]) == (config, kind)]
        met = sum(meets_target(r) for r in group)
        lines.append(
            f"{config:<9} {kind:<5} {len(group):>5} "
            f"{_spread([r['modes'] for r in group], '.1f'):>13} "
            f"{_spread([100 * r['high_quality'] for r in group], '.1f'):>15} "
            f"{_spread([r['reverse_kl'] for r in group], '.3f'):>15} "
            f"{f'{met}/{len(group)}':>11} "
            f"{statistics.fmean(r['steps'] for r in group):>6.0f} "
            f"{statistics.fmean(r['seconds'] for r in group):>6.0f}"
        )
    return "\n".join(lines)


def meets_target(row: dict[str, Any]) -> bool:
    """Modes, high quality and reverse KL all at their targets (time is reported apart).

    Example:
        >>> meets_target({"kind": "ring", "modes": 8, "high_quality": 0.99, "reverse_kl": 0.01})
        True
    """
    modes, quality, kl = TARGETS[row["kind"]]
    return row["modes"] >= modes and row["high_quality"] >= quality and row["reverse_kl"] <= kl


def format_seeds(rows: list[dict[str, Any]]) -> str:
    """One line per ``points`` run (seed), then our mean beside the published anchors.

    Example:
        >>> print(format_seeds([]))  # doctest: +SKIP
    """
    lines = [
        f"{'data':<5} {'seed':>4} {'modes':>6} {'high quality %':>15} {'reverse KL':>11} "
        f"{'steps':>6} {'wall s':>7} {'target met':>11}"
    ]
    points = sorted(
        (r for r in rows if r["config"] == "points"), key=lambda r: (r["kind"], r["seed"])
    )
    for r in points:
        lines.append(
            f"{r['kind']:<5} {r['seed']:>4} {r['modes']:>6.0f} {100 * r['high_quality']:>15.1f} "
            f"{r['reverse_kl']:>11.3f} {r['steps']:>6} {r['seconds']:>7.0f} "
            f"{'yes' if meets_target(r) and r['seconds'] <= TARGET_SECONDS else 'no':>11}"
        )
    for kind in sorted({r["kind"] for r in points}):
        group = [r for r in points if r["kind"] == kind]
        modes = statistics.fmean(r["modes"] for r in group)
        quality = statistics.fmean(r["high_quality"] for r in group)
        lines.append(
            f"{kind}: ours (points, {len(group)} seeds) {modes:.1f} modes / {100 * quality:.1f}%; "
            + "; ".join(f"{name} {m:g} / {100 * q:.1f}%" for name, m, q in ANCHORS[kind])
        )
    return "\n".join(lines)


def _order(config: str) -> int:
    names = ALL_CONFIGS
    return names.index(config) if config in names else len(names)


def write_plots(rows: list[dict[str, Any]], out: Path) -> list[Path]:
    """One PNG per configuration: rows are mixtures, columns seeds.

    Example:
        >>> write_plots(rows, Path("benchmarks/results"))  # doctest: +SKIP
    """
    paths = []
    for config in sorted({r["config"] for r in rows}, key=_order):
        group = sorted(
            (r for r in rows if r["config"] == config), key=lambda r: (r["kind"], r["seed"])
        )
        seeds = len({r["seed"] for r in group})
        panels = [
            (
                r["samples"],
                mixture_centers(r["kind"])[0],
                f"{config} {r['kind']} seed {r['seed']}: {r['modes']:.0f} modes, "
                f"{100 * r['high_quality']:.1f}% HQ",
            )
            for r in group
        ]
        path = out / f"mode_collapse_{config}.png"
        scatter_panels(panels, path, columns=seeds)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table.

    Example:
        >>> main(["--configs", "gan", "--kinds", "ring", "--seeds", "1"])  # doctest: +SKIP
        0
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=ALL_CONFIGS, choices=ALL_CONFIGS)
    parser.add_argument(
        "--resume", action="store_true", help="keep the points runs already finished in --out"
    )
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS))
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 per configuration")
    parser.add_argument(
        "--budget", type=float, default=30.0, help="minutes of training for the whole benchmark"
    )
    parser.add_argument(
        "--steps", type=int, default=None, help="generator steps per run (instead of --budget)"
    )
    parser.add_argument("--max-steps", type=int, default=20_000, help="cap on budgeted steps")
    parser.add_argument("--batch-size", type=int, default=512, help="samples per critic step")
    parser.add_argument("--threads", type=int, default=0, help="TF intra-op threads (0: auto)")
    parser.add_argument("--out", default="benchmarks/results", help="directory of the PNGs")
    args = parser.parse_args(argv)
    if args.budget <= 0:
        parser.error(f"--budget must be positive (minutes), got {args.budget}")
    for flag in ("seeds", "steps", "batch_size", "max_steps"):
        if getattr(args, flag) is not None and getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be positive, got {getattr(args, flag)}")
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    budgeted = [c for c in args.configs if c != "points"]
    runs = len(args.configs) * len(args.kinds) * args.seeds
    share = 60.0 * args.budget / max(1, len(budgeted) * len(args.kinds) * args.seeds)
    print(
        f"{len(args.configs)} configurations x {args.kinds} x {args.seeds} seed(s) = {runs} runs, "
        + (
            f"{args.steps} generator steps each"
            if args.steps
            else f"budget {args.budget:g} min = {share:.0f} s of training per run"
        )
        + f", batch {args.batch_size} per critic step, {TRAIN_POINTS:,} training points, "
        f"{EVAL_SAMPLES:,} samples scored; {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f}",
        flush=True,
    )
    started = time.perf_counter()
    rows = []
    if "points" in args.configs:
        for kind in args.kinds:
            for seed in range(args.seeds):
                row = run_cli(kind, seed, out, args.resume)
                rows.append(row)
                print(
                    f"  points   {kind:<5} seed {seed}: {row['modes']:.0f} modes, "
                    f"{100 * row['high_quality']:.1f}% high quality, reverse KL "
                    f"{row['reverse_kl']:.3f} ({row['seconds']:.0f} s, {row['steps']} steps)",
                    flush=True,
                )
    for config in budgeted:
        steps = args.steps
        if steps is None:
            rate = steps_per_second(config, args.batch_size)
            steps = int(min(args.max_steps, max(100, rate * share)))
            print(f"{config}: {rate:.1f} generator steps/s -> {steps} steps per run", flush=True)
        for kind in args.kinds:
            for seed in range(args.seeds):
                row = run_one(config, kind, seed, steps, args.batch_size)
                rows.append(row)
                print(
                    f"  {config:<8} {kind:<5} seed {seed}: {row['modes']:.0f} modes, "
                    f"{100 * row['high_quality']:.1f}% high quality, reverse KL "
                    f"{row['reverse_kl']:.3f} ({row['seconds']:.0f} s)",
                    flush=True,
                )
    total = time.perf_counter() - started
    for path in write_plots(rows, out):
        print(f"wrote {path}")
    print()
    print(format_table(rows))
    if "points" in args.configs:
        print()
        print(format_seeds(rows))
    print(f"total time {total / 60:.1f} min; load average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
