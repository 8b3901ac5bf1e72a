"""The generators shipped inside the package, sampled with the base install alone.

Each pretrained generator is a model base path under ``keras_gan/serving/pretrained/<name>/``
in the export layout (``1/model.onnx``, which carries its metadata), so every tool that takes
an export takes it too, and ``evaluation.json`` beside it: the record of the command that
trained and exported it (``scripts/pretrained.py``, ``make pretrained``), with the machine,
the commit, the ONNX file's SHA-256 and the ``keras-gan evaluate`` figures of 10,000 samples.

* ``fashion-mnist``: the default ``clustered`` preset, 12 epochs on Fashion-MNIST (the demo).
* ``fashion-mnist-cgan``: the class-conditional ``cgan`` preset (``label="sneaker"``).

Example:
    >>> "fashion-mnist" in names()
    True
    >>> from keras_gan.serving import Sampler
    >>> Sampler.pretrained("fashion-mnist").sample(4, seed=0).shape  # doctest: +SKIP
    (4, 28, 28, 1)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["PRETRAINED_DIR", "RECORD_NAME", "names", "path", "record"]

#: The folder of pretrained model base paths.
PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"
#: The record beside each model base path: how it was made and its evaluation.
RECORD_NAME = "evaluation.json"


def names() -> list[str]:
    """The names of the pretrained generators in this install, sorted.

    Example:
        >>> names()[0]
        'fashion-mnist'
    """
    if not PRETRAINED_DIR.is_dir():
        return []
    return sorted(p.name for p in PRETRAINED_DIR.iterdir() if (p / RECORD_NAME).is_file())


def path(name: str) -> Path:
    """The model base path of the pretrained generator ``name``.

    Raises:
        ValueError: no pretrained generator of that name; the message lists the names.

    Example:
        >>> path("fashion-mnist").name
        'fashion-mnist'
    """
    available = names()
    if name not in available:
        raise ValueError(f"No pretrained generator named {name!r}; this install has {available}.")
    return PRETRAINED_DIR / name


def record(name: str) -> dict[str, Any]:
    """The record of the pretrained generator ``name``: its command, machine and evaluation.

    Example:
        >>> record("fashion-mnist")["model"]
        'clustered'
    """
    return json.loads((path(name) / RECORD_NAME).read_text(encoding="utf-8"))
