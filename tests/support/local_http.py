"""A real HTTP(S) server on 127.0.0.1, run in a thread, for the HTTP client and node tests.

The server records every request and connection it receives, so a test can
prove that a refused request never reached it. Routes (any method):

- ``/echo``: 200 (or ``?status=``), JSON of the method, path, query, headers and body received.
- ``/status/<code>``: that status with a JSON body; ``?retry_after=`` sets ``Retry-After``.
- ``/redirect?to=<url>&status=<code>``: a redirect (302 by default) to ``to``.
- ``/hops/<n>``: ``n`` relative redirects, then JSON ``{"hops": "done"}``.
- ``/content?type=<media type>&body=<text>``: that body with that Content-Type.
- ``/binary``: 256 bytes of ``application/octet-stream``.
- ``/bytes?size=<n>``: ``n`` bytes, with a Content-Length.
- ``/gzip?size=<n>``: ``n`` zero bytes, gzip-compressed (a small compressed, large decoded body).
- ``/slow?seconds=<s>``: answers after ``s`` seconds.
- ``/set-cookie``: sets a cookie.

The SDK's and the plugins' conftest files import its fixtures.
"""

from __future__ import annotations

import gzip
import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from wirehub_sdk import EgressClient, EgressPolicy

LOOPBACK = EgressPolicy(allow_networks=("127.0.0.0/8",))
"""Egress rules that let tests reach the local server (loopback is forbidden by default)."""


@dataclass(frozen=True)
class Seen:
    """A request as the server received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@cache
def _gzipped_zeros(size: int) -> bytes:
    return gzip.compress(b"\0" * size, compresslevel=9)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        seen = Seen(self.command, parts.path, query, {k.lower(): v for k, v in self.headers.items()}, body)
        self.server.owner.requests.append(seen)
        first = {k: v[0] for k, v in query.items()}
        segments = parts.path.strip("/").split("/")
        route = segments[0]
        if route == "echo":
            payload = {
                "method": seen.method,
                "path": seen.path,
                "query": seen.query,
                "headers": seen.headers,
                "body": body.decode("utf-8", "replace"),
            }
            self._send(int(first.get("status", "200")), json.dumps(payload).encode(), "application/json")
        elif route == "status":
            extra = {"Retry-After": first["retry_after"]} if "retry_after" in first else {}
            code = int(segments[1])
            self._send(code, json.dumps({"status": code}).encode(), "application/json", extra)
        elif route == "redirect":
            self._send(int(first.get("status", "302")), b"", "text/plain", {"Location": first["to"]})
        elif route == "hops":
            left = int(segments[1])
            if left == 0:
                self._send(200, b'{"hops": "done"}', "application/json")
            else:
                self._send(302, b"", "text/plain", {"Location": f"/hops/{left - 1}"})
        elif route == "content":
            self._send(200, first.get("body", "").encode(), first["type"])
        elif route == "binary":
            self._send(200, bytes(range(256)), "application/octet-stream")
        elif route == "bytes":
            self._send(200, b"x" * int(first["size"]), "application/octet-stream")
        elif route == "gzip":
            self._send(
                200, _gzipped_zeros(int(first["size"])), "application/octet-stream", {"Content-Encoding": "gzip"}
            )
        elif route == "slow":
            if not self.server.owner.stopping.wait(float(first["seconds"])):
                self._send(200, b"late", "text/plain")
        elif route == "set-cookie":
            self._send(200, b"{}", "application/json", {"Set-Cookie": "session=s3cret; Path=/"})
        else:
            self._send(404, b"not found", "text/plain")

    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128
    """A server's usual backlog, not socketserver's 5: a worker starts what it reads at once, and 40
    simultaneous connections to a backlog of 5 lose some of their handshakes."""

    def __init__(self, owner: LocalServer) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), _Handler)

    def get_request(self) -> Any:
        sock, address = super().get_request()
        self.owner.connections += 1
        if self.owner.tls is not None:
            sock = self.owner.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients in these tests hang up on purpose (timeouts, size limits, refused certificates).
        return None


class LocalServer:
    """A threaded HTTP server on 127.0.0.1 that records what reaches it.

    Args:
        tls: A server-side SSL context to serve HTTPS, recording the SNI names seen.
    """

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[Seen] = []
        self.connections = 0
        self.sni_names: list[str | None] = []
        self.stopping = threading.Event()
        self.tls = tls
        if tls is not None:
            tls.sni_callback = lambda _sock, name, _ctx: self.sni_names.append(name)
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    def close(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    """A plain-HTTP local server."""
    local = LocalServer()
    yield local
    local.close()


@pytest.fixture
def other_server() -> Iterator[LocalServer]:
    """A second local server: another origin (its port differs)."""
    local = LocalServer()
    yield local
    local.close()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate (and key) for the name ``egress.test``."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=egress.test",
         "-addext", "subjectAltName=DNS:egress.test", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[LocalServer]:
    """An HTTPS local server presenting the ``egress.test`` certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    local = LocalServer(tls=context)
    yield local
    local.close()


@pytest.fixture
def trusting(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    """A client SSL context that trusts the test certificate (and verifies host names)."""
    return ssl.create_default_context(cafile=str(certificate[0]))


@pytest.fixture
async def client() -> AsyncIterator[EgressClient]:
    """An egress client allowed to reach loopback, and nothing else private."""
    egress = EgressClient(LOOPBACK)
    yield egress
    await egress.aclose()
