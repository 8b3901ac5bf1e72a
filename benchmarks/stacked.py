"""Stacked Fashion-MNIST through the folder path: modes hit of 1000 and KL, beside the floor.

``keras-gan data stacked`` writes 60,000 stacked images (three training images as the R, G and
B channels; 1000 modes) as a folder of PNG files; each ``--models`` preset trains on that folder
with the command line's defaults (``keras_gan.runs.train``: 5 epochs of batch 128, unless
``--epochs``), and ``keras_gan.evaluation.stacked.evaluate_stacked`` counts the modes of 26,000
samples with the project's classifier on each channel, beside the same count on real stacked
images of the test split (the floor). The table and a JSON record (command, commit, CPU, load,
versions, seeds, every figure) go to ``benchmarks/results/stacked/``.

Published stacked-MNIST figures for comparison (Lin et al. 2018, PacGAN, table 3; the same
count on MNIST digits): DCGAN 99 modes / KL 3.40, ALI 16.0 / 5.40, Unrolled GAN 48.7 / 4.32,
VEEGAN 150 / 2.95, PacDCGAN2 1000 / 0.06.

Example:
    $ python benchmarks/stacked.py --models clustered resize_conv dcgan
    $ python benchmarks/stacked.py --table benchmarks/results/stacked/....json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def format_table(record: dict) -> str:
    """The record's table (Markdown) with the lines around it.

    Example:
        >>> print(format_table({"cpu": "c", "load_average_before": "0", "rows": [],
        ...     "num_samples": 1, "floor": {"modes": 1, "kl": 0.0}}).splitlines()[2])
        | preset | epochs | steps | training minutes | modes (of 1000) | KL |
    """
    floor = record["floor"]
    lines = [
        f"{record['num_samples']:,} samples per row; CPU {record['cpu']}; load before "
        f"{record['load_average_before']}",
        "",
        "| preset | epochs | steps | training minutes | modes (of 1000) | KL |",
        "|---|---|---|---|---|---|",
    ]
    for row in record["rows"]:
        lines.append(
            f"| `{row['model']}` | {row['epochs']} | {row['steps']:,} "
            f"| {row['train_seconds'] / 60:.1f} | {row['modes']} | {row['kl']:.3f} |"
        )
    lines.append(
        f"| real stacked test images (floor) | - | - | - | {floor['modes']} | {floor['kl']:.3f} |"
    )
    return "\n".join(lines)


def main() -> None:
    """Write the stacked folder, train each preset, count modes, print and record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["clustered"], help="presets")
    parser.add_argument("--epochs", type=int, help="epochs (default: the command line's, 5)")
    parser.add_argument("--num-samples", type=int, default=26_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", default="runs/stacked", help="folder and runs (runs/stacked)")
    parser.add_argument("--record", help="JSON record path (default: under benchmarks/results)")
    parser.add_argument("--table", metavar="RECORD", help="print a record's table and stop")
    args = parser.parse_args()
    if args.table:
        print(format_table(json.loads(Path(args.table).read_text())))
        return

    from benchmarks._machine import load_average, record_fields
    from keras_gan import runs
    from keras_gan._atomic import write_json
    from keras_gan.data import load_arrays
    from keras_gan.data.folders import stacked, write_folder
    from keras_gan.evaluation.classifier import load_classifier
    from keras_gan.evaluation.stacked import evaluate_stacked
    from keras_gan.runs.loading import load_generator

    started, load_before = time.time(), load_average()
    work = Path(args.work)
    folder = work / "stacked-fashion-mnist"
    if not folder.exists():
        images, labels = load_arrays("fashion_mnist", "train")
        pictures, modes = stacked(images, labels, 60_000, seed=args.seed)
        names = [f"{i:06d}_{m:03d}" for i, m in enumerate(modes.tolist())]
        write_folder(folder, pictures, names=names)
    classifier = load_classifier("fashion_mnist")
    rows, floor = [], None
    for model in args.models:
        run = runs.train(
            model,
            str(folder),
            out=work / model,
            epochs=args.epochs,
            seed=args.seed,
            overwrite=True,
            verbose=2,
        )
        report = evaluate_stacked(
            load_generator(work / model),
            classifier,
            num_samples=args.num_samples,
            seed=args.seed,
            floor=floor is None,
        )
        floor = floor or report["floor"]
        rows.append(
            {
                "model": model,
                "epochs": run.info["epochs"],
                "steps": run.info["steps"],
                "train_seconds": run.info["train_seconds"],
                **report["generated"],
            }
        )
        print(f"{model}: {rows[-1]['modes']} modes, KL {rows[-1]['kl']:.3f}", flush=True)
    record = {
        **record_fields("stacked", vars(args), started, load_before),
        "seeds": {"stacking": args.seed, "training": args.seed, "latent": args.seed},
        "classifier": {
            "key": classifier.info.get("key"),
            "weights": classifier.identity,
            "accuracy": classifier.accuracy,
        },
        "num_samples": args.num_samples,
        "rows": rows,
        "floor": floor,
    }
    print(format_table(record))
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    default = ROOT / "benchmarks" / "results" / "stacked" / f"{stamp}.json"
    path = Path(args.record or default)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, record)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
