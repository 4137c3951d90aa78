"""Reads dispatch messages from the broker, one free slot at a time, and survives Redis going away.

taskiq's own worker loop (``Receiver.listen``) dies with the broker's listen
loop when Redis restarts, killing every task the process runs. This loop
wraps ``broker.listen()`` instead: on a connection error it waits (with
backoff), recreates the consumer group (Redis may have come back empty) and
listens again, while the running attempts carry on. Each message goes through
taskiq's ``Receiver.callback``, so the task and its middlewares run as taskiq
runs them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

from redis.exceptions import RedisError
from taskiq import AsyncBroker
from taskiq.acks import AckableMessage, AcknowledgeType
from taskiq.receiver import Receiver

from wirehub.worker.redis_stream import DispatchStreamBroker
from wirehub.worker.slots import Slots

logger = logging.getLogger("wirehub.worker")

CANCEL_WAIT_SECONDS = 1.0
"""How long stopping waits for a cancelled broker read to end."""

T = TypeVar("T")

BACKOFF_FIRST = 0.1
BACKOFF_MAX = 5.0


class Consumer:
    """Takes messages from a listening broker and runs each in a slot of its own.

    It asks the broker for a message only once a slot is free, and from the Redis stream, once
    one came, for one more per free slot without waiting: a worker never holds a message it
    cannot start.

    Args:
        broker: A broker that can listen (``DispatchStreamBroker``), started.
        concurrency: How many messages run at once.
        slots: The worker's slots, shared with its step runner's eager claims (by
            default ``concurrency`` slots of the consumer's own).
    """

    def __init__(self, broker: AsyncBroker, *, concurrency: int, slots: Slots | None = None) -> None:
        self.broker = broker
        self.slots = slots if slots is not None else Slots(concurrency)
        self.receiver = Receiver(
            broker,
            max_async_tasks=concurrency,
            propagate_exceptions=False,
            run_startup=False,
            ack_type=AcknowledgeType.MANUAL,  # the task acknowledges once the database owns the attempt
        )
        self._running: set[asyncio.Task[None]] = set()
        self.reconnects = 0
        """How many times the listen loop lost its connection and came back."""

    @property
    def running(self) -> int:
        """Messages being handled now."""
        return len(self._running)

    async def run(self, stop: asyncio.Event) -> None:
        """Listens until ``stop`` is set; connection errors are waited out, never raised."""
        delay = BACKOFF_FIRST
        while not stop.is_set():
            try:
                if self.reconnects and isinstance(self.broker, DispatchStreamBroker):
                    await self.broker.ensure_group()
                await self._listen(stop)
            except (RedisError, OSError) as exc:
                self.reconnects += 1
                logger.warning("broker connection lost (%s); listening again in %.1fs", exc, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                delay = min(delay * 2, BACKOFF_MAX)
            else:
                delay = BACKOFF_FIRST

    async def drain(self, within: float | None = None) -> bool:
        """Waits for the messages being handled; True when none is left."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=within)
        return not self._running

    async def _listen(self, stop: asyncio.Event) -> None:
        """Reads a message once a slot is free; from the Redis stream, then one more per free slot.

        The stream's second read does not wait, and its messages start with the first, so their
        claims go in one transaction (the step runner batches the claims that arrive together).
        While it waits, the first read holds one slot only: the slots free meanwhile stay for what
        results claim (eager claims).
        """
        stream = self.broker if isinstance(self.broker, DispatchStreamBroker) else None
        messages: AsyncIterator[bytes | AckableMessage] | None = None if stream else aiter(self.broker.listen())

        async def first() -> list[bytes | AckableMessage]:
            if stream is not None:
                return list(await stream.read(1))
            assert messages is not None  # not the stream: listening
            return [await anext(messages)]

        stopping = asyncio.ensure_future(stop.wait())
        try:
            while True:
                if not await _first(self.slots.acquire(), stopping):
                    return
                try:
                    received = await _first(first(), stopping)
                except BaseException:
                    self.slots.give()
                    raise
                if not received:
                    # Stopping while a read was under way (a message it took stays pending and
                    # unacknowledged; the database dispatches it again, since nobody claimed it),
                    # or the stream's read waited for nothing.
                    self.slots.give()
                    if received is None:
                        return
                    continue
                if stream is not None:
                    received += await self._more(stream)
                for message in received:
                    self._start(message)
        finally:
            stopping.cancel()
            if messages is not None:
                with contextlib.suppress(BaseException):
                    await messages.aclose()  # type: ignore[attr-defined]

    async def _more(self, stream: DispatchStreamBroker) -> list[AckableMessage]:
        """One more message per free slot, those in the stream now: their slots taken, the others given back."""
        more = self.slots.take(self.slots.size)
        if not more:
            return []
        found: list[AckableMessage] = []
        try:
            found = await stream.read(more, wait=False)
        except (RedisError, OSError) as exc:  # the first message is ours: it starts all the same
            logger.warning("could not read more dispatch messages: %s", exc)
        self.slots.give(more - len(found))
        return found

    def _start(self, message: bytes | AckableMessage) -> None:
        task = asyncio.create_task(self._handle(message))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _handle(self, message: bytes | AckableMessage) -> None:
        try:
            await self.receiver.callback(message)
        except Exception:
            logger.exception("handling a dispatch message failed")
        finally:
            self.slots.give()


async def _first(work: Awaitable[T], stopping: asyncio.Future[Any]) -> T | None:
    """What ``work`` returns, or None (``work`` cancelled) when ``stopping`` completes first."""
    task = asyncio.ensure_future(work)
    both: set[asyncio.Future[Any]] = {task, stopping}
    done, _ = await asyncio.wait(both, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        return task.result()
    task.cancel()
    # A cancelled Redis read normally ends at once; one that does not (the client is stuck closing its
    # connection) is left behind rather than holding the worker's stop: the pool is closed after it.
    finished, _ = await asyncio.wait({task}, timeout=CANCEL_WAIT_SECONDS)
    if not finished:
        logger.warning("a cancelled broker read did not end within %.1fs; leaving it", CANCEL_WAIT_SECONDS)
        task.add_done_callback(_retrieve)
    elif not task.cancelled():
        task.exception()  # retrieved: it ended in an error or a late result nobody wants
    return None


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()
