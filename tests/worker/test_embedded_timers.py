"""The embedded sweeper sleeps until the next stored timer: timers fire on time without polling."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast
from uuid import uuid4

from sqlalchemy import Table, insert, text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.runtime import testing_plugin
from wirehub.runtime.registry import NodeRegistry
from wirehub.settings import Settings
from wirehub.store import Timer
from wirehub.worker.embedded import embedded_hub
from wirehub.worker.timer_writes import watch_timer_writes

TIMERS = cast(Table, Timer.__table__)
NEVER = 600.0
"""A sweep interval no test waits out: whatever fires on time was woken, not polled."""

DELAYED = {
    "name": "delayed",
    "steps": [
        {"id": "before", "type": "test.flaky", "config": {"failures": 0}},
        {"id": "pause", "type": "core.delay", "needs": ["before"], "config": {"seconds": 0.3}},
        {"id": "after", "type": "test.flaky", "needs": ["pause"], "config": {"failures": 0}},
    ],
}


async def test_a_delay_fires_on_time_with_no_transition_in_between_and_no_polling(
    tmp_path: Path, registry: NodeRegistry, calls: testing_plugin.Calls
) -> None:
    settings = Settings(lease_seconds=3.0, sweep_interval_seconds=NEVER, shutdown_grace_seconds=1.0)
    async with embedded_hub(settings, registry, database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}") as hub:
        sweeper = hub.worker.sweeper
        assert sweeper is not None
        workflow_id = await hub.save(DELAYED)
        execution_id = await hub.start(workflow_id)
        view = await hub.wait(execution_id, within=10)
        sweeps = sweeper.sweeps
    assert view.status == "succeeded", view.error
    waited = calls.started["after"][0] - calls.started["before"][0]
    assert 0.3 * 0.9 <= waited < 0.3 + 1.0  # the delay, then at once: well before any poll of NEVER
    assert sweeps <= 4  # at start, maybe once too early by a hair, when the delay was due; no polling


async def test_a_retry_backoff_fires_on_time_with_no_transition_in_between(
    tmp_path: Path, registry: NodeRegistry, calls: testing_plugin.Calls
) -> None:
    settings = Settings(lease_seconds=3.0, sweep_interval_seconds=NEVER, shutdown_grace_seconds=1.0)
    definition = {
        "name": "retried",
        "steps": [
            {
                "id": "flaky",
                "type": "test.flaky",
                "config": {"failures": 1},
                "retry": {"max_attempts": 2, "interval_seconds": 0.2, "retry_on": ["test.flaky"]},
            }
        ],
    }
    async with embedded_hub(settings, registry, database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}") as hub:
        execution_id = await hub.start(await hub.save(definition))
        view = await hub.wait(execution_id, within=10)
    assert view.status == "succeeded", view.error
    first, second = calls.started["flaky"]
    assert 0.2 * 0.9 <= second - first < 0.2 + 1.0


class _Told:
    """Records what ``watch_timer_writes`` tells a sweeper."""

    def __init__(self) -> None:
        self.dues: list[datetime | None] = []

    def timer_written(self, due: datetime | None = None) -> None:
        self.dues.append(due)


async def test_a_sweeper_is_told_of_a_timer_once_its_transaction_ended_with_the_earliest_due_instant(
    tmp_path: Path,
) -> None:
    # A bare engine (no foreign keys enforced) with the timers table alone: what is watched is the INSERT.
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'timers.db'}")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(TIMERS.create)
        told = _Told()
        watch_timer_writes(engine, told)  # type: ignore[arg-type]  # only timer_written is called
        soon = datetime.now(UTC) + timedelta(seconds=5)
        async with engine.begin() as connection:
            await connection.execute(
                insert(TIMERS), [_timer("retry", soon + timedelta(seconds=1)), _timer("delay", soon)]
            )
            assert told.dues == []  # not before the transaction ends
        assert told.dues == [soon]
        async with engine.begin() as connection:
            await connection.execute(text("SELECT count(*) FROM timers"))
        assert told.dues == [soon]  # a transaction that wrote no timer says nothing
    finally:
        await engine.dispose()


def _timer(kind: str, due: datetime) -> dict[str, object]:
    return {"id": uuid4(), "execution_id": uuid4(), "kind": kind, "step_id": "s", "attempt": 1, "due_at": due}


async def test_a_stored_timer_the_sweep_cannot_fire_does_not_make_the_sweeper_spin(
    tmp_path: Path, registry: NodeRegistry
) -> None:
    settings = Settings(lease_seconds=3.0, sweep_interval_seconds=0.2, shutdown_grace_seconds=1.0)
    waiting = {"name": "waiting", "steps": [{"id": "pause", "type": "core.delay", "config": {"seconds": 60}}]}
    async with embedded_hub(settings, registry, database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}") as hub:
        sweeper = hub.worker.sweeper
        assert sweeper is not None
        execution_id = await hub.start(await hub.save(waiting))
        async with asyncio.timeout(5):
            while not await hub.store.history(execution_id, after=2):  # the delay is stored
                await hub.transition()
        # A due timer the engine refuses (no such step): the sweep records it stale and leaves it stored.
        async with hub.engine.begin() as connection:
            await connection.execute(
                insert(TIMERS),
                [{**_timer("retry", datetime.now(UTC) - timedelta(seconds=1)), "execution_id": execution_id}],
            )
        before = sweeper.sweeps
        sweeper.timer_written()
        await asyncio.sleep(0.5)  # the window the count is taken over
        swept = sweeper.sweeps - before
    assert 1 <= swept <= 8  # tried, then at the interval's pace (0.2 s), not in a loop
