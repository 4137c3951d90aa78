"""A step's output is written once: the bytes an execution writes grow linearly with its length."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.store.executions_support import Harness, chain, make_harness
from wirehub.engine import StepSucceeded
from wirehub.plugins import Registry

BIG = 20_000


class BytesWritten:
    """Counts the bytes of every parameter the store sends to the database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.total = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._count)

    def _count(self, _conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any, many: bool) -> None:
        for row in parameters if many else [parameters]:
            values = row.values() if isinstance(row, dict) else row
            self.total += sum(len(value) for value in values if isinstance(value, str | bytes))


async def _bytes_for(hub: Harness, meter: BytesWritten, length: int, size: int) -> int:
    workflow_id = await hub.workflow({**chain(length), "name": f"chain-{length}-{size}"})
    before = meter.total
    _, applied = await hub.store.start(workflow_id, None, {})
    pending = list(applied.dispatches)
    while pending:
        dispatch = pending.pop()
        claim = await hub.store.claim(dispatch, "w")
        assert claim is not None
        done = await hub.store.finish(claim, StepSucceeded(dispatch.step_id, 1, claim.claimed_at, output="x" * size))
        pending += done.dispatches
    return meter.total - before


@pytest.fixture
async def hub(migrated: AsyncEngine, registry: Registry) -> Harness:
    return make_harness(migrated, registry)


async def test_the_bytes_an_execution_writes_grow_linearly_with_its_length(hub: Harness) -> None:
    meter = BytesWritten(hub.engine)
    extra = {}
    for length in (10, 20, 40):
        small = await _bytes_for(hub, meter, length, 10)
        big = await _bytes_for(hub, meter, length, BIG)
        extra[length] = big - small  # what the outputs cost
    print(f"\nbytes the outputs cost per step: { {n: extra[n] // n for n in extra} }")
    # Each output is written a bounded number of times (its step run, its history entry, the next step's
    # input, the execution's output): the cost per step is the same for a chain of 10, 20 or 40 steps.
    for length in (10, 20, 40):
        assert extra[length] / length < 4.5 * BIG
    assert extra[40] / extra[10] == pytest.approx(4, rel=0.1)
