"""The sweeper loop: the database's clock, turned into events and dispatches."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import TYPE_CHECKING

from wirehub.metrics import QUEUE_DEPTH, TIMERS_PENDING, observe_sweep
from wirehub.worker.dispatcher import Dispatcher

if TYPE_CHECKING:
    from wirehub.store import ExecutionStore

logger = logging.getLogger("wirehub.worker")

BACKOFF_MAX = 10.0
MIN_PAUSE = 0.001
GAUGE_EVERY_SWEEPS = 10
"""The pending-timers gauge is counted on every tenth sweep."""
TRIM_EVERY_SWEEPS = 10
"""The dispatch stream is trimmed of what was read and acknowledged on every tenth sweep."""
"""Shortest sleep before a timer that is not due yet: the store's clock and the loop's may differ by a hair."""


class Sweeper:
    """Calls ``store.sweep()`` every ``interval`` seconds and sends the dispatches it returns.

    Each sweep expires dead leases (the attempt counts as timed out), fires
    due timers (retries, delays, timeouts) and returns what was committed but
    never delivered or never claimed. Any number of sweepers may run: the
    store makes them skip each other's rows. A sweep that failed (the database
    is away) is logged and tried again with backoff; a sweep that hit its
    limit is followed at once by the next.

    A sweeper that ``follows_timers`` (the embedded hub's, its database's
    only one) also sweeps when the earliest stored timer is due: after each
    sweep it reads that instant and sleeps until it, or ``interval`` at
    most, and ``timer_written`` (called once a transaction that wrote a timer
    has ended) makes it look again. Timers then fire on time without polling.

    Args:
        store: The store to sweep.
        dispatcher: Sends what a sweep returns.
        interval: Seconds between sweeps (at most, when following timers).
        limit: Rows one sweep handles at most.
        follows_timers: Whether to sleep until the next due timer (see above).
    """

    def __init__(
        self,
        store: ExecutionStore,
        dispatcher: Dispatcher,
        *,
        interval: float,
        limit: int = 100,
        follows_timers: bool = False,
    ) -> None:
        self.store = store
        self.dispatcher = dispatcher
        self.interval = interval
        self.limit = limit
        self.follows_timers = follows_timers
        self.sweeps = 0
        """Sweeps that completed."""
        self.changed = asyncio.Event()
        """Set after a sweep that expired a lease or fired a timer."""
        self._written = asyncio.Event()
        self._hint: datetime | None = None
        """The earliest due instant ``timer_written`` was told of since the last look at the timers."""

    def timer_written(self, due: datetime | None = None) -> None:
        """A transaction that wrote a timer has ended: look at the timers again before sleeping on.

        Args:
            due: The earliest instant the transaction's timers are due, when known:
                a sleep that already ends by then goes on without reading the timers.
        """
        if due is None:
            self._hint = None
        elif self._hint is not None and due >= self._hint:
            return
        else:
            self._hint = due
        self._written.set()

    async def sweep_once(self) -> bool:
        """One sweep and the sending of its dispatches; True when it may have left work for the next."""
        result = await self.store.sweep(limit=self.limit, resend=await self._stream_drained())
        self.sweeps += 1
        observe_sweep(result.expired_leases, result.timers_fired, len(result.dispatches), result.redelivered)
        if self.sweeps % GAUGE_EVERY_SWEEPS == 1:
            TIMERS_PENDING.set(await self.store.pending_timers())
        if result.expired_leases or result.timers_fired:
            self.changed.set()
        await self.dispatcher.send(result.dispatches)
        if self.sweeps % TRIM_EVERY_SWEEPS == 1:
            await self._trim_stream()
        busiest = max(len(result.dispatches), result.expired_leases, result.timers_fired)
        return busiest >= self.limit

    async def _trim_stream(self) -> None:
        """Trims the dispatch stream of what every worker read and acknowledged (a Redis stream only)."""
        trim = getattr(self.dispatcher.broker, "trim", None)  # DispatchStreamBroker.trim
        if trim is None:
            return
        try:
            await trim()
        except Exception as exc:  # Redis is away: the next trim catches up
            logger.warning("could not trim the dispatch stream (%s)", exc)

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
        QUEUE_DEPTH.set(unread or 0)
        return not unread

    async def run(self, stop: asyncio.Event) -> None:
        """Sweeps until ``stop`` is set."""
        failures = 0
        while not stop.is_set():
            began = self.store.now()
            try:
                more = await self.sweep_once()
                failures = 0
            except Exception as exc:  # the database is away: try again, the work is still there
                failures += 1
                more = False
                logger.warning("sweep failed (%s); trying again", exc)
            if more:
                continue
            if failures:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), min(self.interval * 2**failures, BACKOFF_MAX))
            elif self.follows_timers:
                await self._sleep_until_due(stop, began)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.interval)

    async def _sleep_until_due(self, stop: asyncio.Event, swept: datetime) -> None:
        """Sleeps until the earliest timer is due, ``interval`` at most, or ``stop``.

        A timer due before ``swept`` (when the last sweep began) that is still
        stored could not be fired by it: it waits for the interval, so that
        it cannot make the sweeper spin.
        """
        loop = asyncio.get_running_loop()
        latest = loop.time() + self.interval
        read = True
        due: datetime | None = None
        while not stop.is_set():
            if read:
                self._written.clear()  # a timer written from here on sets it again
                self._hint = None
                try:
                    due = await self.store.next_timer_due(after=swept)
                except Exception as exc:  # the database is away: the next sweep says so and backs off
                    logger.warning("could not read the next timer (%s)", exc)
                    due = None
            elif self._hint is not None and (due is None or self._hint < due):
                due = self._hint
            wake = latest if due is None else min(latest, loop.time() + (due - self.store.now()).total_seconds())
            if wake <= loop.time():
                return  # a timer is due, or the interval is over: sweep now
            stopping = asyncio.ensure_future(stop.wait())
            written = asyncio.ensure_future(self._written.wait())
            try:
                await asyncio.wait(
                    {stopping, written}, timeout=max(MIN_PAUSE, wake - loop.time()), return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                stopping.cancel()
                written.cancel()
            if not written.done() or written.cancelled():
                return  # the time has come (or stop)
            read = self._hint is None  # told when the new timer is due: no need to read them
            self._written.clear()
