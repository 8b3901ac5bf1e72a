"""TF Serving ``models.config`` files (``model_config_list`` in protobuf text format).

``keras-gan serving-config`` writes one for several exported models; ``tensorflow_model_server
--model_config_file=...`` (and ``keras-gan serve --model-config-file``) reads it::

    model_config_list {
      config {
        name: 'dcgan'
        base_path: '/models/dcgan'
        model_platform: 'tensorflow'
      }
    }

Example:
    >>> text = format_models_config({"dcgan": "/models/dcgan"})
    >>> parse_models_config(text)
    {'dcgan': '/models/dcgan'}
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from keras_gan.serving.images import write_bytes_atomic

__all__ = [
    "format_models_config",
    "parse_models_config",
    "read_models_config",
    "write_models_config",
]

_TOKEN = re.compile(
    r"\s+|#[^\n]*|(?P<string>'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\")"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_.]*)|(?P<number>-?[0-9]+)|(?P<punct>[{}:<>\[\],;])"
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}


def _quote(value: str) -> str:
    if "\n" in value or "\r" in value:
        raise ValueError(f"A models.config value cannot hold a line break. Received: {value!r}")
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def format_models_config(models: Mapping[str, str], platform: str = "tensorflow") -> str:
    """The ``model_config_list`` text for ``{name: base_path}``.

    Args:
        models: model names and their base paths (as the server will see them).
        platform: ``model_platform`` of every entry.

    Returns:
        The file's text.

    Example:
        >>> print(format_models_config({"a": "/models/a"}), end="")
        model_config_list {
          config {
            name: 'a'
            base_path: '/models/a'
            model_platform: 'tensorflow'
          }
        }
    """
    if not models:
        raise ValueError("A models.config needs at least one model.")
    lines = ["model_config_list {"]
    for name, base_path in models.items():
        lines += [
            "  config {",
            f"    name: {_quote(name)}",
            f"    base_path: {_quote(str(base_path))}",
            f"    model_platform: {_quote(platform)}",
            "  }",
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_models_config(
    models: Mapping[str, str], path: str | os.PathLike, platform: str = "tensorflow"
) -> Path:
    """Write ``format_models_config(models)`` to ``path`` atomically (temporary file, rename).

    Example:
        >>> write_models_config({"a": "/models/a"}, "models.config")  # doctest: +SKIP
        PosixPath('models.config')
    """
    return write_bytes_atomic(path, format_models_config(models, platform).encode())


def _tokens(text: str) -> Iterator[tuple[str, str, int]]:
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            line = text.count("\n", 0, position) + 1
            raise ValueError(f"models.config line {line}: unexpected {text[position]!r}")
        if match.lastgroup:
            yield match.lastgroup, match.group(match.lastgroup), position
        position = match.end()


def _unquote(token: str) -> str:
    body, out, i = token[1:-1], [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            out.append(_ESCAPES.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def _parse_block(tokens: list[tuple[str, str, int]], i: int, text: str) -> tuple[dict, int]:
    """Parse fields until the matching ``}``; returns ({field: [values]}, next index)."""
    fields: dict[str, list] = {}

    def error(at: int, message: str) -> ValueError:
        position = tokens[at][2] if at < len(tokens) else len(text)
        return ValueError(f"models.config line {text.count(chr(10), 0, position) + 1}: {message}")

    while i < len(tokens):
        kind, value, _ = tokens[i]
        if kind == "punct" and value == "}":
            return fields, i + 1
        if kind == "punct" and value in ",;":
            i += 1
            continue
        if kind != "ident":
            raise error(i, f"expected a field name, found {value!r}")
        name, i = value, i + 1
        if i < len(tokens) and tokens[i][1] == ":":
            i += 1
        if i >= len(tokens):
            raise error(i, f"field {name!r} has no value")
        kind, value, _ = tokens[i]
        if kind == "punct" and value in "{<":
            child, i = _parse_block(tokens, i + 1, text)
            fields.setdefault(name, []).append(child)
        elif kind == "string":
            fields.setdefault(name, []).append(_unquote(value))
            i += 1
        elif kind in ("ident", "number"):
            fields.setdefault(name, []).append(value)
            i += 1
        else:
            raise error(i, f"unexpected {value!r} after {name!r}")
    return fields, i


def parse_models_config(text: str) -> dict[str, str]:
    """``{name: base_path}`` of a ``model_config_list`` text (other fields are ignored).

    Raises:
        ValueError: the text is not a ``model_config_list``, an entry lacks ``name`` or
            ``base_path``, or a name repeats; the message gives the line.

    Example:
        >>> parse_models_config("model_config_list { config { name: 'a' base_path: '/m/a' } }")
        {'a': '/m/a'}
    """
    tokens = list(_tokens(text))
    tokens.append(("punct", "}", len(text)))  # close the top level
    fields, end = _parse_block(tokens, 0, text)
    if end != len(tokens):
        raise ValueError("models.config: unbalanced '}'")
    lists = fields.get("model_config_list")
    if not lists or not isinstance(lists[0], dict):
        raise ValueError("models.config holds no model_config_list { config { ... } } block")
    models: dict[str, str] = {}
    for entry in lists[0].get("config", []):
        name, base_path = entry.get("name", [None])[0], entry.get("base_path", [None])[0]
        if not isinstance(name, str) or not isinstance(base_path, str):
            raise ValueError(f"models.config: every config needs name and base_path: {entry}")
        if name in models:
            raise ValueError(f"models.config names the model {name!r} twice")
        models[name] = base_path
    if not models:
        raise ValueError("models.config lists no model")
    return models


def read_models_config(path: str | os.PathLike) -> dict[str, str]:
    """``parse_models_config`` of a file; relative base paths are taken from its directory.

    Example:
        >>> read_models_config("models.config")  # doctest: +SKIP
        {'dcgan': '/models/dcgan'}
    """
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise FileNotFoundError(f"No models.config at {path}") from None
    models = parse_models_config(text)
    return {name: str(path.parent / base) for name, base in models.items()}
