"""Benchmark: `keras-gan serve` under load (10,000 requests at concurrency 32 on 127.0.0.1),
and its peak memory under 8 concurrent clients sending the largest and the most hostile
requests.

Starts the real server (``keras-gan serve``: waitress + onnxruntime, default limits) as a
subprocess on a free port.

1. Throughput: 32 client threads, each with its own keep-alive HTTP connection, send
   ``:predict`` requests of the ``sample`` signature (``n`` images for a varying seed) until
   10,000 have been answered. Prints requests/s, p50/p99/max latency.
2. Memory: 8 client threads send, in turn, the largest allowed requests (``sample`` with
   ``n = 1024``, a 1,024-row ``serving_default`` predict) and hostile ones (a 16 MiB body of
   ``[],[],...``, a 16 MiB string, a 5,000-digit integer), each expecting its documented
   answer. The server's peak resident memory (``VmHWM``, Linux) is read before and after;
   its growth must stay within 8 times ``REQUEST_MEMORY_MIB``, the documented per-request
   bound.

Failed requests (a wrong status or payload) must be zero in both phases.

Example:
    $ .venv/bin/python benchmarks/server_load.py --model-base-path runs/demo/export
    $ .venv/bin/python benchmarks/server_load.py --requests 2000 --memory-requests 40
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
from typing import Any

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


def run_clients(worker: Any, clients: int) -> float:
    """Run ``worker`` in ``clients`` threads at once; the seconds until the last one ends.

    Example:
        >>> run_clients(lambda: None, 2) >= 0
        True
    """
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


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
    parser.add_argument("--memory-clients", type=int, default=8)
    parser.add_argument("--memory-requests", type=int, default=80, help="requests of phase 2")
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
        failed = run_load(port, args)
        failed += run_memory(port, server.pid, args)
    finally:
        server.terminate()
        server.wait(10)
    if failed:
        sys.exit(1)


def run_load(port: int, args: argparse.Namespace) -> int:
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

    elapsed = run_clients(worker, args.concurrency)
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
    return len(failures)


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory (``VmHWM``) in MiB; Linux only."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def memory_requests(latent_dim: int) -> list[tuple[str, bytes, int]]:
    """(name, body, expected status): the largest allowed and hostile requests."""
    from keras_gan.serving.latent import latent

    body_limit = 16 * 2**20
    fill = (body_limit - 40) // 3
    sample = {"signature_name": "sample", "inputs": {"n": 1024, "seed": 1}}
    digits = b'{"signature_name": "sample", "inputs": {"n": ' + b"7" * 5000 + b', "seed": 1}}'
    return [
        ("sample n=1024", json.dumps(sample).encode(), 200),
        (
            "predict 1024 rows",
            json.dumps({"instances": latent(1024, 0, latent_dim).tolist()}).encode(),
            200,
        ),
        ("16 MiB of [],[],...", b'{"instances": [' + b"[]," * fill + b"[]]}", 413),
        ("16 MiB string", b'{"signature_name": "' + b"a" * (body_limit - 40) + b'"}', 400),
        ("5000-digit n", digits, 400),
    ]


def run_memory(port: int, pid: int, args: argparse.Namespace) -> int:
    """Phase 2: the server's peak memory under the largest and hostile requests."""
    from keras_gan.serving.server import REQUEST_MEMORY_MIB

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    connection.request("GET", "/v1/models/g/metadata")
    metadata = json.loads(connection.getresponse().read())
    connection.close()
    signature = metadata["metadata"]["signature_def"]["signature_def"]["serving_default"]
    latent_dim = int(signature["inputs"]["z"]["tensor_shape"]["dim"][1]["size"])
    kinds = memory_requests(latent_dim)
    counter = iter(range(args.memory_requests))
    lock = threading.Lock()
    failures: list[str] = []
    counts: dict[str, int] = {}

    def worker() -> None:
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                break
            name, body, expected = kinds[index % len(kinds)]
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            try:
                connection.request("POST", "/v1/models/g:predict", body)
                response = connection.getresponse()
                payload = json.loads(response.read())
                good = response.status == expected and (
                    expected != 200 or len(next(iter(payload.values()))) == 1024
                )
                if not good:
                    failures.append(f"{name}: {response.status} {str(payload)[:200]}")
            except Exception as error:
                failures.append(f"{name}: {error!r}")
            finally:
                connection.close()
            with lock:
                counts[name] = counts.get(name, 0) + 1

    before = peak_rss_mib(pid)
    elapsed = run_clients(worker, args.memory_clients)
    grown = peak_rss_mib(pid) - before
    bound = args.memory_clients * REQUEST_MEMORY_MIB
    print(
        f"memory: {args.memory_requests} requests from {args.memory_clients} concurrent clients "
        f"in {elapsed:.1f} s ({', '.join(f'{k} x{v}' for k, v in counts.items())})"
    )
    print(f"  failed requests: {len(failures)}")
    for failure in failures[:5]:
        print(f"    {failure}")
    verdict = "within" if grown <= bound else "OVER"
    print(
        f"  server peak RSS: {before:.0f} MiB before, +{grown:.0f} MiB under load "
        f"({verdict} the bound {args.memory_clients} x {REQUEST_MEMORY_MIB} MiB = {bound} MiB)"
    )
    return len(failures) + (grown > bound)


if __name__ == "__main__":
    main()
