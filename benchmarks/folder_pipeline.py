"""Is the input pipeline the bottleneck? Training from a folder of PNG files against the same
images from the IDX files in memory, side by side in one run.

Fashion-MNIST's training split is written as a folder of 60,000 PNG files (class sub-folders,
``keras_gan.data.folders.write_folder``) in a temporary folder. Its first load decodes them (the
rate is printed, images/s) into the cache; then ``keras_gan.runs.train`` trains ``--model`` for one
epoch from the folder (cache warm) and from ``fashion_mnist`` (IDX, in memory), alternating,
``--rounds`` times each, and compares steps/s of the fitting itself (``run.json``
``train_seconds``). The table and a JSON record go to ``benchmarks/results/folder_pipeline/``.

Example:
    $ python benchmarks/folder_pipeline.py --rounds 3
    $ python benchmarks/folder_pipeline.py --table benchmarks/results/folder_pipeline/....json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def format_table(record: dict) -> str:
    """The record's table (Markdown) with the lines around it.

    Example:
        >>> print(format_table({"cpu": "c", "load_average_before": "0", "images": 1,
        ...     "model": "m", "first_decode_images_per_s": 1.0, "cached_load_seconds": 0.1,
        ...     "steps_per_s": {"folder": [1.0], "memory": [1.0]}, "ratio": 1.0,
        ...     "batch_size": 8, "steps": 1}).splitlines()[2])
        | data | steps/s (median) | each round |
    """
    rates = record["steps_per_s"]

    def row(name: str, label: str) -> str:
        each = ", ".join(f"{r:.2f}" for r in rates[name])
        return f"| {label} | {statistics.median(rates[name]):.2f} | {each} |"

    return "\n".join(
        [
            f"`{record['model']}`, one epoch of {record['steps']} steps at batch "
            f"{record['batch_size']}, {record['images']:,} images; CPU {record['cpu']}; load "
            f"before {record['load_average_before']}",
            "",
            "| data | steps/s (median) | each round |",
            "|---|---|---|",
            row("folder", "folder of PNG files (cache warm)"),
            row("memory", "IDX files in memory"),
            "",
            f"folder / memory: **{record['ratio']:.3f}**; first decode "
            f"{record['first_decode_images_per_s']:,.0f} images/s; a warm start reads the cache "
            f"in {record['cached_load_seconds']:.2f} s",
        ]
    )


def main() -> None:
    """Write the folder, decode it, train from both sources, print and record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resize_conv", help="preset (resize_conv)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3, help="epochs from each source (3)")
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
    from keras_gan.data.classes import CLASS_NAMES
    from keras_gan.data.folders import load_folder, write_folder

    started, load_before = time.time(), load_average()
    with tempfile.TemporaryDirectory(prefix="keras-gan-folder-bench-") as tmp:
        os.environ["KERAS_GAN_CACHE"] = str(Path(tmp) / "cache")
        images, labels = load_arrays("fashion_mnist", "train")
        names = [n.lower().replace("/", "-") for n in CLASS_NAMES["fashion_mnist"]]
        folder_path = write_folder(Path(tmp) / "png", images, labels, names)
        first = load_folder(folder_path)
        decode_rate = len(first.images) / first.seconds
        warm = load_folder(folder_path)
        assert not warm.decoded
        rates: dict[str, list[float]] = {"folder": [], "memory": []}
        steps = 0
        for round_index in range(args.rounds):
            for name, dataset in (("folder", str(folder_path)), ("memory", "fashion_mnist")):
                out = Path(tmp) / f"run-{name}-{round_index}"
                run = runs.train(
                    args.model,
                    dataset,
                    out=out,
                    epochs=1,
                    batch_size=args.batch_size,
                    seed=0,
                    verbose=0,
                )
                steps = run.info["steps"]
                rates[name].append(steps / run.info["train_seconds"])
                print(f"{name}: {rates[name][-1]:.2f} steps/s", flush=True)
    record = {
        **record_fields("folder_pipeline", vars(args), started, load_before),
        "seeds": {"training": 0},
        "model": args.model,
        "batch_size": args.batch_size,
        "steps": steps,
        "images": len(images),
        "first_decode_images_per_s": decode_rate,
        "cached_load_seconds": warm.seconds,
        "steps_per_s": rates,
        "ratio": statistics.median(rates["folder"]) / statistics.median(rates["memory"]),
    }
    print(format_table(record))
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    default = ROOT / "benchmarks" / "results" / "folder_pipeline" / f"{stamp}.json"
    path = Path(args.record or default)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, record)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
