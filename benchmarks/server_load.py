"""Benchmark: `keras-gan serve` under load (10,000 requests at concurrency 32 on 127.0.0.1).

Starts the real server (``keras-gan serve``: waitress + onnxruntime) as a subprocess on a free
port, then 32 client threads, each with its own keep-alive HTTP connection, send ``:predict``
requests of the ``sample`` signature (``n`` images for a varying seed) until 10,000 have been
answered. Prints requests/s, p50/p99/max latency and the number of failed requests (non-200
or wrong payload), which must be zero.

Example:
    $ .venv/bin/python benchmarks/server_load.py --model-base-path runs/demo/export
    $ .venv/bin/python benchmarks/server_load.py --requests 2000 --n 4   # any export; a tiny
                                                                        # one is built if none
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

BUILD = """
import sys
import numpy as np
from keras_gan.export import export
from keras_gan.networks import dcgan_generator
generator = dcgan_generator(latent_dim=100, image_shape=(28, 28, 1))
rng = np.random.default_rng(0)
for variable in generator.weights:
    value = rng.normal(0.0, 0.05, variable.shape).astype("float32")
    if "variance" in variable.path:
        value = np.abs(value) + 0.5
    variable.assign(value)
export(generator, sys.argv[1], formats=("onnx",), version=1)
"""


def main() -> None:
    """Start the server, run the load, print the figures.

    Example:
        >>> main()  # doctest: +SKIP
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-base-path", help="an export base path (default: build a DCGAN)")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--n", type=int, default=1, help="images per request (sample signature)")
    parser.add_argument("--threads", type=int, default=8, help="server worker threads")
    args = parser.parse_args()

    base = args.model_base_path
    if base is None:
        base = str(Path(tempfile.mkdtemp(prefix="keras-gan-load-")) / "dcgan")
        print(f"exporting a DCGAN generator to {base} ...", flush=True)
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        subprocess.run([sys.executable, "-c", BUILD, base], check=True, env=env)

    command = [sys.executable, "-m", "keras_gan.cli", "serve", "--model-base-path", base]
    server = subprocess.Popen(
        [*command, "--model-name", "g", "--port", "0", "--threads", str(args.threads)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = ""
        while not line.startswith("listening on"):
            line = server.stdout.readline()
            if not line:
                raise RuntimeError("the server exited before listening")
        port = int(line.split()[2].rsplit(":", 1)[1])
        run_load(port, args)
    finally:
        server.terminate()
        server.wait(10)


def run_load(port: int, args: argparse.Namespace) -> None:
    """Send ``args.requests`` requests from ``args.concurrency`` threads; print the figures."""
    counter = iter(range(args.requests))
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[str] = []

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        local: list[float] = []
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                break
            body = json.dumps({"signature_name": "sample", "inputs": {"n": args.n, "seed": index}})
            start = time.perf_counter()
            try:
                connection.request("POST", "/v1/models/g:predict", body)
                response = connection.getresponse()
                payload = response.read()
                local.append(time.perf_counter() - start)
                if response.status != 200 or len(json.loads(payload)["outputs"]) != args.n:
                    failures.append(f"{response.status}: {payload[:200]!r}")
            except Exception as error:  # count and go on with a new connection
                failures.append(repr(error))
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.close()
        with lock:
            latencies.extend(local)

    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    milliseconds = np.asarray(latencies) * 1000
    print(
        f"{args.requests} requests (sample, n={args.n}) at concurrency {args.concurrency}, "
        f"{args.threads} server threads, {os.cpu_count()} cores"
    )
    print(f"  failed requests: {len(failures)}")
    for failure in failures[:5]:
        print(f"    {failure}")
    print(f"  throughput: {args.requests / elapsed:.1f} requests/s ({elapsed:.1f} s)")
    print(
        f"  latency: p50 {np.percentile(milliseconds, 50):.1f} ms, "
        f"p99 {np.percentile(milliseconds, 99):.1f} ms, max {milliseconds.max():.1f} ms"
    )
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
