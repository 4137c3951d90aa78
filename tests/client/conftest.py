"""The real app served by uvicorn on 127.0.0.1, for the client to call.

- ``hub``: the embedded hub (SQLite, in-process worker): the server's URL and the first
  admin's credentials, plus a helper that makes service accounts over HTTP.
- ``distributed_hub_server``: the same on PostgreSQL, with dispatches over a Redis stream
  read by a worker in the server's thread, and live events over Redis pub/sub.
- ``proxy``: a TCP proxy in front of the hub whose connections a test can cut
  (and refuse for a while), to break a live stream in the middle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import uvicorn

from tests.api.conftest import ADMIN, api_settings  # noqa: F401 - a fixture, registered by name
from tests.behaviour.conftest import (  # noqa: F401 - fixtures, registered by name
    distributed_hub,
    migrated_template,
    new_stream,
    postgresql_url,
    registry,
)
from tests.support.serving import serving
from wirehub.api import create_app
from wirehub.runtime.registry import NodeRegistry
from wirehub.settings import Settings
from wirehub.store import credential_keyring, database_engine, session_factory
from wirehub.worker.credentials import StoreCredentialSource
from wirehub_sdk.client import Client


def chain(name: str, steps: int, seconds: float = 0.05) -> dict[str, Any]:
    """A workflow of ``steps`` delays in a row: two events a step, spread over time."""
    return {
        "name": name,
        "steps": [
            {
                "id": f"s{i}",
                "type": "core.delay",
                "input": "`{}`",
                "config": {"seconds": seconds},
                **({"needs": [f"s{i - 1}"]} if i else {}),
            }
            for i in range(steps)
        ],
    }


BROKEN_ONCE = {
    "name": "broken-once",
    "steps": [
        {"id": "a", "type": "core.transform", "config": {"expression": "`1`"}},
        {"id": "b", "type": "test.flaky", "needs": ["a"], "config": {"failures": 1, "retryable": False}},
    ],
}
"""Fails at step ``b``, attempt 1; a retry of the execution succeeds."""
SLOW_ONCE = {
    "name": "slow-once",
    "steps": [{"id": "s", "type": "test.sleep", "config": {"seconds": 5, "only_first_attempt": True}}],
}
"""Runs for 5 s on its first attempt, at once on a later one: something to cancel, then retry."""
FAILING = {
    "name": "failing",
    "steps": [{"id": "boom", "type": "core.fail", "config": {"message": "it broke", "kind": "test.broken"}}],
}
TYPED = {
    "name": "typed",
    "input_schema": {"type": "object", "required": ["amount"], "properties": {"amount": {"type": "number"}}},
    "steps": [{"id": "echo", "type": "core.transform", "input": "input", "config": {"expression": "amount"}}],
    "output": {"amount": "steps.echo"},
}


@dataclass
class Hub:
    """A hub served over TCP.

    Attributes:
        url: Its base URL.
        admin: The first admin's username and password.
    """

    url: str
    admin: tuple[str, str]

    def _admin_headers(self) -> dict[str, str]:
        response = httpx.post(
            f"{self.url}/api/v1/auth/token", json={"username": self.admin[0], "password": self.admin[1]}
        )
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def api_key(self, role: str = "editor") -> str:
        """The key of a new service account holding ``role`` globally."""
        headers = self._admin_headers()
        user = httpx.post(
            f"{self.url}/api/v1/users",
            json={"username": f"svc-{uuid.uuid4().hex[:8]}", "service": True},
            headers=headers,
        )
        assert user.status_code == 201, user.text
        user_id = user.json()["id"]
        grant = {"user_id": user_id, "role": role, "workspace_id": None}
        assert httpx.post(f"{self.url}/api/v1/memberships", json=grant, headers=headers).status_code == 201
        key = httpx.post(f"{self.url}/api/v1/users/{user_id}/api-keys", json={"name": "test"}, headers=headers)
        assert key.status_code == 201, key.text
        return str(key.json()["key"])


@contextlib.contextmanager
def serve(
    settings: Settings,
    registry: NodeRegistry,  # noqa: F811 - the fixture's value
    redis_url: str | None = None,
) -> Iterator[str]:
    """The app on ``settings``, served by uvicorn in a thread of its own; yields its URL.

    With ``redis_url``, distributed: a worker reads the app's dispatch stream in the same thread.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    stream = new_stream()
    if redis_url is not None:
        settings = msgspec.structs.replace(settings, redis_url=redis_url)
        app = create_app(settings, registry=registry, stream=stream, namespace=f"test-{uuid.uuid4().hex[:12]}")
    else:
        app = create_app(settings, registry=registry)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="websockets-sansio", lifespan="on"))

    async def distributed() -> None:
        assert redis_url is not None
        engine = database_engine(settings.database_url)
        credentials = StoreCredentialSource(session_factory(engine), credential_keyring(settings))
        try:
            async with distributed_hub(
                settings, registry, settings.database_url, redis_url, stream=stream, credentials=credentials
            ):
                await server.serve(sockets=[listener])
        finally:
            await engine.dispose()

    if redis_url is None:
        thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name="uvicorn", daemon=True)
    else:
        thread = threading.Thread(target=asyncio.run, args=(distributed(),), name="uvicorn", daemon=True)
    # The server shares this process with the commands under test: its access lines must not
    # reach the stderr a command's output is read from.
    access = logging.getLogger("wirehub.api.access")
    access_level = access.level
    access.setLevel(logging.WARNING)
    try:
        with serving(server, thread, listener) as url:
            yield url
    finally:
        access.setLevel(access_level)


@pytest.fixture
def hub(api_settings: Settings, registry: NodeRegistry) -> Iterator[Hub]:  # noqa: F811
    """The embedded hub, served over TCP."""
    with serve(api_settings, registry) as url:
        yield Hub(url, ADMIN)


@pytest.fixture
def client(hub: Hub) -> Iterator[Client]:
    """A ``Client`` of ``hub``, logged in as its admin."""
    with Client(hub.url, timeout=20.0) as client:
        client.login(*hub.admin)
        yield client


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the stored login goes; no API key from the environment."""
    directory = tmp_path / "config"
    monkeypatch.setenv("WIREHUB_CONFIG_DIR", str(directory))
    for name in ("WIREHUB_URL", "WIREHUB_API_KEY", "WIREHUB_WORKSPACE"):
        monkeypatch.delenv(name, raising=False)
    return directory


@pytest.fixture
def distributed_hub_server(
    api_settings: Settings,  # noqa: F811
    registry: NodeRegistry,  # noqa: F811
    postgresql_url: str,  # noqa: F811
    redis_url: str,
) -> Iterator[Hub]:
    """The distributed hub (PostgreSQL, a Redis stream and pub/sub), served over TCP."""
    settings = msgspec.structs.replace(api_settings, database_url=postgresql_url)
    with serve(settings, registry, redis_url) as url:
        yield Hub(url, ADMIN)


class Proxy:
    """A TCP proxy to ``target`` that can cut every open connection and refuse new ones for a while."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.connections = 0
        self._refuse_until = 0.0
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="proxy", daemon=True)
        self.port = 0

    def __enter__(self) -> Proxy:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut(self, refuse_for: float = 0.0) -> None:
        """Closes every open connection at once (both ways), and refuses new ones for ``refuse_for`` seconds."""
        self._refuse_until = time.monotonic() + refuse_for
        done = threading.Event()

        def close_all() -> None:
            for writer in list(self._writers):
                writer.transport.abort()
            self._writers.clear()
            done.set()

        self._loop.call_soon_threadsafe(close_all)
        assert done.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._accept, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            for writer in self._writers:
                writer.transport.abort()
            # The connections' tasks end (and their aborted transports close) before the loop does.
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.run_until_complete(asyncio.sleep(0))
            self._loop.close()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if time.monotonic() < self._refuse_until:
            client_writer.transport.abort()
            return
        self.connections += 1
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers.update((client_writer, upstream_writer))
        await asyncio.gather(
            self._pipe(client_reader, upstream_writer),
            self._pipe(upstream_reader, client_writer),
            return_exceptions=True,
        )
        for writer in (client_writer, upstream_writer):
            self._writers.discard(writer)
            writer.transport.abort()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.transport.abort()


@pytest.fixture
def proxy(hub: Hub) -> Iterator[Proxy]:
    """A cuttable proxy in front of ``hub``."""
    with Proxy(int(hub.url.rsplit(":", 1)[1])) as running:
        yield running


@pytest.fixture
def definition_file(tmp_path: Path) -> Path:
    """A workflow file of three short delays."""
    import json

    path = tmp_path / "chain.json"
    path.write_text(json.dumps(chain("from-file", 3)))
    return path
