"""Benchmark: the onnxruntime ``Sampler`` against the TensorFlow SavedModel of the same generator.

One run builds the DCGAN generator (``dcgan_generator(latent_dim=100, image_shape=(28, 28, 1))``,
random weights and BatchNorm statistics: timing does not depend on training), exports it with
``keras_gan.export.export`` (SavedModel + ONNX with the ConvTranspose rewrite) plus a plain ONNX
file without the rewrite, then measures, each case in a fresh Python process:

* cold start: wall time from process start to 64 images in memory (``sample(64, seed=0)``);
* steady throughput at batch 1 and batch 256 (images/s, after two warm-up calls);
* peak resident memory of the process (``ru_maxrss``).

Cases: ``Sampler`` (this library; also with ``threads=1``), a bare onnxruntime session with the
numpy latent (what the sampler adds to a session), the plain ONNX file without the rewrite, and
the SavedModel's ``sample`` signature in TensorFlow. Ratios are printed side by side.

Example:
    $ .venv/bin/python benchmarks/sampler.py --seconds 3
    $ .venv/bin/python benchmarks/sampler.py --model-dir /tmp/dcgan-bench   # reuse an export
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUILD = """
import sys
import numpy as np
from keras_gan.export import export
from keras_gan.export.metadata import build_metadata
from keras_gan.export.onnx import build_onnx_models
from keras_gan.export.source import resolve
from keras_gan.networks import dcgan_generator

root = sys.argv[1]
generator = dcgan_generator(latent_dim=100, image_shape=(28, 28, 1))
rng = np.random.default_rng(0)
for variable in generator.weights:
    value = rng.normal(0.0, 0.05, variable.shape).astype("float32")
    if "variance" in variable.path:
        value = np.abs(value) + 0.5
    variable.assign(value)
export(generator, f"{root}/base", version=1)
source = resolve(generator)
plain, _ = build_onnx_models(source, build_metadata(source), rewrite_conv_transpose=False)
with open(f"{root}/plain.onnx", "wb") as handle:
    handle.write(plain.SerializeToString())
"""

# Each child prints one JSON line: {"ready": t, "rate": images/s or None, "rss_mib": ...}.
CHILD = r"""
import json, resource, sys, time
kind, root, batch, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
if kind in ("sampler", "sampler_1t"):
    from keras_gan.serving import Sampler
    sampler = Sampler(f"{root}/base", threads=1 if kind == "sampler_1t" else None)
    run = lambda n, seed: sampler.sample(n, seed=seed)
elif kind in ("bare", "plain"):
    import numpy as np
    import onnxruntime as ort
    from keras_gan.serving.latent import latent
    path = f"{root}/base/1/model.onnx" if kind == "bare" else f"{root}/plain.onnx"
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    def run(n, seed):
        images = session.run(None, {"z": latent(n, seed, 100)})[0]
        return np.rint((np.clip(images, -1, 1) + 1) * np.float32(127.5)).astype(np.uint8)
elif kind == "tensorflow":
    import tensorflow as tf
    sample = tf.saved_model.load(f"{root}/base/1").signatures["sample"]
    run = lambda n, seed: sample(
        n=tf.constant(n, tf.int32), seed=tf.constant(seed, tf.int64))["images"].numpy()
images = run(64 if batch == 0 else batch, 0)
ready = time.time()
rate = None
if batch:
    run(batch, 1)
    start, count = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        run(batch, count + 2)
        count += 1
    rate = count * batch / (time.perf_counter() - start)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"ready": ready, "rate": rate, "rss_mib": rss, "shape": list(images.shape)}))
"""


def child(kind: str, root: Path, batch: int, seconds: float) -> dict:
    """Run one case in a fresh interpreter; ``cold_s`` is process start -> 64 images."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(Path.cwd())}
    started = time.time()
    result = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(root), str(batch), str(seconds)],
        capture_output=True,
        text=True,
        env=env,
    )
    if result.returncode != 0:
        raise RuntimeError(f"case {kind} batch {batch} failed:\n{result.stderr[-3000:]}")
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    answer["cold_s"] = answer["ready"] - started
    return answer


def main() -> None:
    """Build (or reuse) the export, run every case, print the table and ratios.

    Example:
        >>> main()  # doctest: +SKIP
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", help="reuse/keep the export here (default: a temp dir)")
    parser.add_argument("--seconds", type=float, default=3.0, help="per throughput case")
    parser.add_argument("--repeats", type=int, default=2, help="runs per case (best counts)")
    args = parser.parse_args()
    root = Path(args.model_dir or tempfile.mkdtemp(prefix="keras-gan-bench-"))
    if not (root / "plain.onnx").is_file():
        print(f"building and exporting the DCGAN generator into {root} ...", flush=True)
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        subprocess.run([sys.executable, "-c", BUILD, str(root)], check=True, env=env)
    print(f"cpu cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}", flush=True)

    # The machine is shared: every case runs --repeats times, interleaved with the others, and
    # the best run counts (shortest cold start, highest throughput, smallest peak memory).
    cold: dict[str, dict] = {}
    rates: dict[tuple[str, int], dict] = {}
    cases = [(kind, 0) for kind in ("sampler", "bare", "tensorflow")]
    cases += [("sampler", 1), ("sampler_1t", 1), ("tensorflow", 1)]
    cases += [("sampler", 256), ("sampler_1t", 256), ("plain", 256)]
    cases += [("tensorflow", 256)]
    for _ in range(args.repeats):
        for kind, batch in cases:
            result = child(kind, root, batch, args.seconds)
            if batch == 0:
                best = cold.setdefault(kind, result)
                best["cold_s"] = min(best["cold_s"], result["cold_s"])
                best["rss_mib"] = min(best["rss_mib"], result["rss_mib"])
            else:
                best = rates.setdefault((kind, batch), result)
                best["rate"] = max(best["rate"], result["rate"])

    print("\ncold start (process start -> 64 images in memory) and peak memory")
    print(f"{'case':<28}{'cold start':>12}{'peak RSS':>12}")
    for kind, label in (
        ("sampler", "keras_gan Sampler (ORT)"),
        ("bare", "bare onnxruntime session"),
        ("tensorflow", "TF SavedModel sample"),
    ):
        print(f"{label:<28}{cold[kind]['cold_s']:>10.2f} s{cold[kind]['rss_mib']:>8.0f} MiB")
    print("\nsteady throughput (images/s)")
    print(f"{'case':<34}{'batch 1':>10}{'batch 256':>12}")
    for kind, label in (
        ("sampler", "Sampler (ConvTranspose rewritten)"),
        ("sampler_1t", "Sampler(threads=1)"),
        ("plain", "onnxruntime, plain tf2onnx graph"),
        ("tensorflow", "TF SavedModel sample"),
    ):
        cells = [rates.get((kind, b)) for b in (1, 256)]
        text = [f"{c['rate']:.1f}" if c else "-" for c in cells]
        print(f"{label:<34}{text[0]:>10}{text[1]:>12}")
    tf_cold, ort_cold = cold["tensorflow"], cold["sampler"]
    print(f"(best of {args.repeats} runs per case; load average now {os.getloadavg()[0]:.1f})")
    print("\nratios (Sampler vs TensorFlow; targets in brackets)")
    print(f"  cold start     {tf_cold['cold_s'] / ort_cold['cold_s']:6.1f}x faster   [>= 12x]")
    print(f"  peak memory    {ort_cold['rss_mib'] / tf_cold['rss_mib']:6.3f} of TF    [<= 1/6]")
    for batch, target in ((1, 3.0), (256, 1.0)):
        ratio = rates["sampler", batch]["rate"] / rates["tensorflow", batch]["rate"]
        print(f"  batch {batch:<4}     {ratio:6.2f}x          [>= {target}x]")
    for batch in (1, 256):
        ratio = rates["sampler_1t", batch]["rate"] / rates["tensorflow", batch]["rate"]
        print(f"  batch {batch:<4}     {ratio:6.2f}x          with Sampler(threads=1)")
    plain = rates["sampler", 256]["rate"] / rates["plain", 256]["rate"]
    print(f"  ConvTranspose rewrite at batch 256: {plain:.2f}x the plain graph's throughput")
    overhead = ort_cold["cold_s"] - cold["bare"]["cold_s"]
    print(
        f"  Sampler vs bare session: cold start {overhead:+.3f} s, "
        f"memory {ort_cold['rss_mib'] - cold['bare']['rss_mib']:+.0f} MiB"
    )


if __name__ == "__main__":
    main()
