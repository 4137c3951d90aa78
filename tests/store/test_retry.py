"""``ExecutionStore.retry``: one transaction takes a failed execution back to running; its dispatches follow."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.store.executions_support import T0, Harness, chain, make_harness
from wirehub.engine import ErrorInfo, StepFailed, StepSucceeded
from wirehub.plugins import Registry
from wirehub.store import NotRetryableError, StaleEvent, StepRun, session_factory

STEP_RUNS: Any = StepRun.__table__
STALE: Any = StaleEvent.__table__
BROKEN = ErrorInfo(kind="node.broken", message="it broke")


@pytest.fixture
async def hub(migrated: AsyncEngine, registry: Registry) -> Harness:
    return make_harness(migrated, registry)


async def test_retry_reruns_the_failed_step_and_keeps_the_rows_of_earlier_attempts(hub: Harness) -> None:
    workflow_id = await hub.workflow(chain(3))
    execution_id, applied = await hub.store.start(workflow_id, None, {"x": 1})
    first = await hub.store.claim(applied.dispatches[0], "w1")
    assert first is not None
    applied = await hub.store.finish(first, StepSucceeded("s0", 1, T0, output={"kept": True}))
    second = await hub.store.claim(applied.dispatches[0], "w1")
    assert second is not None
    failed = await hub.store.finish(second, StepFailed("s1", 1, T0, BROKEN))
    assert failed.status == "failed"

    retried = await hub.store.retry(execution_id)

    assert retried.accepted
    assert retried.status == "running"
    assert [(d.step_id, d.attempt) for d in retried.dispatches] == [("s1", 2)]
    view = await hub.store.get(execution_id)
    assert view.error is None
    assert [(run.step_id, run.attempt, run.status) for run in view.steps] == [
        ("s0", 1, "succeeded"),
        ("s1", 1, "failed"),
        ("s1", 2, "scheduled"),
    ]
    history = await hub.store.history(execution_id)
    assert type(history[-1].event).__name__ == "RetryRequested"
    assert history[-1].sequence == retried.sequence

    claim = await hub.store.claim(retried.dispatches[0], "w2")
    assert claim is not None
    assert claim.input == {"kept": True}  # built from the output kept from the first run
    assert await hub.run_by_hand((await hub.store.finish(claim, StepSucceeded("s1", 2, T0))).dispatches) == 1
    assert (await hub.store.get(execution_id)).status == "succeeded"


async def test_retrying_an_execution_that_did_not_fail_writes_nothing(hub: Harness) -> None:
    workflow_id = await hub.workflow(chain(1))
    execution_id, _ = await hub.store.start(workflow_id, None, {})
    sequence = (await hub.store.get(execution_id)).next_sequence
    with pytest.raises(NotRetryableError):
        await hub.store.retry(execution_id)
    assert (await hub.store.get(execution_id)).next_sequence == sequence
    async with session_factory(hub.engine)() as session:
        assert (await session.execute(select(STALE.c.id))).all() == []
