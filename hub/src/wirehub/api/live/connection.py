"""One live connection: its subscriptions, filtered by what its user may read, within its bounds.

Three tasks serve it: one reads the client's messages (and ends when the
client goes), one writes the outbox to the socket, and each subscription
fills the outbox. When any of the first two ends, or the connection must
close, everything is cancelled and the subscriptions let go of their
channels: nothing outlives the socket, so a stopping server does not hang.

Bounds: ``MAX_MESSAGE_BYTES`` per client message (a larger one closes the
connection, 1009), ``MAX_SUBSCRIPTIONS`` at once, every client message
counted by the user's rate limit, and a bounded outbox: a client that does
not read for ``SLOW_CLIENT_SECONDS`` while it is full is disconnected (1008)
rather than buffered for without bound; it reconnects with ``after``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import msgspec
from litestar import WebSocket
from litestar.exceptions import WebSocketDisconnect

from wirehub.api.live.protocol import (
    MAX_MESSAGE_BYTES,
    ErrorMessage,
    Notice,
    ProtocolError,
    Target,
    encode,
    event_message,
    parse,
)
from wirehub.api.problems import ApiError
from wirehub.api.security.principal import Principal, load_principal
from wirehub.api.services import HubServices
from wirehub.events import decode_event
from wirehub.store.events import ExecutionEvent

logger = logging.getLogger("wirehub.api")

PERMISSION = "execution:read"
MAX_SUBSCRIPTIONS = 20
"""Subscriptions one connection may hold at once."""
OUTBOX_MESSAGES = 256
"""Messages waiting to be written to one client, at most."""
SLOW_CLIENT_SECONDS = 5.0
"""How long a message may wait for room in a full outbox before the client counts as too slow."""

CLOSE_TOO_BIG = 1009
CLOSE_POLICY = 1008


class _Closing(Exception):
    """The connection must close with ``code``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


CANCEL_ROUNDS = 5
CANCEL_WAIT_SECONDS = 1.0


class LiveConnection:
    """The live updates of one accepted WebSocket.

    Args:
        socket: The accepted socket.
        services: The API's services.
        principal: Its user, loaded at the handshake.
    """

    def __init__(self, socket: WebSocket[Any, Any, Any], services: HubServices, principal: Principal) -> None:
        self.socket = socket
        self.services = services
        self.principal = principal
        self.subscriptions: dict[str, asyncio.Task[None]] = {}
        self._outbox: asyncio.Queue[bytes] = asyncio.Queue(maxsize=OUTBOX_MESSAGES)
        self._closing: _Closing | None = None
        self._stop = asyncio.Event()

    async def run(self) -> None:
        """Serves the connection until the client leaves or it must close."""
        tasks = [
            asyncio.create_task(self._receive(), name="live receive"),
            asyncio.create_task(self._send(), name="live send"),
            asyncio.create_task(self._stop.wait(), name="live stop"),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await cancel_all(tasks + list(self.subscriptions.values()))
            self.subscriptions.clear()
        if self._closing is not None:
            with contextlib.suppress(Exception):  # the client may be gone already
                await self.socket.close(code=self._closing.code, reason=self._closing.reason)

    def close(self, code: int, reason: str) -> None:
        """Makes the connection close with ``code`` (the first reason wins)."""
        if self._closing is None:
            self._closing = _Closing(code, reason)
        self._stop.set()

    async def _send(self) -> None:
        while True:
            data = await self._outbox.get()
            await self.socket.send_data(data.decode())

    async def _put(self, data: bytes) -> None:
        """Queues a message; a client whose outbox stays full for ``SLOW_CLIENT_SECONDS`` is disconnected."""
        try:
            async with asyncio.timeout(SLOW_CLIENT_SECONDS):
                await self._outbox.put(data)
        except TimeoutError:
            self.close(CLOSE_POLICY, "too slow: the client did not read its messages (reconnect with after)")
            raise asyncio.CancelledError from None

    async def _error(
        self, status: int, code: str, detail: str, *, subscription: str | None = None, retry_after: int | None = None
    ) -> None:
        message = ErrorMessage(status, code, detail, subscription=subscription, retry_after=retry_after)
        await self._put(encode(message))

    async def _receive(self) -> None:
        while True:
            try:
                data = await self.socket.receive_data("text")
            except WebSocketDisconnect:
                return
            if len(data) > MAX_MESSAGE_BYTES or len(data.encode()) > MAX_MESSAGE_BYTES:
                self.close(CLOSE_TOO_BIG, f"a message has at most {MAX_MESSAGE_BYTES} bytes")
                return
            try:
                await self.services.limiter.check(self.principal)
            except ApiError as exc:
                retry = int(exc.headers.get("Retry-After", "1"))
                await self._error(429, "rate-limited", exc.detail, retry_after=retry)
                continue
            try:
                action, target = parse(data)
            except ProtocolError as exc:
                await self._error(400, "invalid-message", exc.detail)
                continue
            if action == "subscribe":
                await self._subscribe(target)
            else:
                await self._unsubscribe(target)

    async def _unsubscribe(self, target: Target) -> None:
        task = self.subscriptions.pop(target.key, None)
        if task is None:
            await self._error(404, "not-subscribed", "there is no such subscription", subscription=target.key)
            return
        task.cancel()
        await self._put(encode(Notice(type="unsubscribed", subscription=target.key)))

    async def _subscribe(self, target: Target) -> None:
        key = target.key
        if key in self.subscriptions:
            await self._error(409, "already-subscribed", "unsubscribe first to subscribe again", subscription=key)
            return
        if len(self.subscriptions) >= MAX_SUBSCRIPTIONS:
            await self._error(
                429, "too-many-subscriptions", f"a connection holds at most {MAX_SUBSCRIPTIONS}", subscription=key
            )
            return
        async with self.services.sessions() as session:
            principal = await load_principal(session, self.principal.user_id)
        if principal is None:
            self.close(CLOSE_POLICY, "the user is disabled")
            return
        self.principal = principal
        work = await self._authorized(target)
        if work is None and target.all:
            await self._error(403, "forbidden", f"this needs the {PERMISSION} permission", subscription=key)
            return
        if work is None:
            what = "execution" if target.execution is not None else "workflow"
            await self._error(404, "not-found", f"the {what} was not found", subscription=key)
            return
        await self._put(encode(Notice(type="subscribed", subscription=key)))
        self.subscriptions[key] = asyncio.create_task(self._guarded(key, work), name=f"live {key}")

    async def _authorized(self, target: Target) -> Callable[[], Awaitable[None]] | None:
        """The subscription's work, if the user may read what it follows; ``None`` hides whether it exists."""
        workspaces = self.services.workspaces
        sessions = self.services.sessions
        if target.execution is not None:
            found = await workspaces.execution(sessions, target.execution)
            if found is None or not self.principal.can(PERMISSION, found[1]):
                return None
            execution_id, after = target.execution, target.after
            return lambda: self._follow(execution_id, after)
        if target.workflow is not None:
            workspace = await workspaces.workflow(sessions, target.workflow)
            if workspace is None or not self.principal.can(PERMISSION, workspace):
                return None
            channel = self.services.channels.workflow_channel(target.workflow)
            return lambda: self._listen(target.key, channel, None)
        visible = self.principal.visible_workspaces(PERMISSION)
        if visible is not None and not visible:
            return None
        return lambda: self._listen("all", self.services.channels.all_channel, visible)

    async def _guarded(self, key: str, work: Callable[[], Awaitable[None]]) -> None:
        try:
            await work()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("the live subscription %s failed", key)
            self.subscriptions.pop(key, None)
            await self._error(500, "internal-error", "the subscription failed; subscribe again", subscription=key)

    async def _follow(self, execution_id: UUID, after: int) -> None:
        key = f"execution:{execution_id}"
        async for event in self.services.events.follow(execution_id, after=after):
            await self._put(event_message(key, event))
        self.subscriptions.pop(key, None)
        await self._put(encode(Notice(type="ended", subscription=key)))

    async def _listen(self, key: str, channel: str, visible: frozenset[UUID] | None) -> None:
        async def deliver(data: bytes) -> None:
            try:
                event = decode_event(data)
            except msgspec.DecodeError:
                return
            if await self._may_see(event, visible):
                await self._put(event_message(key, event))

        async with (
            self.services.channels.subscribe([channel]) as subscriber,
            subscriber.run_in_background(deliver, join=False),
        ):
            await asyncio.Event().wait()  # until unsubscribed or the connection ends

    async def _may_see(self, event: ExecutionEvent, visible: frozenset[UUID] | None) -> bool:
        if visible is None:
            return True
        workspace = await self.services.workspaces.workflow(self.services.sessions, event.workflow_id)
        return workspace is not None and workspace in visible


async def cancel_all(tasks: list[asyncio.Task[Any]]) -> None:
    """Cancels ``tasks`` and waits for them, cancelling again those that are still running after a while.

    A cancellation can be swallowed on its way (Litestar's ``Subscriber.stop``
    suppresses ``CancelledError`` while it awaits its own worker): a task
    that caught it there goes on to wait for ever, and would hold the
    connection, and the app's shutdown, open.
    """
    pending = {task for task in tasks if not task.done()}
    for _ in range(CANCEL_ROUNDS):
        if not pending:
            return
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=CANCEL_WAIT_SECONDS)
    for task in pending:
        logger.error("a live connection's task %s would not end", task.get_name())
