"""The EMA generator against the raw one, from ONE training run: what the average buys.

A run trained with ``--ema-decay`` keeps both generators (``model.keras`` holds the raw
``generator`` and the ``ema_generator``); the average never feeds back into training, so
scoring both at the same step is a controlled comparison at no extra training cost. Both are
scored by :func:`keras_gan.evaluation.evaluate` with the same classifier, reference, sample
count and latent seed, and the table prints them side by side with the floor.

Example:
    $ keras-gan train --model resize_conv --ema-decay 0.999 --epochs 19 --seed 0 --out runs/ema
    $ python benchmarks/ema_ablation.py runs/ema --num-samples 10000
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from _machine import cpu_description, load_average


def main(argv: list[str] | None = None) -> int:
    """Score the raw and the EMA generator of a run directory and print the table.

    Example:
        >>> main(["runs/ema", "--num-samples", "2000"])  # doctest: +SKIP
        0
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="a run directory trained with --ema-decay")
    parser.add_argument("--num-samples", type=int, default=10_000)
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="report directory (default RUN/ema_ablation)")
    args = parser.parse_args(argv)

    from keras_gan.evaluation import Reference, evaluate, format_table, load_classifier
    from keras_gan.runs.loading import LoadedGenerator, load_keras

    run = Path(args.run)
    gan = load_keras(run / "model.keras")
    if getattr(gan, "ema_generator", None) is None:
        print(f"{run}/model.keras has no EMA generator: train with --ema-decay", file=sys.stderr)
        return 2
    classifier = load_classifier(args.dataset, verbose=2)
    reference = Reference.build(classifier, args.dataset, args.num_samples, seed=args.seed)
    out = Path(args.out) if args.out else run / "ema_ablation"
    columns, reports = {}, {}
    for name, network in (("raw", gan.generator), ("ema", gan.ema_generator)):
        loaded = LoadedGenerator(
            lambda z, g=network: np.asarray(g(z, training=False)), gan.latent_dim, "keras", name
        )
        report = evaluate(
            loaded,
            args.dataset,
            args.num_samples,
            out / name,
            classifier=classifier,
            reference=reference,
            seed=args.seed,
            floor=name == "raw",
        )
        reports[name] = report
        columns[f"{name} generator"] = report["metrics"]
    columns["floor (real train vs test)"] = reports["raw"]["floor"]
    info = json.loads((run / "run.json").read_text())
    print(
        f"{run}: {info['model']}, {info['steps']} generator steps, EMA decay {info['ema_decay']}, "
        f"{args.num_samples} samples; {cpu_description()}, load average {load_average()}"
    )
    print(format_table(columns))
    fid = {name: report["metrics"]["fid"] for name, report in reports.items()}
    print(f"FID ratio ema / raw: {fid['ema'] / fid['raw']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
