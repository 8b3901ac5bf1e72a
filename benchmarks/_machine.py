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
