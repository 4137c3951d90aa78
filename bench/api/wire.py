"""A lean HTTP/1.1 keep-alive client for the load: one connection, one request at a time.

The load's clients share the two cores with the hub they measure, so their own CPU time is taken
from the hub's. ``httpx`` spent 1.4 to 1.9 ms of CPU per request here (request and URL models,
header normalisation, its connection pool, ``h11``'s state machine); this client writes the
request's bytes, reads the status line, the headers and a ``Content-Length`` body, and keeps the
connection: a few hundredths of a millisecond. It speaks only what the hub answers (no chunked
bodies, no redirects, no TLS); anything else is an error, never a guess.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Answer:
    """One response: its status, its body, and the request it answers (for error messages)."""

    status_code: int
    content: bytes
    method: str
    path: str

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


class WireClient:
    """One keep-alive connection to ``base_url`` (``http://host:port``), opened on first use.

    Args:
        base_url: The server.
        headers: Sent with every request (``Authorization``, say).
        timeout: Seconds a request may take, from sending to the end of its body.
    """

    def __init__(self, base_url: str, headers: dict[str, str] | None = None, timeout: float = 60) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"an http://host:port URL: {base_url!r}")
        self._host, self._port = parts.hostname, parts.port or 80
        fixed = {"Host": f"{self._host}:{self._port}", **(headers or {})}
        self._fixed = "".join(f"{name}: {value}\r\n" for name, value in fixed.items()).encode()
        self._timeout = timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> Answer:
        return await self.request("GET", path)

    async def post(self, path: str, json: Any = None) -> Answer:
        return await self.request("POST", path, _encode(json))

    async def request(self, method: str, path: str, body: bytes | None = None) -> Answer:
        """Sends one request and reads its whole answer."""
        async with asyncio.timeout(self._timeout):
            reader, writer = await self._connection()
            head = f"{method} {path} HTTP/1.1\r\n".encode() + self._fixed
            if body is not None:
                head += b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
            writer.write(head + b"\r\n" + (body or b""))
            try:
                status, length, close = await _read_head(reader)
                content = await reader.readexactly(length) if length else b""
            except (asyncio.IncompleteReadError, ConnectionError):
                await self.aclose()
                raise
            if close:
                await self.aclose()
            return Answer(status, content, method, path)

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port, limit=MAX_HEADER_BYTES)
        return self._reader, self._writer

    async def aclose(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


def _encode(value: Any) -> bytes | None:
    return None if value is None else json.dumps(value, separators=(",", ":")).encode()


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, int, bool]:
    """The status, the body's length and whether the server closes the connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head[:-4].split(b"\r\n")
    version, status, *_ = status_line.split(b" ", 2)
    if not version.startswith(b"HTTP/1."):
        raise ConnectionError(f"not an HTTP/1 response: {status_line[:100]!r}")
    length, close = 0, version == b"HTTP/1.0"
    for line in lines:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            raise ConnectionError("a chunked response: this client reads Content-Length bodies only")
        elif name == b"connection":
            close = value.strip().lower() == b"close"
    if not 0 <= length <= MAX_BODY_BYTES:
        raise ConnectionError(f"a body of {length} bytes")
    return int(status), length, close
