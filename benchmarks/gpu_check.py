"""GPU check: the default preset under ``MirroredStrategy`` on every GPU, in one table.

On a machine with GPUs it uses all of them; on a CPU-only machine it splits the CPU into
``--cpu-replicas`` logical devices (2) and runs the same, so CI exercises every line. In one run:

1. **Throughput** of ``fit`` of the default ``clustered`` preset (28x28x1, batch ``--batch-size``
   global) under each Keras dtype policy (``float32``, ``mixed_float16``, ``mixed_bfloat16``),
   without and with XLA (``jit_compile``), all replicas together: median images/s over
   ``--rounds`` rounds of ``--steps`` steps, each beside the float32 rate of the same run.
2. **Replicas equal one device:** ``--check-steps`` float32 steps with every replica against
   the same global batches on one device, same seeds; the largest weight difference, next to
   how far training moved the weights.
3. **Export** of the generator trained on all replicas: SavedModel + ONNX, verified
   (``keras_gan.export.export_and_verify``: the two runtimes agree on the same latents).

The images are seeded uniform noise with seeded cluster ids (the timing and the comparison do not
depend on pixel values), so the check needs no dataset. The table is printed and written as a
JSON record (command, commit, machine, versions, every figure) to ``--record``.

Example:
    $ python benchmarks/gpu_check.py                       # on a GPU machine: every GPU
    $ python benchmarks/gpu_check.py --steps 4 --rounds 2  # CPU: two logical devices, ~1 min
    $ python benchmarks/gpu_check.py --table benchmarks/results/gpu_check/cpu-....json
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
#: Replicas equal one device when the largest weight difference is at most this fraction of
#: how far the steps moved the weights (float32 sums in another order; Adam divides by the
#: root of a running mean of squared gradients, which enlarges tiny differences where that
#: mean is small).
RELATIVE_TOLERANCE = 1e-3
CLUSTERS = 20
IMAGE_SHAPE = (28, 28, 1)


def _devices(cpu_replicas: int) -> tuple[list[str], str]:
    """Every GPU, else ``cpu_replicas`` logical CPUs (configured before TensorFlow starts)."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        for gpu in gpus:
            tf.config.experimental.set_memory_growth(gpu, True)
        names = [d.name for d in tf.config.list_logical_devices("GPU")]
        details = tf.config.experimental.get_device_details(gpus[0])
        return names, f"{len(gpus)} x {details.get('device_name', 'GPU')}"
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * cpu_replicas
    )
    names = [d.name for d in tf.config.list_logical_devices("CPU")]
    return names, f"{cpu_replicas} logical CPU devices on {os.cpu_count()} cores"


def main() -> dict:
    """Run the check, print its table and write its record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=256, help="global batch (256)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps a round (20)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds a variant (3)")
    parser.add_argument("--check-steps", type=int, default=3, help="steps of the equality check")
    parser.add_argument("--cpu-replicas", type=int, default=2, help="logical CPUs without GPU")
    parser.add_argument("--precisions", nargs="+", choices=PRECISIONS, default=list(PRECISIONS))
    parser.add_argument("--no-xla", action="store_true", help="skip the XLA variants")
    parser.add_argument(
        "--record",
        help="JSON record to write (default: benchmarks/results/gpu_check/<gpu|cpu>-<time>.json)",
    )
    parser.add_argument(
        "--table", metavar="RECORD", help="print the table of a record and stop (for the docs)"
    )
    args = parser.parse_args()
    if args.table:
        import json

        print(format_table(json.loads(Path(args.table).read_text())))
        return {}
    started = time.time()
    devices, device_text = _devices(args.cpu_replicas)
    on_gpu = "GPU" in devices[0].upper()

    import keras
    from keras_gan.export import export_and_verify

    from benchmarks._machine import load_average, record_fields
    from keras_gan import distribute
    from keras_gan.models import build

    load_before = load_average()
    batch = args.batch_size
    if batch % len(devices):
        parser.error(f"--batch-size {batch} must divide among {len(devices)} replicas")
    rng = np.random.default_rng(0)
    count = batch * max(args.steps, args.check_steps)
    images = rng.uniform(-1, 1, (count, *IMAGE_SHAPE)).astype(np.float32)
    ids = rng.integers(0, CLUSTERS, count).astype(np.int32)
    prior = [1.0 / CLUSTERS] * CLUSTERS

    def dataset(repeat: bool) -> tf.data.Dataset:
        data = tf.data.Dataset.from_tensor_slices((images, ids)).batch(batch, drop_remainder=True)
        return (data.repeat() if repeat else data).prefetch(tf.data.AUTOTUNE)

    def make(strategy: tf.distribute.Strategy, precision: str, xla: bool) -> keras.Model:
        gan = distribute.build_in_scope(
            strategy,
            build,
            "clustered",
            image_shape=IMAGE_SHAPE,
            seed=0,
            cluster_prior=prior,
            precision=precision,
            jit_compile=xla,
        )
        distribute.synchronize_batch_norm(gan)
        return gan

    mirrored = distribute.get_strategy("mirrored", devices)
    replicas = mirrored.num_replicas_in_sync

    # 1. Throughput of every precision, without and with XLA.
    rows = []
    for precision in args.precisions:
        for xla in (False,) if args.no_xla else (False, True):
            keras.utils.set_random_seed(0)
            row = {"precision": precision, "xla": xla}
            try:
                gan = make(mirrored, precision, xla)
                data = mirrored.experimental_distribute_dataset(dataset(repeat=True))
                gan.fit(data, steps_per_epoch=2, epochs=1, verbose=0)  # trace and warm up
                seconds = []
                for _ in range(args.rounds):
                    begin = time.perf_counter()
                    history = gan.fit(data, steps_per_epoch=args.steps, epochs=1, verbose=0)
                    seconds.append(time.perf_counter() - begin)
                losses = [float(history.history[key][-1]) for key in ("d_loss", "g_loss")]
                row["images_per_s"] = batch * args.steps / statistics.median(seconds)
                row["finite"] = bool(np.all(np.isfinite(losses)))
            except Exception as error:  # a precision or XLA the device cannot run: say why
                row["error"] = _reason(error)
            rows.append(row)
    base = next(
        (r.get("images_per_s") for r in rows if r["precision"] == "float32" and not r["xla"]),
        None,
    )
    for row in rows:
        if base and "images_per_s" in row:
            row["vs_float32"] = row["images_per_s"] / base

    # 2. All replicas against one device: same seeds, same global batches.
    def train(strategy: tf.distribute.Strategy) -> tuple[list, list]:
        keras.utils.set_random_seed(0)
        gan = make(strategy, "float32", False)
        start = [w.numpy() for w in gan.weights]
        gan.fit(dataset(repeat=False).take(args.check_steps), epochs=1, verbose=0)
        return start, [w.numpy() for w in gan.weights]

    start_one, one = train(distribute.get_strategy("default", [devices[0]]))
    start_all, every = train(mirrored)
    equality = {
        "steps": args.check_steps,
        "start_difference": _largest_difference(start_one, start_all),
        "moved": _largest_difference(start_one, one),
        "max_weight_difference": _largest_difference(one, every),
    }
    equality["relative_tolerance"] = RELATIVE_TOLERANCE
    equality["equal"] = equality["max_weight_difference"] <= RELATIVE_TOLERANCE * equality["moved"]

    # 3. Export the generator trained on every replica, verified across runtimes.
    keras.utils.set_random_seed(0)
    gan = make(mirrored, "float32", False)
    gan.fit(dataset(repeat=False).take(2), epochs=1, verbose=0)
    with tempfile.TemporaryDirectory() as tmp:
        report = export_and_verify(gan, Path(tmp) / "export", ("saved_model", "onnx"))
        exported = {
            "formats": list(report.formats),
            "max_abs_difference": report.max_abs_difference,
            "sample_mismatches": report.sample_mismatches,
        }

    record = {
        **record_fields("gpu_check", vars(args), started, load_before),
        "device": device_text,
        "on_gpu": on_gpu,
        "replicas": replicas,
        "seeds": {"weights": 0, "data": 0},
        "throughput": rows,
        "replicas_vs_one_device": equality,
        "export": exported,
    }
    print(format_table(record))
    path = Path(args.record) if args.record else _default_record(on_gpu)
    path.parent.mkdir(parents=True, exist_ok=True)
    from keras_gan._atomic import write_json

    write_json(path, record)
    print(f"wrote {path}")
    return record


def format_table(record: dict) -> str:
    """The check's table (Markdown) with the lines under it.

    Example:
        >>> print(format_table({"device": "d", "replicas": 2, "cpu": "c", "throughput": [],
        ...     "load_average_before": "0.0, 0.0, 0.0", "arguments": {"batch_size": 8},
        ...     "replicas_vs_one_device": {"steps": 1, "max_weight_difference": 0.0, "moved": 1.0,
        ...         "equal": True, "relative_tolerance": 1e-3},
        ...     "export": {"max_abs_difference": 0.0, "sample_mismatches": 0}}).splitlines()[2])
        | precision | XLA | images/s | vs float32 |
    """
    lines = [
        f"{record['device']}, {record['replicas']} replicas, global batch "
        f"{record['arguments']['batch_size']}; CPU {record['cpu']}; load before "
        f"{record['load_average_before']}",
        "",
        "| precision | XLA | images/s | vs float32 |",
        "|---|---|---|---|",
    ]
    for row in record["throughput"]:
        xla = "yes" if row["xla"] else "no"
        if "images_per_s" in row:
            ratio = f"{row['vs_float32']:.2f}" if "vs_float32" in row else "-"
            flag = "" if row.get("finite", True) else " (non-finite loss)"
            lines.append(
                f"| {row['precision']} | {xla} | {row['images_per_s']:,.0f}{flag} | {ratio} |"
            )
        else:
            lines.append(f"| {row['precision']} | {xla} | failed: {row['error']} | - |")
    equality = record["replicas_vs_one_device"]
    exported = record["export"]
    lines += [
        "",
        f"{record['replicas']} replicas vs one device, {equality['steps']} float32 steps: "
        f"largest weight difference {equality['max_weight_difference']:.2e}, training moved "
        f"the weights by up to {equality['moved']:.2e}: "
        + ("equal" if equality["equal"] else "NOT equal")
        + f" within {equality['relative_tolerance']:g} of the move",
        f"export: SavedModel vs ONNX max abs difference {exported['max_abs_difference']:.2e}, "
        f"uint8 sample pixels differing {exported['sample_mismatches']}",
    ]
    return "\n".join(lines)


def _reason(error: Exception) -> str:
    """The informative line of a TensorFlow error (not its traceback of graph nodes)."""
    skip = ("File ", "Detected at node", "Graph execution error", "[[", "Cf.")
    lines = [line.strip() for line in str(error).splitlines()]
    useful = [line for line in lines if line and not line.startswith(skip)]
    text = re.sub(r" \(defined @ [^)]*\)", "", (useful or [""])[-1])
    text = text.replace("/job:localhost/replica:0/task:0/device:", "")
    return f"{type(error).__name__}: {text[:160]}"


def _largest_difference(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b, strict=True))


def _default_record(on_gpu: bool) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    kind = "gpu" if on_gpu else "cpu"
    return ROOT / "benchmarks" / "results" / "gpu_check" / f"{kind}-{stamp}.json"


if __name__ == "__main__":
    main()
