"""Fault tests of durable timers at scale, on PostgreSQL, Redis and ``wirehub worker`` processes.

1,000 executions wait in a delay while every worker is killed and replaced:
none is lost, each timer fires once and within 2 s of its due time, and no
worker slot is held while they wait. All 1,000 delays fall due at the same
instant; the lateness of each timer (its ``timer_fired`` entry's time minus its
due time) is printed with ``-s``.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.worker.faults_timers.support import Start, fetch, until
from tests.worker.processes import Sender

WAITING = 1000
LATENESS_BOUND = 2.0
"""Seconds a timer may fire after its due time."""
STARTS_AT_ONCE = 16
PROBES = 40
GROUPS = 1
GROUP_SECONDS = 1.0
"""The delays fall due in ``GROUPS`` bursts of ``WAITING // GROUPS``, one every ``GROUP_SECONDS``: one burst of all."""
SETUP_FACTOR = 1.3
RESTART_SECONDS = 15.0
"""Time to kill two workers and start two new ones, with a margin."""


def _delayed(until_at: datetime | None) -> dict[str, Any]:
    delay = {"seconds": 0} if until_at is None else {"until": until_at.isoformat()}
    return {
        "name": "wait-then-go",
        "steps": [
            {"id": "wait", "type": "core.delay", "config": delay},
        ],
    }


async def _start_many(sender: Sender, workflow_id: Any, count: int) -> None:
    gate = asyncio.Semaphore(STARTS_AT_ONCE)

    async def one(index: int) -> None:
        async with gate:
            await sender.start(workflow_id, {"n": index})

    await asyncio.gather(*(one(index) for index in range(count)))


async def _count(url: str, query: str) -> int:
    rows = await fetch(url, query)
    return int(rows[0][0])


async def _seconds_per_execution(sender: Sender, url: str) -> float:
    """How long starting and parking one execution takes now, measured on ``PROBES`` that do not wait."""
    began = time.monotonic()
    await _start_many(sender, await sender.workflow(_delayed(None)), PROBES)

    async def done() -> bool:
        return await _count(url, "select count(*) from executions where status = 'succeeded'") == PROBES

    await until(done, within=60, what="the probe executions succeeded")
    return (time.monotonic() - began) / PROBES


async def test_a_thousand_delays_survive_a_restart_of_every_worker_and_fire_once_within_two_seconds(
    sender: Sender, hub_workers: Start, postgresql_url: str
) -> None:
    slots = {"WIREHUB_WORKER_CONCURRENCY": "16"}
    first = hub_workers("a", "b", env=slots)
    # The timers fall due once every execution waits and the workers restarted: how long that takes on
    # this machine now is measured on a few executions first.
    per_execution = await _seconds_per_execution(sender, postgresql_url)
    start = datetime.now(UTC) + timedelta(seconds=per_execution * WAITING * SETUP_FACTOR + RESTART_SECONDS)
    due = {
        await sender.workflow(_delayed(start + timedelta(seconds=group * GROUP_SECONDS))): start
        + timedelta(seconds=group * GROUP_SECONDS)
        for group in range(GROUPS)
    }
    for workflow_id in due:
        await _start_many(sender, workflow_id, WAITING // GROUPS)

    async def all_waiting() -> bool:
        waiting = "select count(*) from step_runs where step_id = 'wait' and status = 'waiting'"
        return await _count(postgresql_url, waiting) == WAITING

    await until(all_waiting, within=(start - datetime.now(UTC)).total_seconds(), what="every execution waiting")
    # No worker slot is held while they wait: 1,000 wait with 2 x 16 slots, and no attempt runs.
    assert await _count(postgresql_url, "select count(*) from step_runs where status = 'running'") == 0
    assert await _count(postgresql_url, "select count(*) from timers where kind = 'wake'") == WAITING

    for process in first:
        process.kill()
    hub_workers("c", "d", env=slots)
    assert datetime.now(UTC) < start, "the workers restarted after the timers were due: the margin is too short"

    async def all_done() -> bool:
        succeeded = "select count(*) from executions where status = 'succeeded'"
        return await _count(postgresql_url, succeeded) == PROBES + WAITING

    last = max(due.values())
    await until(all_done, within=(last - datetime.now(UTC)).total_seconds() + 30, every=0.5, what="all succeeded")

    fired = await fetch(
        postgresql_url,
        "select h.execution_id, e.workflow_id, h.event->>'at' as at from execution_history h join executions e"
        " on e.id = h.execution_id where h.event_type = 'timer_fired' and e.workflow_id = any($1::uuid[])",
        list(due),
    )
    assert len(fired) == WAITING
    assert len({row["execution_id"] for row in fired}) == WAITING  # each timer fired once
    lateness = sorted((datetime.fromisoformat(row["at"]) - due[row["workflow_id"]]).total_seconds() for row in fired)
    p99 = lateness[int(len(lateness) * 0.99) - 1]
    print(
        f"\n{WAITING} timers, {WAITING // GROUPS} due at once every {GROUP_SECONDS:g} s: lateness median"
        f" {statistics.median(lateness):.3f} s, p99 {p99:.3f} s, max {lateness[-1]:.3f} s"
        f" (setup {per_execution * 1000:.1f} ms per execution)"
    )
    assert lateness[0] >= 0  # none fired early
    assert lateness[-1] <= LATENESS_BOUND
    assert await _count(postgresql_url, "select count(*) from timers") == 0
