"""A live-updates client for the tests, over Litestar's test WebSocket session.

The test session blocks its caller's thread while it waits (a ``queue.Queue``);
the app runs in the client's portal thread and, distributed, a worker runs in
the test's event loop. So every blocking step runs in a thread here: the
test's loop keeps running its worker meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from litestar.exceptions import WebSocketDisconnect
from litestar.testing import WebSocketTestSession

from tests.api.conftest import Api, Headers

TIMEOUT = 20.0
T = TypeVar("T")


async def in_app(api: Api, work: Callable[[], Awaitable[T]]) -> T:
    """Runs ``work`` in the app's event loop (its portal thread), where its services' connections live."""
    return await asyncio.to_thread(api.client.blocking_portal.call, work)


class Live:
    """One open live connection."""

    def __init__(self, session: WebSocketTestSession) -> None:
        self.session = session
        self.closed = False

    def send(self, message: Any) -> None:
        """Sends a JSON message."""
        self.session.send_json(message)

    def send_text(self, text: str) -> None:
        """Sends a text frame as it is."""
        self.session.send_text(text)

    async def receive(self, timeout: float = TIMEOUT) -> dict[str, Any]:  # noqa: ASYNC109 - a blocking queue's wait
        """The next message."""
        message: dict[str, Any] = await asyncio.to_thread(self.session.receive_json, timeout=timeout)
        return message

    async def until(self, kind: str, subscription: str | None = None) -> list[dict[str, Any]]:
        """Messages up to and including the first of ``type == kind`` (for ``subscription``, when given)."""
        received: list[dict[str, Any]] = []
        while True:
            message = await self.receive()
            received.append(message)
            if message["type"] == kind and subscription in (None, message.get("subscription")):
                return received

    async def close(self) -> None:
        """Leaves, as a client does (once)."""
        if not self.closed:
            self.closed = True
            with contextlib.suppress(WebSocketDisconnect):  # the server closed first
                await asyncio.to_thread(self.session.__exit__, None, None, None)


async def ticket(api: Api, headers: Headers) -> str:
    """A fresh live ticket for the user of ``headers``."""
    response = await api.client.post("/api/v1/live/tickets", headers=headers)
    assert response.status_code == 201, response.text
    value: str = response.json()["ticket"]
    return value


async def connect(api: Api, ticket_value: str | None, *, origin: str | None = None) -> Live:
    """Opens ``/api/v1/live`` with the ticket.

    Raises:
        WebSocketDisconnect: The handshake was refused (its ``code`` says why).
    """
    url = "/api/v1/live" if ticket_value is None else f"/api/v1/live?ticket={ticket_value}"
    session = await api.client.websocket_connect(url, headers={"origin": origin} if origin else None)
    await asyncio.to_thread(session.__enter__)
    return Live(session)


@contextlib.asynccontextmanager
async def open_live(api: Api, headers: Headers, *, origin: str | None = None) -> AsyncIterator[Live]:
    """A live connection of the user of ``headers`` for the ``async with`` block.

    The client leaves at the block's end, also when the test failed: a connection left open
    would keep the app's event loop, and so the test's teardown, waiting for ever.
    """
    async with opened(api, await ticket(api, headers), origin=origin) as live:
        yield live


@contextlib.asynccontextmanager
async def opened(api: Api, ticket_value: str | None, *, origin: str | None = None) -> AsyncIterator[Live]:
    """``connect`` for the ``async with`` block."""
    live = await connect(api, ticket_value, origin=origin)
    try:
        yield live
    finally:
        await live.close()
