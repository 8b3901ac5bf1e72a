"""What one request may cost: ``Limits``, and the checks that hold a request and its reply to them.

Everything here runs before any work: a body that no valid predict request could be is refused
before it is parsed (``check_body``), the JSON is parsed with integers of at most 40 digits
(``parse_body``), a batch or ``n`` over ``max_batch`` is refused (``check_batch``), and so is a
reply whose JSON text could exceed ``max_reply_bytes`` (``check_reply``, ``reply_bytes_bound``).
A reply is written block by block (``ArrayReply``), never held as one Python list. Every
refusal is an ``HTTPError`` (400 or 413) whose message may echo at most a few characters of
what was sent (``shown``).

Example:
    >>> try:
    ...     check_reply(2, (2, 2, 1), np.uint8, Limits(max_reply_bytes=100))
    ... except HTTPError as error:
    ...     print(error.status, error.message[-23:])
    413 request at most 1 rows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from keras_gan._checks import check_positive_int

__all__ = [
    "REQUEST_MEMORY_MIB",
    "ArrayReply",
    "HTTPError",
    "Limits",
    "check_batch",
    "check_body",
    "check_reply",
    "parse_body",
    "reply_bytes_bound",
    "shown",
]

#: Most memory one request may add to the server with the default ``Limits`` and a generator
#: of about the DCGAN's size (28x28x1, latent_dim 100), in MiB (docs/serving.md); the load
#: benchmark checks 8 concurrent clients against 8 times this.
REQUEST_MEMORY_MIB = 48
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_MAX_STRING_BYTES = 128
_MAX_DIGITS = 40


class HTTPError(Exception):
    """An error answered as ``{"error": message}`` with an HTTP status.

    Example:
        >>> HTTPError(404, "Servable not found for request: Latest(x)").status
        404
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Limits:
    """Request limits; anything over them is refused with 413 before any work is done.

    Besides these, a body is refused before it is parsed when it holds more JSON values than
    ``max_batch`` rows of ``z`` need (``max_batch * (latent_dim + 4) + 64``, one value more per
    row for a class-conditional model's labels), more than
    ``4 * max_batch + 64`` quotes, a string over 128 bytes or a non-ASCII byte.

    Attributes:
        max_body_bytes: largest request body.
        max_batch: most rows of ``z`` (``serving_default``) or largest ``n`` (``sample``).
        max_reply_bytes: largest reply, as estimated before the work (24 bytes per float,
            4 per uint8, plus brackets); replies over one block are streamed in chunks.
        run_rows: rows per onnxruntime run (a request is run in chunks of this many rows,
            which bounds onnxruntime's working memory per request).

    Example:
        >>> Limits(max_body_bytes=1 << 20, max_batch=256).max_batch
        256
    """

    max_body_bytes: int = 16 * 2**20
    max_batch: int = 1024
    max_reply_bytes: int = 32 * 2**20
    run_rows: int = 32

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_batch", "max_reply_bytes", "run_rows"):
            check_positive_int(getattr(self, name), name)


def shown(value: Any, limit: int = 64) -> str:
    """``value`` as JSON text, cut to ``limit`` characters: what an error message may echo.

    Args:
        value: anything taken from a request.
        limit: most characters returned.

    Returns:
        The text, ending in ``...`` when cut.

    Example:
        >>> shown("x" * 100, limit=8)
        'xxxxx...'
    """
    try:
        text = value if isinstance(value, str) else json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_body(body: bytes, latent_dim: int, limits: Limits, labelled: bool = False) -> None:
    """Refuse, before parsing, a body that no valid request for this model could be.

    Counting bytes bounds what ``json.loads`` would allocate: one value per ``,``, ``[``,
    ``{`` or ``:``, strings of at most 128 bytes, ASCII only (so text is one byte a
    character).

    Args:
        body: the request body.
        latent_dim: the served model's latent size.
        limits: the request limits.
        labelled: the model is class-conditional: each row may carry a label too (one value
            more per row).

    Raises:
        HTTPError: 400 for non-ASCII bytes or an overlong string, 413 for too many values or
            quotes.

    Example:
        >>> check_body(b'{"instances": [[0, 0]]}', latent_dim=2, limits=Limits())
        >>> try:
        ...     check_body(b"[" + b"0," * 99 + b"0]", 2, Limits(max_batch=1))
        ... except HTTPError as error:
        ...     print(error.status, error.message[:40])
        413 Request body holds about 100 JSON values
    """
    max_batch = limits.max_batch
    if not body.isascii():
        raise HTTPError(
            400,
            "The request body must be ASCII JSON (numbers and the keys of a predict "
            "request); it holds non-ASCII bytes.",
        )
    values = sum(body.count(c) for c in (b",", b"[", b"{", b":"))
    max_values = max_batch * (latent_dim + 4 + int(labelled)) + 64
    if values > max_values:
        raise HTTPError(
            413,
            f"Request body holds about {values} JSON values; at most {max_values} fit "
            f"{max_batch} rows of z (latent_dim {latent_dim}), the limit per request.",
        )
    quotes = body.count(b'"')
    if quotes > 4 * max_batch + 64:
        raise HTTPError(
            413,
            f"Request body holds {quotes} quotes; a predict request for at most {max_batch} "
            f"rows holds at most {4 * max_batch + 64}.",
        )
    if quotes:
        for match in _STRING.finditer(body):
            if match.end() - match.start() > _MAX_STRING_BYTES + 2:
                raise HTTPError(
                    400,
                    f"A string of {match.end() - match.start() - 2} bytes in the request "
                    f"body; the keys and signature names of a predict request are at most "
                    f"{_MAX_STRING_BYTES}.",
                )


def check_reply(rows: int, image_shape: Sequence[int], dtype: Any, limits: Limits) -> None:
    """Refuse a reply of ``rows`` samples whose JSON text could exceed ``max_reply_bytes``.

    Args:
        rows: samples in the reply.
        image_shape: shape of one sample.
        dtype: the reply's dtype (uint8 or float32).
        limits: the request limits.

    Raises:
        HTTPError: 413, saying how many rows would fit.

    Example:
        >>> check_reply(1, (28, 28, 1), np.float32, Limits())
    """
    size = reply_bytes_bound(rows, image_shape, dtype)
    limit = limits.max_reply_bytes
    if size > limit:
        per_row = reply_bytes_bound(1, image_shape, dtype) - 32
        fits = max(0, (limit - 32) // max(1, per_row))
        raise HTTPError(
            413,
            f"The reply for {rows} rows of {list(image_shape)} "
            f"{np.dtype(dtype).name} values may take {size} bytes, over the limit of "
            f"{limit} bytes; request at most {fits} rows.",
        )


def check_batch(rows: int, limits: Limits) -> None:
    """Refuse a batch of more than ``max_batch`` rows of ``z``.

    Args:
        rows: rows in the request.
        limits: the request limits.

    Raises:
        HTTPError: 413.

    Example:
        >>> try:
        ...     check_batch(3, Limits(max_batch=2))
        ... except HTTPError as error:
        ...     print(error.status, error.message)
        413 Batch of 3 exceeds the limit of 2 per request.
    """
    if rows > limits.max_batch:
        raise HTTPError(
            413, f"Batch of {rows} exceeds the limit of {limits.max_batch} per request."
        )


def parse_body(body: bytes) -> Any:
    """The JSON value of a request body whose integers have at most 40 digits.

    Args:
        body: a body that passed ``check_body``.

    Returns:
        The parsed JSON value.

    Raises:
        HTTPError: 400 for malformed JSON or an overlong integer.

    Example:
        >>> parse_body(b'{"inputs": {"n": 2, "seed": -1}}')
        {'inputs': {'n': 2, 'seed': -1}}
    """
    try:
        return json.loads(body, parse_int=_parse_int)
    except _NumberTooLong as error:
        raise HTTPError(400, str(error)) from None
    except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError
        message = shown(str(error), 200)
        raise HTTPError(400, f"Malformed JSON request body: {message}") from None


class _NumberTooLong(ValueError):
    pass


def _parse_int(text: str) -> int:
    digits = len(text) - text.startswith("-")
    if digits > _MAX_DIGITS:
        raise _NumberTooLong(
            f"An integer of {digits} digits in the request body; numbers must fit in float32 "
            "(z), int32 (n) or int64 (seed)."
        )
    return int(text)


def reply_bytes_bound(rows: int, image_shape: Sequence[int], dtype: Any) -> int:
    """Most bytes the JSON text of ``rows`` images can take (24 per float, 4 per uint8).

    Example:
        >>> reply_bytes_bound(1, (2, 2, 1), np.uint8)  # the text is '[[[[0],[0]],[[0],[0]]]]'
        69
    """
    per_value = 4 if np.dtype(dtype) == np.uint8 else 24
    values = rows * int(np.prod(image_shape, dtype=np.int64))
    lists = count = rows  # each list costs "[", "]" and a comma
    for dim in image_shape[:-1]:
        count *= int(dim)
        lists += count
    return per_value * values + 3 * lists + 32


class ArrayReply:
    """A reply ``{key: array.tolist()}`` written block by block, never as one Python list.

    Args:
        key: ``predictions`` or ``outputs``.
        array: the images.
        block_values: about how many values one block of text holds.

    Example:
        >>> b"".join(ArrayReply("outputs", np.arange(3, dtype=np.uint8)).chunks())
        b'{"outputs":[0,1,2]}'
    """

    def __init__(self, key: str, array: np.ndarray, block_values: int = 1 << 14) -> None:
        self.key = key
        self.array = array
        per_row = max(1, int(np.prod(array.shape[1:], dtype=np.int64)))
        self.block_rows = max(1, block_values // per_row)

    def chunks(self) -> Iterator[bytes]:
        """The JSON text in blocks of ``block_rows`` rows.

        Example:
            >>> list(ArrayReply("o", np.zeros((2, 1), np.uint8), block_values=1).chunks())
            [b'{"o":[', b'[0]', b',[0]', b']}']
        """
        yield b'{"' + self.key.encode() + b'":['
        for start in range(0, len(self.array), self.block_rows):
            block = self.array[start : start + self.block_rows].tolist()
            text = json.dumps(block, separators=(",", ":"))[1:-1]
            yield (("," if start else "") + text).encode()
        yield b"]}"
