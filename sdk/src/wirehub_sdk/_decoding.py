"""Response bodies decompressed within a byte budget, never past it.

httpx decompresses each network chunk whole before the caller can count it,
so one 64 KiB chunk of a gzip bomb could grow to tens of megabytes first. Here
every decompression call is given the bytes the budget has left, so memory
stays within the limit whatever the compression ratio.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

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
