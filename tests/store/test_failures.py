"""Error reporting in the store: where a failure is recorded, the failures list, and the claim's latency metric."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.store.executions_support import T0, Harness, chain, make_harness
from wirehub.engine import ErrorInfo, StepFailed
from wirehub.plugins import Registry
from wirehub.store import (
    DEFAULT_WORKSPACE_ID,
    Execution,
    FailureFilter,
    HistoryEntry,
    StaleEvent,
    StepRun,
    attempt_tracebacks,
    failure_page,
    session_factory,
)

TRACEBACK = (
    'Traceback (most recent call last):\n  File "node.py", line 3, in execute\nZeroDivisionError: division by zero\n'
)
CRASH = ErrorInfo(kind="node.unexpected", message="ZeroDivisionError: division by zero", traceback=TRACEBACK)
HTTP_404 = ErrorInfo(
    kind="http.status",
    message="GET https://api.example.com/x answered 404 Not Found",
    details={"status": 404, "url": "https://api.example.com/x", "body": '{"error": "no such thing"}'},
)
HTTP_STEP = {
    "name": "call-out",
    "steps": [{"id": "call", "type": "core.http", "config": {"url": "https://api.example.com/x"}}],
}


@pytest.fixture
async def hub(migrated: AsyncEngine, registry: Registry) -> Harness:
    return make_harness(migrated, registry)


async def _fail_first_step(hub: Harness, workflow_id: UUID, error: ErrorInfo) -> UUID:
    """Starts an execution, claims its first attempt and fails it with ``error``; the clock moves a second."""
    execution_id, applied = await hub.store.start(workflow_id, None, {"n": 1})
    dispatch = applied.dispatches[0]
    claim = await hub.store.claim(dispatch, "w1")
    assert claim is not None
    finished = await hub.store.finish(claim, StepFailed(dispatch.step_id, dispatch.attempt, claim.claimed_at, error))
    assert finished.accepted
    assert finished.status == "failed"
    hub.clock.advance(1)
    return execution_id


async def _rows(hub: Harness, query: Any) -> list[Any]:
    async with session_factory(hub.engine)() as session:
        return list((await session.execute(query)).all())


async def test_a_failed_execution_names_its_step_node_type_and_attempt_and_keeps_the_nodes_details(
    hub: Harness,
) -> None:
    workflow_id = await hub.workflow(HTTP_STEP)
    execution_id = await _fail_first_step(hub, workflow_id, HTTP_404)

    view = await hub.store.get(execution_id)
    assert view.status == "failed"
    error = view.error
    assert error["kind"] == "http.status"
    assert error["message"] == "step 'call' failed: GET https://api.example.com/x answered 404 Not Found"
    assert (error["step_id"], error["node_type"], error["attempt"], error["retryable"]) == (
        "call",
        "core.http",
        1,
        False,
    )
    assert error["details"] == HTTP_404.details
    assert view.steps[0].error["details"]["status"] == 404
    (row,) = await _rows(
        hub, select(Execution.error_kind, Execution.error_node_type).where(Execution.id == execution_id)
    )
    assert tuple(row) == ("http.status", "core.http")


async def test_an_internal_errors_traceback_is_kept_in_its_attempts_row_only(hub: Harness) -> None:
    workflow_id = await hub.workflow(chain(1))
    execution_id = await _fail_first_step(hub, workflow_id, CRASH)

    async with session_factory(hub.engine)() as session:
        assert await attempt_tracebacks(session, execution_id) == {("s0", 1): TRACEBACK}
    view = await hub.store.get(execution_id)
    assert view.error["kind"] == "node.unexpected"
    assert view.error["traceback"] is None
    assert view.steps[0].error["traceback"] is None
    assert view.state.error is not None
    assert view.state.error.traceback is None
    history = await _rows(hub, select(HistoryEntry.event).where(HistoryEntry.execution_id == execution_id))
    assert "ZeroDivisionError" in str(history), "the message is in the history"
    assert "most recent call last" not in str(history), "the traceback is not"
    (state,) = await _rows(hub, select(Execution.state).where(Execution.id == execution_id))
    assert "most recent call last" not in str(state)


async def test_a_late_failure_is_recorded_as_stale_without_its_traceback(hub: Harness) -> None:
    workflow_id = await hub.workflow(chain(1))
    execution_id = await _fail_first_step(hub, workflow_id, HTTP_404)
    view = await hub.store.get(execution_id)
    run = view.steps[0]
    late = StepFailed(run.step_id, run.attempt, T0, CRASH)
    async with session_factory(hub.engine, writes=True).begin() as session:
        loaded = await hub.store.lock(session, execution_id)
        assert loaded is not None
        outcome = await hub.store.transition(session, loaded, late)
    assert not outcome.applied.accepted
    stale = await _rows(hub, select(StaleEvent.event).where(StaleEvent.execution_id == execution_id))
    assert len(stale) == 1
    assert stale[0].event["error"]["kind"] == "node.unexpected"
    assert stale[0].event["error"]["traceback"] is None


async def test_failures_are_listed_latest_first_with_filters_and_pages(hub: Harness) -> None:
    http_workflow = await hub.workflow(HTTP_STEP)
    chain_workflow = await hub.workflow(chain(2))
    crashed = await _fail_first_step(hub, chain_workflow, CRASH)
    not_found = await _fail_first_step(hub, http_workflow, HTTP_404)
    succeeded, applied = await hub.store.start(chain_workflow, None, {})
    await hub.run_by_hand(applied.dispatches)

    async def page(filters: FailureFilter, **options: Any) -> list[Any]:
        async with session_factory(hub.engine)() as session:
            return await failure_page(session, DEFAULT_WORKSPACE_ID, filters, **options)

    everything = await page(FailureFilter())
    assert [row.execution_id for row in everything] == [not_found, crashed]
    latest = everything[0]
    assert (latest.workflow_id, latest.workflow_name, latest.status) == (http_workflow, "call-out", "failed")
    assert (latest.step_id, latest.node_type, latest.attempt) == ("call", "core.http", 1)
    assert (latest.error_kind, latest.retryable) == ("http.status", False)
    assert latest.error_message is not None
    assert "404" in latest.error_message
    assert latest.finished_at is not None
    assert latest.finished_at > everything[1].finished_at

    assert [row.execution_id for row in await page(FailureFilter(workflow_id=chain_workflow))] == [crashed]
    assert [row.execution_id for row in await page(FailureFilter(node_type="core.transform"))] == [crashed]
    assert [row.execution_id for row in await page(FailureFilter(error_kind="http.status"))] == [not_found]
    assert await page(FailureFilter(error_kind="timeout")) == []
    assert [row.execution_id for row in await page(FailureFilter(since=latest.finished_at))] == [not_found]
    assert await page(FailureFilter(since=T0 + timedelta(days=1))) == []
    first = await page(FailureFilter(), limit=1)
    assert latest.finished_at is not None
    rest = await page(FailureFilter(), before=(latest.finished_at, latest.execution_id))
    assert [row.execution_id for row in first + rest] == [not_found, crashed]
    async with session_factory(hub.engine)() as session:
        other = await failure_page(session, UUID(int=1), FailureFilter())
    assert other == [], "another workspace's failures are not listed"
    assert succeeded not in [row.execution_id for row in everything]


async def test_a_claim_records_how_long_its_attempt_waited_since_its_dispatch(hub: Harness) -> None:
    def observed() -> tuple[float, float]:
        count = REGISTRY.get_sample_value("wirehub_schedule_to_start_seconds_count") or 0.0
        total = REGISTRY.get_sample_value("wirehub_schedule_to_start_seconds_sum") or 0.0
        return count, total

    workflow_id = await hub.workflow(chain(1))
    _, applied = await hub.store.start(workflow_id, None, {})
    before = observed()
    hub.clock.advance(2.5)
    assert await hub.store.claim(applied.dispatches[0], "w1") is not None
    count, total = observed()
    assert count == before[0] + 1
    assert total - before[1] == pytest.approx(2.5)
    (row,) = await _rows(hub, select(StepRun.scheduled_at, StepRun.started_at))
    assert row.started_at - row.scheduled_at == timedelta(seconds=2.5)
