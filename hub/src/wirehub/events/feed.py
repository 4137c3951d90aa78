"""``EventFeed.follow``: an execution's events from the history, then live, without a gap or a duplicate."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from uuid import UUID

import msgspec

from wirehub.events.channels import ExecutionChannels, decode_event
from wirehub.store import ExecutionStore
from wirehub.store.events import ExecutionEvent, recorded_events

logger = logging.getLogger("wirehub.events")

CATCH_UP_SECONDS = 1.0
"""How long ``follow`` waits for a live event before it looks at the history anyway."""


class EventFeed:
    """Executions' events for a subscriber: what the store recorded, then what it publishes.

    Args:
        store: Where the history is read from.
        channels: Where live events come from.
        catch_up_seconds: With no live event for this long, the history is read
            again: an event whose publishing failed (Redis was down) is then
            delivered late rather than never.
    """

    def __init__(
        self, store: ExecutionStore, channels: ExecutionChannels, *, catch_up_seconds: float = CATCH_UP_SECONDS
    ) -> None:
        if catch_up_seconds <= 0:
            raise ValueError("catch_up_seconds must be positive")
        self.store = store
        self.channels = channels
        self.catch_up_seconds = catch_up_seconds

    async def follow(self, execution_id: UUID, *, after: int = 0) -> AsyncIterator[ExecutionEvent]:
        """Yields the execution's events with a sequence number above ``after``, in order, each once.

        It subscribes first, then reads the history, then goes on with the
        live events, dropping those already yielded. A live event that skips
        a number (published out of order by another process, or one before it
        was lost) and a quiet ``catch_up_seconds`` both send it back to the
        history for what it missed. When it cannot subscribe (Redis is away)
        it follows the history alone, every ``catch_up_seconds``. It ends
        after the event that leaves the execution over (at once if it was
        already over).

        Raises:
            ExecutionNotFoundError: No such execution.
        """
        live: asyncio.Queue[bytes] = asyncio.Queue(maxsize=1)  # the subscriber's own backlog is the buffer
        async with contextlib.AsyncExitStack() as stack:
            try:
                subscriber = await stack.enter_async_context(
                    self.channels.subscribe([self.channels.execution_channel(execution_id)])
                )
                await stack.enter_async_context(subscriber.run_in_background(live.put, join=False))
            except Exception as exc:  # Redis is away: the history alone, read every catch_up_seconds
                logger.warning("no live events for %s (%s): following its history", execution_id, exc)
            last = after
            while True:
                # The history: at the start, after a gap, after a quiet while.
                for event in await recorded_events(self.store, execution_id, after=last):
                    yield event
                    last = event.sequence
                    if event.terminal:
                        return
                # Live events, while they come in order.
                while True:
                    try:
                        async with asyncio.timeout(self.catch_up_seconds):
                            data = await live.get()
                    except TimeoutError:
                        break
                    try:
                        event = decode_event(data)
                    except msgspec.DecodeError:
                        logger.warning("a message on %s is not an execution event", execution_id)
                        continue
                    if event.sequence <= last:
                        continue  # already yielded from the history
                    if event.sequence != last + 1:
                        break  # a gap: the history has what is missing
                    yield event
                    last = event.sequence
                    if event.terminal:
                        return
