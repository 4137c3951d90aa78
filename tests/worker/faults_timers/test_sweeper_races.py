"""Fault test: two sweeping workers and two that do not race over due timers and expired leases.

Four ``wirehub worker`` processes share one database and one Redis; two run a
sweeper (``WIREHUB_WORKER_SWEEP``) and two do not. The two that do not sweep
hold running HTTP calls when they are killed, so their leases lapse; the
sweepers start as 100 delays fall due. The history shows each timer fired
once and each lease expired once, and every execution finishes.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.local_http import LocalServer
from tests.worker.faults_timers.support import LEASE, Start, fetch, until
from tests.worker.processes import Sender

DELAYS = 100
CALLS = 12
CALL_SECONDS = 4.0


@pytest.fixture
def server() -> Iterator[LocalServer]:
    local = LocalServer()
    yield local
    local.close()


def _delay(until_at: datetime) -> dict[str, Any]:
    return {
        "name": "wake-at-once",
        "steps": [{"id": "wait", "type": "core.delay", "config": {"until": until_at.isoformat()}}],
    }


SLOW_CALL: dict[str, Any] = {
    "name": "slow-call",
    "steps": [
        {
            "id": "call",
            "type": "core.http",
            "config": {"method": "POST"},
            "input": {"url": "input.url"},
            "timeout_seconds": 60,
            "retry": {"max_attempts": 2, "interval_seconds": 0.1, "retry_on": ["timeout"]},
        }
    ],
}


async def _running(url: str) -> int:
    return int((await fetch(url, "select count(*) from step_runs where status = 'running'"))[0][0])


async def test_two_sweepers_among_four_workers_fire_each_timer_once_and_expire_each_lease_once(
    sender: Sender, hub_workers: Start, postgresql_url: str, server: LocalServer
) -> None:
    quiet = {"WIREHUB_WORKER_SWEEP": "false", "WIREHUB_EGRESS_ALLOW_NETWORKS": "127.0.0.0/8"}
    n1, n2 = hub_workers("n1", "n2", env=quiet)
    calls = await sender.workflow(SLOW_CALL)
    held = [await sender.start(calls, {"url": server.url(f"/slow?seconds={CALL_SECONDS}")}) for _ in range(CALLS)]
    async with asyncio.timeout(30):
        while len(server.requests) < CALLS:  # noqa: ASYNC110  # the server runs in a thread of its own
            await asyncio.sleep(0.05)
    n1.kill()  # in the middle of their calls: their leases lapse with nobody sweeping
    n2.kill()
    await asyncio.sleep(LEASE)  # their leases lapse ...
    assert await _running(postgresql_url) == CALLS  # ... and nobody expires them: n1 and n2 do not sweep

    sweeping = {"WIREHUB_WORKER_SWEEP": "true", "WIREHUB_EGRESS_ALLOW_NETWORKS": "127.0.0.0/8"}
    hub_workers("s1", "s2", env=sweeping)
    # The delays fall due as the sweepers find the lapsed leases: both sweepers see both at once.
    due = datetime.now(UTC) + timedelta(seconds=1.0)
    delays = await sender.workflow(_delay(due))
    waiting = [await sender.start(delays, {}) for _ in range(DELAYS)]

    async def finished() -> bool:
        rows = await fetch(postgresql_url, "select count(*) from executions where status in ('succeeded', 'failed')")
        return int(rows[0][0]) == CALLS + DELAYS

    await until(finished, within=60, every=0.5, what="every execution finished")

    views = [await sender.store.get(execution_id) for execution_id in held + waiting]
    assert [view.status for view in views] == ["succeeded"] * (CALLS + DELAYS)
    history = await fetch(
        postgresql_url,
        "select execution_id, event_type, event->>'step_id' as step_id, (event->>'attempt')::int as attempt"
        " from execution_history",
    )
    fired = Counter(row["execution_id"] for row in history if row["event_type"] == "timer_fired")
    # Each delay's wake-up, and each retry's wait after a lapsed lease, fired once.
    assert sorted(fired.values()) == [1] * (DELAYS + CALLS)
    assert set(fired) == set(waiting + held)
    expired = Counter(
        (row["execution_id"], row["step_id"], row["attempt"])
        for row in history
        if row["event_type"] == "step_timed_out"
    )
    assert sorted(expired.values()) == [1] * CALLS  # each lease of a killed worker expired once
    assert {execution_id for execution_id, _, _ in expired} == set(held)
    for view in views[:CALLS]:
        assert [(run.attempt, run.status) for run in view.steps] == [(1, "timed_out"), (2, "succeeded")]
        assert view.steps[0].worker in {"n1", "n2"}
        assert view.steps[1].worker in {"s1", "s2"}
