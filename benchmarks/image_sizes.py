"""Every image preset at every size: parameters, multiply-adds and training steps/s, one table.

For each preset and each side N (28, 32, 64, 128) at ``--channels`` (3), the preset is built for
``(N, N, C)`` and ``fit`` runs on seeded uniform-noise images (the timing does not depend on pixel
values): ``--rounds`` calls of ``--steps`` + 1 steps after one warm-up call, each timed from the
end of its first step to the end of its last (a call's setup is not charged); the median steps/s
is printed beside the 28-pixel rate of the same preset in the same run. The networks add a 2x
stage per doubling of the side (``keras_gan.networks.common.upsampling_stages``). The table and
a JSON record (command, commit, CPU, load, versions, every figure) go to
``benchmarks/results/image_sizes/``.

Example:
    $ python benchmarks/image_sizes.py --steps 5 --rounds 3
    $ python benchmarks/image_sizes.py --table benchmarks/results/image_sizes/....json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PRESETS = ("clustered", "resize_conv", "dcgan", "cgan", "acgan", "wgan", "wgan_gp")
SIDES = (28, 32, 64, 128)


def format_table(record: dict) -> str:
    """The record's table (Markdown) with the line above it.

    Example:
        >>> print(format_table({"cpu": "c", "load_average_before": "0", "channels": 3,
        ...     "batch_size": 8, "rows": []}).splitlines()[2])
        | preset | side | 2x stages | generator params | discriminator params | G + D multiply-adds per image | steps/s | vs 28 |
    """  # noqa: E501
    lines = [
        f"{record['channels']} channels, batch {record['batch_size']}; CPU {record['cpu']}; "
        f"load before {record['load_average_before']}",
        "",
        "| preset | side | 2x stages | generator params | discriminator params "
        "| G + D multiply-adds per image | steps/s | vs 28 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in record["rows"]:
        lines.append(
            f"| `{row['preset']}` | {row['side']} | {row['stages']} "
            f"| {row['generator_params']:,} | {row['discriminator_params']:,} "
            f"| {row['generator_macs'] / 1e6:.1f}M + {row['discriminator_macs'] / 1e6:.1f}M "
            f"| {row['steps_per_s']:.2f} | {row['vs_28']:.2f} |"
        )
    return "\n".join(lines)


class _StepClock:
    """Times the steps of one ``fit`` call between the ends of its first and last batch, so the
    call's setup is not charged to its steps (a Keras callback, built on first use)."""

    def __new__(cls):
        import keras

        class Clock(keras.callbacks.Callback):
            def __init__(self) -> None:
                super().__init__()
                self.ends: list[float] = []

            def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
                self.ends.append(time.perf_counter())

        return Clock()


def main() -> None:
    """Measure, print and record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=list(PRESETS), choices=PRESETS)
    parser.add_argument("--sides", nargs="+", type=int, default=list(SIDES))
    parser.add_argument("--channels", type=int, default=3, choices=(1, 3))
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=5, help="steps a timed call (5)")
    parser.add_argument("--rounds", type=int, default=3, help="timed calls (3)")
    parser.add_argument("--record", help="JSON record path (default: under benchmarks/results)")
    parser.add_argument("--table", metavar="RECORD", help="print a record's table and stop")
    args = parser.parse_args()
    if args.table:
        print(format_table(json.loads(Path(args.table).read_text())))
        return

    import keras
    import numpy as np
    import tensorflow as tf

    from benchmarks._machine import load_average, record_fields
    from benchmarks.train_throughput import forward_macs
    from keras_gan._atomic import write_json
    from keras_gan.models import PRESETS as PRESET_DATA
    from keras_gan.models import build
    from keras_gan.networks.common import upsampling_stages

    started, load_before = time.time(), load_average()
    rows = []
    for name in args.presets:
        preset = PRESET_DATA[name]
        for side in args.sides:
            shape = (side, side, args.channels)
            keras.utils.set_random_seed(0)
            extra = {}
            labelled = preset.conditional is not None or preset.clusters is not None
            if preset.clusters is not None:
                extra["cluster_prior"] = [1.0 / preset.clusters] * preset.clusters
            gan = build(name, image_shape=shape, seed=0, **extra)
            batch = args.batch_size * gan.discriminator_steps
            rng = np.random.default_rng(0)
            images = rng.uniform(-1, 1, (batch * 2, *shape)).astype(np.float32)
            classes = preset.clusters or 10
            labels = rng.integers(0, classes, len(images)).astype(np.int32)
            data = tf.data.Dataset.from_tensor_slices((images, labels) if labelled else images)
            data = data.batch(batch, drop_remainder=True).repeat().prefetch(2)
            gan.fit(data, steps_per_epoch=2, epochs=1, verbose=0)
            seconds = []
            for _ in range(args.rounds):
                clock = _StepClock()
                gan.fit(
                    data, steps_per_epoch=args.steps + 1, epochs=1, verbose=0, callbacks=[clock]
                )
                seconds.append(clock.ends[-1] - clock.ends[0])
            rows.append(
                {
                    "preset": name,
                    "side": side,
                    "stages": upsampling_stages(side, side),
                    "generator_params": int(gan.generator.count_params()),
                    "discriminator_params": int(gan.discriminator.count_params()),
                    "generator_macs": forward_macs(gan.generator),
                    "discriminator_macs": forward_macs(gan.discriminator),
                    "steps_per_s": args.steps / statistics.median(seconds),
                    "seconds": seconds,
                }
            )
            print(f"{name} {side}: {rows[-1]['steps_per_s']:.2f} steps/s", flush=True)
    for row in rows:
        base = next((r for r in rows if r["preset"] == row["preset"] and r["side"] == 28), None)
        row["vs_28"] = row["steps_per_s"] / base["steps_per_s"] if base else float("nan")
    record = {
        **record_fields("image_sizes", vars(args), started, load_before),
        "seeds": {"weights": 0, "data": 0},
        "channels": args.channels,
        "batch_size": args.batch_size,
        "rows": rows,
    }
    print(format_table(record))
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = Path(args.record or ROOT / "benchmarks" / "results" / "image_sizes" / f"{stamp}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, record)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
