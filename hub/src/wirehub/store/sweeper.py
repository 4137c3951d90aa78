"""The sweeper's transactions: expired leases, due timers and dispatches nobody claimed.

Any number of sweepers may run at once. Each candidate is handled in a
transaction of its own that locks the execution with ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL (a sweeper never waits for another, nor for a worker's
transition: a locked execution is left for the next sweep) and checks again,
under the lock, that the lease is still expired or the timer still stored;
on SQLite the write lock taken at ``BEGIN`` serialises them. Applying a
timer deletes its row in the same transaction, so it fires once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import Row, and_, func, or_, select, update

from wirehub.engine import StepStatus, StepTimedOut
from wirehub.store.records import Dispatch, SweepResult
from wirehub.store.transition import OUTBOX, STEP_RUNS, TIMERS, StoreCore, sql, timer_event

SWEEP_CONCURRENCY = 8
"""Executions one sweep expires leases or fires timers of at once, on PostgreSQL."""
BACKLOG_RESEND_FACTOR = 10
"""Without ``resend``, a sent, unclaimed dispatch is sent again after this many redelivery intervals."""


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
        s, t = STEP_RUNS.c, TIMERS.c
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
            timers = (
                await sql(
                    session,
                    select(t.execution_id, t.kind, t.step_id, t.attempt)
                    .where(t.due_at <= now)
                    .order_by(t.due_at)
                    .limit(limit),
                )
            ).all()
        expiring, expired = await self._by_execution(
            leases, lambda lease: self._expire(lease.execution_id, lease.step_id, lease.attempt)
        )
        firing, fired = await self._by_execution(
            timers, lambda timer: self._fire(timer.execution_id, timer.kind, timer.step_id, timer.attempt)
        )
        return SweepResult(expiring + firing + await self._redeliver(limit, resend), expired, fired)

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

    async def _fire(self, execution_id: Any, kind: str, step_id: str, attempt: int) -> list[Dispatch] | None:
        """Fires one due timer; ``None`` when it is gone (fired by another sweeper, or no longer live)."""
        t = TIMERS.c
        async with self.sessions() as session, session.begin():
            loaded = await self.lock(session, execution_id, skip_locked=True)
            if loaded is None:
                return None
            now = self.now()
            still = (
                await sql(
                    session,
                    select(t.id).where(
                        t.execution_id == execution_id,
                        t.kind == kind,
                        t.step_id == step_id,
                        t.attempt == attempt,
                        t.due_at <= now,
                    ),
                )
            ).first()
            if still is None:
                return None
            outcome = await self.transition(session, loaded, timer_event(kind, step_id, attempt, now))
            return outcome.applied.dispatches if outcome.applied.accepted else None

    async def _redeliver(self, limit: int, resend: bool) -> list[Dispatch]:
        """Dispatch records unsent, or sent and unclaimed (``resend``), for longer than the redelivery interval."""
        now = self.now()
        before = now - timedelta(seconds=self.redelivery_seconds)
        o = OUTBOX.c
        unsent = and_(o.delivered_at.is_(None), o.created_at <= before)
        # Without ``resend`` a sent dispatch is still sent again once it is far older (a worker that read
        # it died before claiming it while the stream never ran empty): late, never lost.
        long_before = now - timedelta(seconds=self.redelivery_seconds * BACKLOG_RESEND_FACTOR)
        async with self.sessions() as session, session.begin():
            rows = (
                await sql(
                    session,
                    select(o.id, o.payload)
                    .where(or_(unsent, o.delivered_at <= (before if resend else long_before)))
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
