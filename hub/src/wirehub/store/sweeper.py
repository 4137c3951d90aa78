"""The sweeper's transactions: expired leases, due timers and dispatches nobody claimed.

Any number of sweepers may run at once. Each candidate is handled in a
transaction of its own that locks the execution with ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL (a sweeper never waits for another, nor for a worker's
transition: a locked execution is left for the next sweep) and checks again,
under the lock, that the lease is still expired or the timer still stored;
on SQLite the write lock taken at ``BEGIN`` serialises them. Applying a
timer deletes its row in the same transaction, so it fires once.

Due timers are fired in batches: one transaction locks up to
``TIMER_BATCH`` executions that have a due timer (skipping those another
sweeper or a worker holds) and applies their timers one after another, so a
thousand timers due at the same instant cost a few dozen commits, not a
thousand, and two sweepers take disjoint batches. Should a batch fail, its
timers are fired again one transaction each, so one timer that cannot be
applied does not hold back the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from wirehub.engine import StepStatus, StepTimedOut, live_timers
from wirehub.store.records import Dispatch, SweepResult
from wirehub.store.transition import EXECUTIONS, OUTBOX, STEP_RUNS, TIMERS, StoreCore, sql, timer_event

logger = logging.getLogger("wirehub.store")

SWEEP_CONCURRENCY = 8
"""Executions one sweep expires leases or fires timers of at once, on PostgreSQL."""
BACKLOG_RESEND_FACTOR = 10
"""Without ``resend``, a sent, unclaimed dispatch is sent again after this many redelivery intervals."""
TIMER_BATCH = 25
"""Timers one transaction fires at most."""
TIMER_LANES = 4
"""Transactions firing timers at once, on PostgreSQL (SQLite has one writer)."""

_Due = tuple[Any, str, str, int]
"""A due timer: ``(execution_id, kind, step_id, attempt)``."""


class Sweeper(StoreCore):
    """The store's side of the sweeper loop."""

    async def sweep(self, *, limit: int = 100, resend: bool = True) -> SweepResult:
        """Expires dead leases, fires due timers and returns dispatches to send again.

        Args:
            limit: At most this many leases, this many timers and this many
                dispatch records in one sweep.
            resend: Whether to send again dispatches that were sent but not
                claimed within the redelivery interval (those never sent are
                always returned). A sweeper passes False while the broker
                still holds unread messages: what it sent is then waiting
                for a free worker, not lost, and a copy would only queue
                behind it and cost a refused claim. Even then, one sent
                ``BACKLOG_RESEND_FACTOR`` intervals ago is sent again.

        Returns:
            What to send now (redeliveries, and the attempts that fired
            timers and expired leases scheduled), and how many leases expired
            and timers fired in this sweep.
        """
        now = self.now()
        s = STEP_RUNS.c
        async with self.sessions() as session, session.begin():
            leases = (
                await sql(
                    session,
                    select(s.execution_id, s.step_id, s.attempt)
                    .where(s.status == str(StepStatus.RUNNING), s.lease_expires_at < now)
                    .order_by(s.lease_expires_at)
                    .limit(limit),
                )
            ).all()
        expiring, expired = await self._by_execution(
            leases, lambda lease: self._expire(lease.execution_id, lease.step_id, lease.attempt)
        )
        fired, firing = await self._fire_due(limit)
        redelivered = await self._redeliver(limit, resend)
        return SweepResult(expiring + firing + redelivered, expired, fired, len(redelivered))

    async def pending_timers(self) -> int:
        """How many durable timers wait to fire (a gauge for operators)."""
        async with self.sessions() as session:
            count = await session.scalar(select(func.count()).select_from(TIMERS))
        return int(count or 0)

    async def _by_execution(
        self, rows: Sequence[Row[Any]], handle: Callable[[Row[Any]], Awaitable[list[Dispatch] | None]]
    ) -> tuple[list[Dispatch], int]:
        """Handles ``rows`` one transaction each; returns the dispatches made and how many were applied.

        On PostgreSQL up to ``SWEEP_CONCURRENCY`` executions are handled at
        once (the rows of one execution in order, so none skips a lock its
        own sibling holds): after a crash, a worker's sweeper expires the
        dead worker's leases while its event loop also runs dozens of
        attempts, and one transaction at a time made that take many seconds.
        SQLite serialises writers anyway: one at a time there.
        """
        groups: dict[Any, list[Row[Any]]] = {}
        for row in rows:
            groups.setdefault(row.execution_id, []).append(row)
        slots = asyncio.Semaphore(SWEEP_CONCURRENCY if self.sessions.kw["bind"].dialect.name == "postgresql" else 1)

        async def one_execution(group: list[Row[Any]]) -> list[list[Dispatch] | None]:
            async with slots:
                return [await handle(row) for row in group]

        async with asyncio.TaskGroup() as tasks:
            running = [tasks.create_task(one_execution(group)) for group in groups.values()]
        dispatches: list[Dispatch] = []
        applied = 0
        for task in running:
            for sent in task.result():
                if sent is not None:
                    applied += 1
                    dispatches += sent
        return dispatches, applied

    async def _expire(self, execution_id: Any, step_id: str, attempt: int) -> list[Dispatch] | None:
        """Times out one attempt whose lease lapsed; ``None`` when another got there first."""
        key = (step_id, attempt)
        async with self.sessions() as session, session.begin():
            loaded = await self.lock(session, execution_id, attempt=key, skip_locked=True)
            if loaded is None or loaded.attempt_row is None:
                return None
            row = loaded.attempt_row
            now = self.now()
            if row.status != str(StepStatus.RUNNING) or row.lease_expires_at is None or row.lease_expires_at >= now:
                return None  # renewed, finished or expired by another sweeper meanwhile
            outcome = await self.transition(session, loaded, StepTimedOut(step_id, attempt, now))
            return outcome.applied.dispatches if outcome.applied.accepted else None

    async def _fire_due(self, limit: int) -> tuple[int, list[Dispatch]]:
        """Fires up to ``limit`` due timers, in batches, several transactions at once on PostgreSQL."""
        budget = limit

        async def lane() -> tuple[int, list[Dispatch]]:
            nonlocal budget
            fired, dispatches = 0, []
            while budget > 0:
                size = min(TIMER_BATCH, budget)
                budget -= size
                taken, fired_now, sent = await self._fire_batch(size)
                budget += size - fired_now
                fired += fired_now
                dispatches += sent
                if taken < size or not fired_now:
                    break  # nothing more is due, or the rest is locked by others
            return fired, dispatches

        lanes = TIMER_LANES if self.sessions.kw["bind"].dialect.name == "postgresql" else 1
        results = await asyncio.gather(*(lane() for _ in range(lanes)), return_exceptions=True)
        fired, dispatches = 0, []
        failures = []
        for result in results:
            if isinstance(result, BaseException):
                failures.append(result)
            else:
                fired += result[0]
                dispatches += result[1]
        if failures and not fired:
            raise failures[0]
        for failure in failures:
            logger.warning("firing timers failed in one of %d transactions (%s)", lanes, failure)
        return fired, dispatches

    async def _fire_batch(self, size: int) -> tuple[int, int, list[Dispatch]]:
        """Fires up to ``size`` due timers in one transaction.

        Returns:
            How many due timers the batch took, how many fired, and the
            dispatches they made.
        """
        due: list[_Due] = []
        fired, dispatches = 0, []
        try:
            async with self.sessions() as session, session.begin():
                due = await self._lock_due(session, size)
                for timer in due:
                    sent = await self._fire_locked(session, *timer)
                    if sent is not None:
                        fired += 1
                        dispatches += sent
            return len(due), fired, dispatches
        except Exception as exc:
            if not due:
                raise  # the batch could not even be read: the database is away
            logger.warning("a batch of %d timers failed (%s); firing them one by one", len(due), exc)
        # One of them could not be applied: fire each alone, so that the others still fire.
        fired, dispatches, failures = 0, [], []
        for timer in due:
            try:
                sent = await self._fire(*timer)
            except Exception as exc:  # this one cannot be applied here (its plan does not compile in this process)
                failures.append(exc)
                logger.warning("timer %s of execution %s cannot fire here: %s", timer[1], timer[0], exc)
                continue
            if sent is not None:
                fired += 1
                dispatches += sent
        if len(failures) == len(due):
            raise failures[0]
        return len(due), fired, dispatches

    async def _lock_due(self, session: AsyncSession, size: int) -> list[_Due]:
        """Up to ``size`` due timers, their executions locked (those another transaction holds are skipped)."""
        t, e = TIMERS.c, EXECUTIONS.c
        rows = (
            await sql(
                session,
                select(t.execution_id, t.kind, t.step_id, t.attempt)
                .join(EXECUTIONS, e.id == t.execution_id)
                .where(t.due_at <= self.now())
                .order_by(t.due_at)
                .limit(size)
                .with_for_update(of=EXECUTIONS, skip_locked=True),
            )
        ).all()
        return [(row.execution_id, row.kind, row.step_id, row.attempt) for row in rows]

    async def _fire(self, execution_id: Any, kind: str, step_id: str, attempt: int) -> list[Dispatch] | None:
        """Fires one due timer in a transaction of its own; ``None`` when it is gone."""
        async with self.sessions() as session, session.begin():
            return await self._fire_locked(session, execution_id, kind, step_id, attempt)

    async def _fire_locked(
        self, session: AsyncSession, execution_id: Any, kind: str, step_id: str, attempt: int
    ) -> list[Dispatch] | None:
        """Fires one due timer in ``session``; ``None`` when it is gone (fired by another sweeper, no longer live)."""
        loaded = await self.lock(session, execution_id, skip_locked=True)
        if loaded is None:
            return None
        now = self.now()
        live = any(
            (str(timer.kind), timer.step_id or "", timer.attempt) == (kind, step_id, attempt) and timer.at <= now
            for timer in live_timers(loaded.state)
        )
        if not live:
            return None  # an earlier timer of the batch, or another sweeper, ended it
        outcome = await self.transition(session, loaded, timer_event(kind, step_id, attempt, now))
        return outcome.applied.dispatches if outcome.applied.accepted else None

    async def _redeliver(self, limit: int, resend: bool) -> list[Dispatch]:
        """Dispatch records unclaimed for longer than the redelivery interval (``resend``), or far longer.

        The dispatcher sends a record right after the commit that made it and
        writes nothing back, so a record counts as handed out at its last
        redelivery (``delivered_at``) or else when it was made. Without
        ``resend`` (the stream still holds unread messages: the original is
        waiting, not lost) a record is sent again only after
        ``BACKLOG_RESEND_FACTOR`` intervals (a worker that read it died before
        claiming it while the stream never ran empty): late, never lost.
        """
        now = self.now()
        before = now - timedelta(seconds=self.redelivery_seconds)
        o = OUTBOX.c
        long_before = now - timedelta(seconds=self.redelivery_seconds * BACKLOG_RESEND_FACTOR)
        handed_out = func.coalesce(o.delivered_at, o.created_at)
        async with self.sessions() as session, session.begin():
            rows = (
                await sql(
                    session,
                    select(o.id, o.payload)
                    .where(handed_out <= (before if resend else long_before))
                    .order_by(o.created_at)
                    .limit(limit)
                    .with_for_update(skip_locked=True),
                )
            ).all()
            if not rows:
                return []
            await sql(
                session,
                update(OUTBOX)
                .where(o.id.in_([row.id for row in rows]))
                .values(delivered_at=now, deliveries=o.deliveries + 1),
            )
        return [msgspec.convert(row.payload, Dispatch) for row in rows]

    async def next_timer_due(self, after: datetime | None = None) -> datetime | None:
        """When the earliest stored timer due after ``after`` is due (the store's clock), or ``None``.

        A sweeper that follows timers sleeps until then instead of polling;
        with ``after`` the instant its last sweep began, a timer that sweep
        could have fired and did not (its execution locked by another
        transaction) is left to the regular interval.
        """
        earliest = select(func.min(TIMERS.c.due_at))
        if after is not None:
            earliest = earliest.where(TIMERS.c.due_at > after)
        async with self.reads() as session, session.begin():
            return (await sql(session, earliest)).scalar_one_or_none()
