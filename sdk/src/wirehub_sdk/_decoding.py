"""Response bodies decompressed within a byte budget, and decoded as JSON within a depth limit.

httpx decompresses each network chunk whole before the caller can count it,
so one 64 KiB chunk of a gzip bomb could grow to tens of megabytes first. Here
every decompression call is given the bytes the budget has left, so memory
stays within the limit whatever the compression ratio.

A remote server also chooses what its JSON holds: ``decode_json`` turns a
body nested a thousand levels deep, an integer of thousands of digits or a
lone surrogate into one ``JSONBodyError`` with a clear message, never a
``RecursionError`` or ``ValueError`` from deep inside a decoder.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from itertools import accumulate
from typing import Any

import msgspec

ACCEPT_ENCODING = "gzip, deflate"
"""What the client asks servers for: the encodings it can decode within a budget."""


class BudgetExceededError(Exception):
    """The decoded body grew past its budget."""


class _Inflater:
    """One gzip or deflate layer, fed compressed bytes, yielding at most ``budget + 1`` at a time."""

    def __init__(self, encoding: str) -> None:
        # 32 + MAX_WBITS reads gzip or zlib headers; raw deflate is tried when a zlib header is missing.
        self._raw_fallback = encoding == "deflate"
        self._decoder = zlib.decompressobj(32 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS)
        self._started = False

    def feed(self, data: bytes, budget: int) -> Iterator[bytes]:
        try:
            out = self._decoder.decompress(data, budget + 1)
        except zlib.error:
            if not (self._raw_fallback and not self._started):
                raise
            self._decoder = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._decoder.decompress(data, budget + 1)
        self._started = True
        yield out
        while self._decoder.unconsumed_tail:
            yield self._decoder.decompress(self._decoder.unconsumed_tail, budget + 1)

    def flush(self) -> bytes:
        return self._decoder.flush()


class BoundedDecoder:
    """Decodes a body sent with ``Content-Encoding`` within ``limit`` decoded bytes.

    Supports ``identity``, ``gzip``/``x-gzip`` and ``deflate``, stacked in any
    order. An encoding it does not know leaves the body as received.

    Raises:
        BudgetExceededError: From ``feed`` or ``finish``, past ``limit``.
        zlib.error: The body is not valid for its declared encoding.
    """

    def __init__(self, content_encoding: str, limit: int) -> None:
        names = [n.strip().lower() for n in content_encoding.split(",") if n.strip()]
        known = all(n in ("identity", "gzip", "x-gzip", "deflate") for n in names)
        self._layers = [_Inflater(n) for n in reversed(names) if n != "identity"] if known else []
        self._limit = limit
        self._chunks: list[bytes] = []
        self._size = 0

    def feed(self, data: bytes) -> None:
        """Adds received (still encoded) bytes."""
        self._push(0, data)

    def finish(self) -> bytes:
        """Flushes every layer and returns the whole decoded body."""
        for index, layer in enumerate(self._layers):
            self._push(index + 1, layer.flush())
        return b"".join(self._chunks)

    def _push(self, index: int, data: bytes) -> None:
        if not data:
            return
        if index == len(self._layers):
            self._size += len(data)
            if self._size > self._limit:
                raise BudgetExceededError
            self._chunks.append(data)
            return
        for piece in self._layers[index].feed(data, self._limit - self._size):
            self._push(index + 1, piece)


MAX_JSON_DEPTH = 128
"""How deeply arrays and objects may nest in a JSON body ``decode_json`` accepts."""


class JSONBodyError(ValueError):
    """A body is not JSON, or holds what the hub cannot carry; the message says which, as a clause."""


# A JSON string, written so that matching never backtracks: runs of plain bytes, then escapes.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_NESTING_STEP = [0] * 256
for _byte in b"[{":
    _NESTING_STEP[_byte] = 1
for _byte in b"]}":
    _NESTING_STEP[_byte] = -1


def json_depth(content: bytes) -> int:
    """How deeply arrays and objects nest in the JSON text ``content``.

    Counts brackets outside strings, in C-speed passes over the bytes rather
    than a walk over the decoded value.
    """
    if content.count(b"[") + content.count(b"{") <= 1:
        return content.count(b"[") + content.count(b"{")
    # Outside valid JSON the figure is a guess, but never an error.
    brackets = _JSON_STRING.sub(b"", content).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_NESTING_STEP.__getitem__, brackets)), default=0)


def decode_json(content: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Decodes a JSON body, refusing what would fail later in the hub.

    Args:
        content: The body, UTF-8 JSON.
        max_depth: Deepest accepted nesting of arrays and objects.

    Raises:
        JSONBodyError: The body is not JSON; nests deeper than ``max_depth``;
            holds an integer beyond 64 bits or a number beyond the float
            range; or holds a lone surrogate (``"\\ud800"``), which is not text.
    """
    # Decoders recurse once per level: measure the nesting on the bytes before decoding.
    if json_depth(content) > max_depth:
        raise JSONBodyError(f"it nests arrays and objects more than {max_depth} levels deep")
    try:
        return msgspec.json.decode(content)
    except msgspec.ValidationError as exc:
        # msgspec's own words: "Integer value out of range", "Number out of range - at `$.a`".
        raise JSONBodyError(
            f"it holds a number out of range ({exc}); integers must fit in 64 bits, other numbers in a double"
        ) from None
    except msgspec.DecodeError as exc:
        if _LONE_SURROGATE.search(content):
            raise JSONBodyError("it holds a lone surrogate (\\ud800-\\udfff), which is not text") from None
        raise JSONBodyError(f"it is not JSON ({exc})") from None
    except RecursionError:
        raise JSONBodyError("it nests arrays and objects too deeply to decode") from None


_LONE_SURROGATE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F]"
)
"""A surrogate escape; msgspec refuses a lone one (with the message "Input data was truncated")."""
