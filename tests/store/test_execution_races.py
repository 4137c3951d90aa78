"""Sweepers and claimers racing over the same timers, leases and dispatches: each takes effect once.

Every store call opens its own session, so the asyncio tasks below run
separate transactions: real concurrency on PostgreSQL (row locks, ``SKIP
LOCKED``), the write lock taken in turn on SQLite.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.store.executions_support import RETRY, T0, Harness, make_harness
from wirehub.engine import ErrorInfo, StepFailed, StepSucceeded, TimerFired
from wirehub.plugins import Registry
from wirehub.store import Claim, Dispatch, HistoryEntry, SweepResult, Timer, session_factory

HISTORY: Any = HistoryEntry.__table__
TIMERS: Any = Timer.__table__
EXECUTIONS = 4
FAN_OUT = ["a", "b", "c", "d", "e"]
FAILURE = ErrorInfo(kind="http.status", message="503", retryable=True)


@pytest.fixture
async def hub(migrated: AsyncEngine, registry: Registry) -> Harness:
    return make_harness(migrated, registry)


def _fan_out() -> dict[str, Any]:
    return {
        "name": "fan-out",
        "steps": [
            {"id": step, "type": "core.transform", "config": {"expression": "input"}, **RETRY} for step in FAN_OUT
        ],
    }


async def _claimers(hub: Harness, dispatches: list[Dispatch], count: int = 4) -> list[Claim]:
    """``count`` workers that each try every dispatch (each delivered to all of them), in their own order."""

    async def worker(name: str) -> list[Claim]:
        mine = dispatches[:]
        random.Random(name).shuffle(mine)
        claims = []
        for dispatch in mine:
            claim = await hub.store.claim(dispatch, name)
            if claim is not None:
                claims.append(claim)
        return claims

    results = await asyncio.gather(*(worker(f"w{index}") for index in range(count)))
    return [claim for claims in results for claim in claims]


async def _sweepers(hub: Harness, count: int = 2, rounds: int = 3) -> list[SweepResult]:
    async def sweeper() -> list[SweepResult]:
        return [await hub.store.sweep(limit=7) for _ in range(rounds * len(FAN_OUT))]

    results = await asyncio.gather(*(sweeper() for _ in range(count)))
    return [result for results in results for result in results]


async def test_two_sweepers_and_four_claimers_race_and_each_timer_lease_and_attempt_counts_once(
    hub: Harness,
) -> None:
    workflow_id = await hub.workflow(_fan_out())
    started = [await hub.store.start(workflow_id, None, {"n": index}) for index in range(EXECUTIONS)]
    first = [dispatch for _, applied in started for dispatch in applied.dispatches]
    assert len(first) == EXECUTIONS * len(FAN_OUT)

    # Each attempt is claimed once, though every claimer was given every dispatch.
    claims = await _claimers(hub, first)
    assert sorted((c.execution_id, c.step_id) for c in claims) == sorted((d.execution_id, d.step_id) for d in first)

    # Every attempt fails: a retry timer each. Two sweepers race over the due timers.
    for claim in claims:
        assert (await hub.store.finish(claim, StepFailed(claim.step_id, 1, T0, FAILURE))).accepted
    hub.clock.advance(5)
    swept = await _sweepers(hub)
    assert sum(result.timers_fired for result in swept) == len(first)
    retries = [dispatch for result in swept for dispatch in result.dispatches]
    assert Counter((d.execution_id, d.step_id, d.attempt) for d in retries) == Counter(
        (d.execution_id, d.step_id, 2) for d in first
    )
    async with session_factory(hub.engine)() as session:
        fired = (await session.execute(select(HISTORY.c.execution_id, HISTORY.c.event))).all()
    timer_events = Counter(
        (row.execution_id, row.event["step_id"]) for row in fired if row.event["type"] == "timer_fired"
    )
    assert set(timer_events.values()) == {1}
    assert len(timer_events) == len(first)

    # The second attempts are claimed once each, their workers die, and two sweepers race over the leases.
    second = await _claimers(hub, retries + retries)  # every message delivered twice, too
    assert len(second) == len(first)
    hub.clock.advance(31)
    expired = await _sweepers(hub)
    assert sum(result.expired_leases for result in expired) == len(first)
    third = [dispatch for result in expired for dispatch in result.dispatches]
    assert third == []  # the timeouts wait for their retry timers
    hub.clock.advance(10)
    swept_again = await _sweepers(hub)
    third = [dispatch for result in swept_again for dispatch in result.dispatches]
    assert sorted((d.execution_id, d.step_id, d.attempt) for d in third) == sorted(
        (d.execution_id, d.step_id, 3) for d in first
    )


async def test_sweepers_and_claimers_running_together_finish_every_execution_once(hub: Harness) -> None:
    """Two sweepers feed four claimers, each given every dispatch, while the timers come due."""
    workflow_id = await hub.workflow(_fan_out())
    started = [await hub.store.start(workflow_id, None, {"n": index}) for index in range(EXECUTIONS)]
    first = [dispatch for _, applied in started for dispatch in applied.dispatches]
    for claim in await _claimers(hub, first):
        await hub.store.finish(claim, StepFailed(claim.step_id, 1, T0, FAILURE))
    hub.clock.advance(5)  # every retry timer is due

    queues: list[asyncio.Queue[Dispatch | None]] = [asyncio.Queue() for _ in range(4)]
    claimed: Counter[tuple[Any, str, int]] = Counter()

    async def sweeper() -> None:
        for _ in range(200):  # a bound, not a count: until no timer is left
            if not await hub.count(TIMERS):
                return
            for dispatch in (await hub.store.sweep(limit=3)).dispatches:
                for queue in queues:
                    queue.put_nowait(dispatch)  # every claimer gets every message
            await asyncio.sleep(0)

    async def claimer(queue: asyncio.Queue[Dispatch | None], name: str) -> None:
        while (dispatch := await queue.get()) is not None:
            claim = await hub.store.claim(dispatch, name)
            if claim is not None:
                claimed[(claim.execution_id, claim.step_id, claim.attempt)] += 1
                await hub.store.finish(claim, StepSucceeded(claim.step_id, claim.attempt, T0, output=name))

    workers = [asyncio.create_task(claimer(queue, f"w{index}")) for index, queue in enumerate(queues)]
    await asyncio.gather(sweeper(), sweeper())
    for queue in queues:
        queue.put_nowait(None)
    await asyncio.gather(*workers)

    assert set(claimed.values()) == {1}
    assert sorted(claimed) == sorted((d.execution_id, d.step_id, 2) for d in first)
    for execution_id, _ in started:
        view = await hub.store.get(execution_id)
        assert view.status == "succeeded"
        history = await hub.store.history(execution_id)
        assert [entry.sequence for entry in history] == list(range(1, len(history) + 1))
        fired = Counter(entry.event.step_id for entry in history if isinstance(entry.event, TimerFired))
        assert fired == dict.fromkeys(FAN_OUT, 1)
