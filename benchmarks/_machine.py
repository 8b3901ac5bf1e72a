"""What machine a benchmark ran on: the CPU model, its AVX-512 / AVX512_BF16 flags, the load.

Every figure a benchmark prints is meaningful only beside the machine it was measured on, so
each script prints these lines with its results.

Example:
    >>> "CPUs" in cpu_description()
    True
"""

from __future__ import annotations

import os
from pathlib import Path

#: The project root (git commands run there).
ROOT = Path(__file__).resolve().parents[1]


def cpu_description() -> str:
    """The CPU model, its AVX-512 / AVX512_BF16 flags and the CPU count, from /proc/cpuinfo.

    Example:
        >>> "CPUs" in cpu_description()
        True
    """
    model, flags = "unknown CPU", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model == "unknown CPU":
                model = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    except OSError:
        pass
    avx = "AVX-512" if "avx512f" in flags else "no AVX-512"
    bf16 = ", AVX512_BF16" if "avx512_bf16" in flags else ""
    return f"{model} ({avx}{bf16}), {os.cpu_count()} CPUs"


def load_average() -> str:
    """``os.getloadavg`` (1, 5 and 15 minutes) as text.

    Example:
        >>> len(load_average().split(", "))
        3
    """
    return ", ".join(f"{v:.1f}" for v in os.getloadavg())


def git(*args: str) -> str:
    """Output of ``git ARGS`` in the project root, or ``"unknown"`` outside a checkout.

    Example:
        >>> len(git("rev-parse", "HEAD")) in (7, 40)  # doctest: +SKIP
        True
    """
    import subprocess

    try:
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, check=True, cwd=ROOT
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def record_fields(benchmark: str, arguments: dict, started: float, load_before: str) -> dict:
    """The fields every benchmark record starts with: what ran, on which commit and machine,
    under which load, with which library versions, when and for how long.

    Args:
        benchmark: the benchmark's name (its script is ``benchmarks/<name>.py``).
        arguments: the parsed arguments.
        started: ``time.time()`` when the benchmark started.
        load_before: :func:`load_average` when it started.

    Example:
        >>> sorted(record_fields("x", {}, 0.0, "0.0, 0.0, 0.0"))[:3]
        ['arguments', 'benchmark', 'command']
    """
    import platform
    import sys
    import time
    from datetime import datetime, timezone
    from importlib.metadata import PackageNotFoundError, version

    versions = {"python": platform.python_version()}
    for package in ("tensorflow", "keras", "numpy"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "absent"
    return {
        "benchmark": benchmark,
        "command": "python " + " ".join([f"benchmarks/{benchmark}.py", *sys.argv[1:]]),
        "arguments": {k: v for k, v in arguments.items() if k != "table"},
        "commit": git("rev-parse", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "cpu": cpu_description(),
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "versions": versions,
        "seconds": round(time.time() - started, 1),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
