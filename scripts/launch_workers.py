#!/usr/bin/env python3
"""Start N local workers of a MultiWorkerMirroredStrategy cluster on 127.0.0.1, for trying
multi-machine training on one box.

Each worker is a process with its own ``TF_CONFIG`` (the cluster of N ``127.0.0.1:<free
port>`` addresses, and its own task index) running ``keras-gan train --strategy multiworker``
with the arguments given after ``--``. Their output is streamed line by line, prefixed with
``[worker i]``. If one worker fails, the others are stopped (a collective would otherwise wait
for the dead peer forever), and the launcher exits with the failed worker's status.

Examples:
    $ python scripts/launch_workers.py --workers 2 -- --model dcgan --epochs 1 --seed 0 \\
        --limit 2048 --batch-size 64 --out runs/dcgan-2w
    $ python scripts/launch_workers.py --workers 2 --exec -- python my_worker.py
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence


def free_ports(n: int, host: str = "127.0.0.1") -> list[int]:
    """``n`` distinct TCP ports that were free on ``host`` a moment ago.

    The sockets are held open together while the ports are picked, so the ports differ.

    Example:
        >>> len(set(free_ports(3)))
        3
    """
    sockets = []
    try:
        for _ in range(n):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def cluster_configs(n: int, host: str = "127.0.0.1") -> list[str]:
    """The ``TF_CONFIG`` value of each of ``n`` workers on ``host`` (worker 0 is the chief).

    Example:
        >>> json.loads(cluster_configs(2)[1])["task"]
        {'type': 'worker', 'index': 1}
    """
    if n < 1:
        raise ValueError(f"the number of workers must be positive. Received: {n}")
    addresses = [f"{host}:{port}" for port in free_ports(n, host)]
    return [
        json.dumps({"cluster": {"worker": addresses}, "task": {"type": "worker", "index": i}})
        for i in range(n)
    ]


def _stream(index: int, process: subprocess.Popen[bytes], lock: threading.Lock) -> None:
    assert process.stdout is not None
    for raw in iter(process.stdout.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip("\n")
        with lock:
            sys.stdout.write(f"[worker {index}] {line}\n")
            sys.stdout.flush()


def launch(
    command: Sequence[str],
    workers: int,
    host: str = "127.0.0.1",
    env: dict[str, str] | None = None,
    timeout: float | None = None,
) -> int:
    """Run ``command`` as ``workers`` processes of one cluster; return the first failure's
    status (0 when all succeed).

    Args:
        command: the program and its arguments, the same for every worker.
        workers: how many workers.
        host: the address every worker listens on.
        env: extra environment variables for the workers.
        timeout: seconds before all workers are stopped (status 124).

    Example:
        >>> launch([sys.executable, "-c", "import os; assert os.environ['TF_CONFIG']"], 2)
        0
    """
    lock = threading.Lock()
    processes: list[subprocess.Popen[bytes]] = []
    threads = []
    base = {**os.environ, **(env or {})}
    for index, config in enumerate(cluster_configs(workers, host)):
        process = subprocess.Popen(
            list(command),
            env={**base, "TF_CONFIG": config, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        processes.append(process)
        thread = threading.Thread(target=_stream, args=(index, process, lock), daemon=True)
        thread.start()
        threads.append(thread)
    deadline = None if timeout is None else time.monotonic() + timeout
    status = 0
    try:
        while any(p.poll() is None for p in processes):
            failed = [p for p in processes if p.poll() not in (None, 0)]
            if failed:
                status = failed[0].returncode
                index = processes.index(failed[0])
                print(f"[launcher] worker {index} exited with {status}; stopping the others")
                break
            if deadline is not None and time.monotonic() > deadline:
                print(f"[launcher] timed out after {timeout} s; stopping the workers")
                status = 124
                break
            time.sleep(0.2)
        else:
            codes = [p.returncode for p in processes]
            status = next((code for code in codes if code), 0)
    except KeyboardInterrupt:
        status = 130
    finally:
        _stop(processes)
        for thread in threads:
            thread.join(timeout=5)
    return status


def _stop(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and launch the workers.

    Example:
        >>> main(["--workers", "2", "--", "--model", "gan", "--dataset", "ring"])  # doctest: +SKIP
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", "-n", type=int, default=2, help="number of workers (2)")
    parser.add_argument("--host", default="127.0.0.1", help="address of every worker")
    parser.add_argument("--timeout", type=float, help="stop all workers after this many seconds")
    parser.add_argument(
        "--exec",
        action="store_true",
        help="the arguments after -- are a whole command, not keras-gan train arguments",
    )
    parser.add_argument("args", nargs=argparse.REMAINDER, help="-- then the worker arguments")
    options = parser.parse_args(argv)
    rest = list(options.args)
    if rest and rest[0] == "--":
        rest = rest[1:]
    if options.workers < 1:
        parser.error(f"--workers must be positive, got {options.workers}")
    if options.exec:
        if not rest:
            parser.error("--exec needs a command after --")
        command = rest
    else:
        if "--strategy" in rest:
            parser.error("leave out --strategy: the launcher passes --strategy multiworker")
        command = [sys.executable, "-m", "keras_gan.cli", "train", "--strategy", "multiworker"]
        command += rest
    return launch(command, options.workers, options.host, timeout=options.timeout)


if __name__ == "__main__":
    sys.exit(main())
