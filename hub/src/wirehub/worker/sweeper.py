"""The sweeper loop: the database's clock, turned into events and dispatches."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from wirehub.worker.dispatcher import Dispatcher

if TYPE_CHECKING:
    from wirehub.store import ExecutionStore

logger = logging.getLogger("wirehub.worker")

BACKOFF_MAX = 10.0


class Sweeper:
    """Calls ``store.sweep()`` every ``interval`` seconds and sends the dispatches it returns.

    Each sweep expires dead leases (the attempt counts as timed out), fires
    due timers (retries, delays, timeouts) and returns what was committed but
    never delivered or never claimed. Any number of sweepers may run: the
    store makes them skip each other's rows. A sweep that failed (the database
    is away) is logged and tried again with backoff; a sweep that hit its
    limit is followed at once by the next.

    Args:
        store: The store to sweep.
        dispatcher: Sends what a sweep returns.
        interval: Seconds between sweeps.
        limit: Rows one sweep handles at most.
    """

    def __init__(self, store: ExecutionStore, dispatcher: Dispatcher, *, interval: float, limit: int = 100) -> None:
        self.store = store
        self.dispatcher = dispatcher
        self.interval = interval
        self.limit = limit
        self.sweeps = 0
        """Sweeps that completed."""
        self.changed = asyncio.Event()
        """Set after a sweep that expired a lease or fired a timer."""

    async def sweep_once(self) -> bool:
        """One sweep and the sending of its dispatches; True when it may have left work for the next."""
        result = await self.store.sweep(limit=self.limit, resend=await self._stream_drained())
        self.sweeps += 1
        if result.expired_leases or result.timers_fired:
            self.changed.set()
        await self.dispatcher.send(result.dispatches)
        busiest = max(len(result.dispatches), result.expired_leases, result.timers_fired)
        return busiest >= self.limit

    async def _stream_drained(self) -> bool:
        """Whether the workers have read every message sent (so an unclaimed dispatch may be lost).

        Only a Redis stream can say; with any other broker, or when Redis cannot say, True.
        """
        unread_of = getattr(self.dispatcher.broker, "unread", None)  # DispatchStreamBroker.unread
        if unread_of is None:
            return True
        try:
            unread = await unread_of()
        except Exception:  # Redis is away: resending is what brings back what it lost
            return True
        return not unread

    async def run(self, stop: asyncio.Event) -> None:
        """Sweeps until ``stop`` is set."""
        failures = 0
        while not stop.is_set():
            try:
                more = await self.sweep_once()
                failures = 0
            except Exception as exc:  # the database is away: try again, the work is still there
                failures += 1
                more = False
                logger.warning("sweep failed (%s); trying again", exc)
            if more:
                continue
            pause = self.interval if not failures else min(self.interval * 2**failures, BACKOFF_MAX)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
