"""Executions driven by hand through the store's transactions: start, claim, finish, retry, cancel."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
from msgspec.structs import replace
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine
from uuid_utils.compat import uuid7

from tests.store.executions_support import RETRY, T0, Harness, chain, make_harness
from wirehub.engine import ErrorInfo, ExecutionStatus, StepFailed, StepReleased, StepSucceeded, StepSuspended
from wirehub.plugins import Registry
from wirehub.store import (
    DEFAULT_WORKSPACE_ID,
    AuditEntry,
    DispatchRecord,
    Execution,
    ExecutionNotFoundError,
    IdempotencyConflictError,
    InvalidInputError,
    StaleEvent,
    StepRun,
    Timer,
    WorkflowFacts,
    WorkflowNotFoundError,
    WorkflowVersionService,
    session_factory,
)
from wirehub.store.transition import timer_writes
from wirehub.store.writes import Change, Insert, Prepared, run_writes

STEP_RUNS: Any = StepRun.__table__
EXECUTIONS: Any = Execution.__table__
TIMERS: Any = Timer.__table__
OUTBOX: Any = DispatchRecord.__table__
STALE: Any = StaleEvent.__table__
AUDIT: Any = AuditEntry.__table__
HTTP_ERROR = ErrorInfo(kind="http.status", message="503 from the server", retryable=True)


@pytest.fixture
async def hub(migrated: AsyncEngine, registry: Registry) -> Harness:
    return make_harness(migrated, registry)


async def test_a_chain_driven_by_hand_succeeds_with_history_1_to_n_and_no_timers(hub: Harness) -> None:
    workflow_id = await hub.workflow(chain(10))
    began = time.perf_counter()
    execution_id, applied = await hub.store.start(workflow_id, None, {"x": 1})
    assert applied.accepted
    assert applied.sequence == 1
    assert applied.status == "running"
    assert [(d.step_id, d.attempt) for d in applied.dispatches] == [("s0", 1)]
    ran = await hub.run_by_hand(applied.dispatches)
    elapsed = time.perf_counter() - began
    print(f"\n10-step chain by hand on {hub.engine.dialect.name}: {elapsed * 1000 / 10:.2f} ms per step")

    view = await hub.store.get(execution_id)
    assert ran == 10
    assert view.status == "succeeded"
    assert view.output == {f"s{i}": {"n": i} for i in range(10)}
    assert view.state.steps["s3"].output == {"n": 3}
    assert [(run.step_id, run.status, run.output) for run in view.steps] == [
        (f"s{i}", "succeeded", {"n": i}) for i in range(10)
    ]
    assert (view.steps[0].input, view.steps[1].input) == ({"x": 1}, {"n": 0})  # a step gets its source's output
    history = await hub.store.history(execution_id)
    assert [entry.sequence for entry in history] == list(range(1, 22))  # started, then claim + result per step
    assert view.next_sequence == 22
    assert await hub.count(TIMERS) == 0
    assert await hub.count(OUTBOX) == 0


async def test_a_retry_waits_for_its_timer_and_the_sweeper_fires_it(hub: Harness) -> None:
    workflow_id = await hub.workflow(chain(1, **RETRY))
    execution_id, applied = await hub.store.start(workflow_id, None, {})
    claim = await hub.store.claim(applied.dispatches[0], "w1")
    assert claim is not None
    failed = await hub.store.finish(claim, StepFailed("s0", 1, T0, HTTP_ERROR))
    assert failed.accepted
    assert failed.dispatches == []
    assert await hub.count(TIMERS, kind="retry", step_id="s0", attempt=1) == 1

    hub.clock.advance(4.9)
    early = await hub.store.sweep()
    assert (early.timers_fired, early.dispatches) == (0, [])

    hub.clock.advance(0.2)
    swept = await hub.store.sweep()
    assert swept.timers_fired == 1
    assert [(d.step_id, d.attempt) for d in swept.dispatches] == [("s0", 2)]
    assert await hub.count(TIMERS) == 0
    assert (await hub.store.sweep()).timers_fired == 0  # fired once

    await hub.run_by_hand(swept.dispatches)
    view = await hub.store.get(execution_id)
    assert view.status == "succeeded"
    assert [(run.attempt, run.status) for run in view.steps] == [(1, "failed"), (2, "succeeded")]
    assert view.steps[0].error["kind"] == "http.status"


async def test_a_stale_or_duplicate_finish_or_claim_changes_nothing(hub: Harness) -> None:
    workflow_id = await hub.workflow(chain(2))
    execution_id, applied = await hub.store.start(workflow_id, None, {})
    dispatch = applied.dispatches[0]
    claim = await hub.store.claim(dispatch, "w1")
    assert claim is not None
    assert await hub.store.claim(dispatch, "w2") is None  # the same message delivered twice

    result = StepSucceeded("s0", 1, T0, output="first")
    assert (await hub.store.finish(claim, result)).accepted
    before = await hub.store.get(execution_id)
    duplicate = await hub.store.finish(claim, StepSucceeded("s0", 1, T0, output="second"))
    after = await hub.store.get(execution_id)

    assert duplicate.accepted is False
    assert duplicate.sequence is None
    assert duplicate.dispatches == []
    assert after == before
    assert after.state.steps["s0"].output == "first"
    assert await hub.count(STALE, execution_id=execution_id) == 2  # the second claim and the second result


async def test_an_expired_lease_times_the_attempt_out_and_the_retry_policy_decides(hub: Harness) -> None:
    workflow_id = await hub.workflow(chain(1, **RETRY))
    execution_id, applied = await hub.store.start(workflow_id, None, {})
    claim = await hub.store.claim(applied.dispatches[0], "dies")
    assert claim is not None
    hub.clock.advance(20)
    renewed = await hub.store.renew(claim)
    assert renewed == hub.clock.at.replace() + (claim.lease_expires_at - claim.claimed_at)
    hub.clock.advance(29)
    assert (await hub.store.sweep()).expired_leases == 0  # renewed: not expired yet

    hub.clock.advance(2)
    swept = await hub.store.sweep()
    assert swept.expired_leases == 1
    assert (await hub.store.sweep()).expired_leases == 0  # expired once
    assert await hub.store.renew(claim) is None
    late = await hub.store.finish(claim, StepSucceeded("s0", 1, T0, output="late"))
    assert late.accepted is False

    view = await hub.store.get(execution_id)
    assert view.state.steps["s0"].status == "retry_wait"  # "timeout" is in retry_on: a second attempt follows
    assert view.steps[0].status == "timed_out"
    hub.clock.advance(5)
    retried = await hub.store.sweep()
    assert [(d.step_id, d.attempt) for d in retried.dispatches] == [("s0", 2)]


async def test_an_expired_lease_without_retries_fails_the_execution(hub: Harness) -> None:
    workflow_id = await hub.workflow(chain(2))
    execution_id, applied = await hub.store.start(workflow_id, None, {})
    assert await hub.store.claim(applied.dispatches[0], "dies") is not None
    hub.clock.advance(31)
    assert (await hub.store.sweep()).expired_leases == 1
    view = await hub.store.get(execution_id)
    assert view.status == "failed"
    assert view.error["kind"] == "timeout"
    assert await hub.count(TIMERS) == 0


async def test_a_handed_back_attempt_is_dispatched_again_and_claimed_by_another_worker(hub: Harness) -> None:
    workflow_id = await hub.workflow(chain(1))
    execution_id, applied = await hub.store.start(workflow_id, None, {})
    first = await hub.store.claim(applied.dispatches[0], "stopping")
    assert first is not None
    await hub.store.hand_back(first, "worker shutting down")
    assert await hub.store.renew(first) is None
    swept = await hub.store.sweep()
    assert [(d.step_id, d.attempt) for d in swept.dispatches] == [("s0", 1)]
    second = await hub.store.claim(swept.dispatches[0], "other")
    assert second is not None
    assert second.lease_token != first.lease_token
    assert not (await hub.store.finish(first, StepSucceeded("s0", 1, T0, output="old"))).accepted
    assert (await hub.store.finish(second, StepSucceeded("s0", 1, T0, output="new"))).accepted
    view = await hub.store.get(execution_id)
    assert (view.status, view.output) == ("succeeded", {"s0": "new"})
    assert view.steps[0].worker == "other"


async def test_a_handed_back_attempt_is_scheduled_again_with_its_queue_deadline_live(hub: Harness) -> None:
    workflow_id = await hub.workflow(chain(1, queue_timeout_seconds=60))
    execution_id, applied = await hub.store.start(workflow_id, None, {})
    first = await hub.store.claim(applied.dispatches[0], "lacks-it")
    assert first is not None
    assert await hub.count(TIMERS, execution_id=execution_id) == 0  # claimed: no queue timer while it runs
    await hub.store.hand_back(first, "no worker has node type acme.x")
    view = await hub.store.get(execution_id)
    run = view.state.steps["s0"]
    assert (run.status, run.attempt, run.run_deadline) == ("scheduled", 1, None)
    assert view.steps[0].status == "scheduled"
    assert view.steps[0].worker is None
    assert await hub.count(TIMERS, execution_id=execution_id, kind="schedule_timeout") == 1
    assert await hub.count(OUTBOX, execution_id=execution_id) == 1
    released = (await hub.store.history(execution_id))[-1].event
    assert released == StepReleased("s0", 1, T0, "no worker has node type acme.x")
    await hub.store.hand_back(first, "again")  # the same claim twice: no longer current, nothing happens
    assert await hub.count(OUTBOX, execution_id=execution_id) == 1
    swept = await hub.store.sweep()
    second = await hub.store.claim(swept.dispatches[0], "has-it")
    assert second is not None
    assert await hub.count(OUTBOX, execution_id=execution_id) == 0
    assert await hub.count(TIMERS, execution_id=execution_id) == 0
    assert (await hub.store.finish(second, StepSucceeded("s0", 1, T0, output="done"))).accepted
    assert (await hub.store.get(execution_id)).status == "succeeded"


async def test_an_attempt_handed_back_until_its_queue_timeout_passes_fails_with_timeout_queue(hub: Harness) -> None:
    workflow_id = await hub.workflow(chain(2, queue_timeout_seconds=20))
    execution_id, applied = await hub.store.start(workflow_id, None, {})
    dispatches = applied.dispatches
    for _ in range(3):  # every worker that gets it lacks the node type
        claim = await hub.store.claim(dispatches[0], "lacks-it")
        assert claim is not None
        await hub.store.hand_back(claim, "no worker has node type acme.x")
        hub.clock.advance(10)
        swept = await hub.store.sweep()
        if swept.timers_fired:
            break
        dispatches = swept.dispatches
        assert [(d.step_id, d.attempt) for d in dispatches] == [("s0", 1)]
    view = await hub.store.get(execution_id)
    assert view.status == "failed"
    assert hub.clock() == T0 + timedelta(seconds=20)  # the deadline of its first scheduling, not pushed back
    assert view.steps[0].status == "timed_out"
    assert view.error["kind"] == "timeout.queue"
    assert view.error["retryable"] is True
    assert "queue timeout of 20 s" in view.error["message"]
    assert "no worker has node type acme.x" in view.error["message"]
    assert [run.step_id for run in view.steps] == ["s0"]
    assert await hub.count(OUTBOX, execution_id=execution_id) == 0
    assert await hub.count(TIMERS, execution_id=execution_id) == 0


async def test_an_undelivered_dispatch_is_returned_again_after_the_redelivery_interval(hub: Harness) -> None:
    workflow_id = await hub.workflow(chain(1))
    _, applied = await hub.store.start(workflow_id, None, {})
    assert (await hub.store.sweep()).dispatches == []  # just made: the caller is sending it
    hub.clock.advance(10)
    assert (await hub.store.sweep()).dispatches == applied.dispatches  # never claimed: sent, lost, or never sent
    assert (await hub.store.sweep()).dispatches == []  # just sent again
    hub.clock.advance(10)
    assert (await hub.store.sweep()).dispatches == applied.dispatches  # still unclaimed
    claim = await hub.store.claim(applied.dispatches[0], "w1")
    assert claim is not None
    hub.clock.advance(10)
    assert (await hub.store.sweep()).dispatches == []  # claimed: nothing left to send


@pytest.mark.parametrize("where", ["scheduled", "running", "retry_wait", "waiting"])
async def test_cancel_works_from_every_non_terminal_state(hub: Harness, where: str) -> None:
    workflow_id = await hub.workflow(chain(2, **RETRY))
    execution_id, applied = await hub.store.start(workflow_id, None, {})
    claim = None
    if where != "scheduled":
        claim = await hub.store.claim(applied.dispatches[0], "w1")
        assert claim is not None
    if where == "retry_wait":
        assert claim is not None
        await hub.store.finish(claim, StepFailed("s0", 1, T0, HTTP_ERROR))
    if where == "waiting":
        assert claim is not None
        until = T0.replace(year=2027)
        await hub.store.finish(claim, StepSuspended("s0", 1, T0, until, output={"waited": True}))
    assert (await hub.store.get(execution_id)).state.steps["s0"].status == where

    cancelled = await hub.store.cancel(execution_id, "no longer needed")
    assert cancelled.accepted
    assert cancelled.status == "cancelled"
    view = await hub.store.get(execution_id)
    assert view.status == "cancelled"
    assert view.error["message"] == "no longer needed"
    assert view.state.steps["s0"].status == "cancelled"
    assert view.state.steps["s1"].status == "skipped"
    assert await hub.count(TIMERS) == 0
    assert await hub.count(OUTBOX) == 0
    if claim is not None:
        assert await hub.store.renew(claim) is None  # the worker running it learns of it
        assert not (await hub.store.finish(claim, StepSucceeded("s0", 1, T0))).accepted
    hub.clock.advance(3600)
    assert (await hub.store.sweep()).dispatches == []
    again = await hub.store.cancel(execution_id)
    assert again.accepted is False
    assert again.status == "cancelled"


async def test_event_times_come_from_the_store_clock_even_when_the_worker_clock_is_skewed(hub: Harness) -> None:
    workflow_id = await hub.workflow(chain(1, timeout_seconds=60))
    execution_id, applied = await hub.store.start(workflow_id, None, {})
    hub.clock.advance(3)
    claim = await hub.store.claim(applied.dispatches[0], "w1")
    assert claim is not None
    assert claim.claimed_at == hub.clock.at
    assert claim.deadline == hub.clock.at.replace() + (T0.replace(minute=1) - T0)  # claim + 60 s
    hub.clock.advance(2)
    skewed = T0.replace(year=2001)  # the worker's clock is 25 years behind
    await hub.store.finish(claim, StepSucceeded("s0", 1, skewed, output=1))
    history = await hub.store.history(execution_id)
    times = [entry.event.at for entry in history]
    assert times == [T0, T0.replace(second=3), T0.replace(second=5)]
    view = await hub.store.get(execution_id)
    assert view.state.finished_at == T0.replace(second=5)


async def test_a_suspension_waits_as_long_as_the_skewed_worker_meant(hub: Harness) -> None:
    workflow_id = await hub.workflow(chain(1))
    execution_id, applied = await hub.store.start(workflow_id, None, {})
    claim = await hub.store.claim(applied.dispatches[0], "w1")
    assert claim is not None
    skewed = T0.replace(year=2001)
    await hub.store.finish(claim, StepSuspended("s0", 1, skewed, skewed.replace(minute=10), output="parked"))
    view = await hub.store.get(execution_id)
    assert view.state.steps["s0"].wake_at == T0.replace(minute=10)  # ten minutes of the store's clock
    hub.clock.advance(599)
    assert (await hub.store.sweep()).timers_fired == 0
    hub.clock.advance(1)
    assert (await hub.store.sweep()).timers_fired == 1
    view = await hub.store.wait(execution_id, timeout=5)
    assert (view.status, view.output) == ("succeeded", {"s0": "parked"})


async def test_a_run_timeout_is_enforced_by_the_sweeper_when_the_worker_is_gone(hub: Harness) -> None:
    workflow_id = await hub.workflow(chain(1, timeout_seconds=10))
    execution_id, applied = await hub.store.start(workflow_id, None, {})
    claim = await hub.store.claim(applied.dispatches[0], "w1")
    assert claim is not None
    hub.clock.advance(10)
    assert (await hub.store.sweep()).timers_fired == 1
    view = await hub.store.get(execution_id)
    assert (view.status, view.error["kind"]) == ("failed", "timeout")


async def test_a_workflow_timeout_ends_the_execution_on_time_while_its_step_runs(hub: Harness) -> None:
    workflow_id = await hub.workflow({**chain(2), "timeout_seconds": 60})
    execution_id, applied = await hub.store.start(workflow_id, None, {})
    claim = await hub.store.claim(applied.dispatches[0], "w1")
    assert claim is not None
    for _ in range(2):
        hub.clock.advance(25)
        assert await hub.store.renew(claim) is not None
    hub.clock.advance(9)
    assert (await hub.store.sweep()).timers_fired == 0
    hub.clock.advance(1)
    swept = await hub.store.sweep()
    assert (swept.timers_fired, swept.expired_leases, swept.dispatches) == (1, 0, [])
    view = await hub.store.get(execution_id)
    assert (view.status, view.error["kind"]) == ("timed_out", "timeout")
    assert view.state.steps["s0"].status == "cancelled"
    assert await hub.store.renew(claim) is None
    assert await hub.count(TIMERS) == 0


async def test_start_is_idempotent_by_key_and_refuses_the_same_key_with_another_input(hub: Harness) -> None:
    workflow_id = await hub.workflow(chain(1))
    first, applied = await hub.store.start(workflow_id, None, {"order": 7}, idempotency_key="order-7")
    again, repeated = await hub.store.start(workflow_id, 1, {"order": 7}, idempotency_key="order-7")
    assert again == first
    assert repeated.accepted is False
    assert repeated.dispatches == []
    assert repeated.status == "running"
    with pytest.raises(IdempotencyConflictError, match="order-7"):
        await hub.store.start(workflow_id, None, {"order": 8}, idempotency_key="order-7")
    other, _ = await hub.store.start(workflow_id, None, {"order": 7})
    assert other != first
    assert applied.accepted


async def test_a_start_writes_its_record_in_its_own_transaction_and_a_replay_or_a_refusal_writes_none(
    hub: Harness,
) -> None:
    definition = chain(1)
    definition["input_schema"] = {"type": "object", "properties": {"n": {"type": "integer"}}}
    workflow_id = await hub.workflow(definition)
    made: list[Any] = []

    def record(execution_id: Any) -> AuditEntry:
        made.append(execution_id)
        return AuditEntry(
            at=T0, action="execution.start", target_type="execution", target_id=str(execution_id), outcome="success"
        )

    await hub.store.start(workflow_id, None, {"n": 0})  # the plan compiled and cached (a read of its own)
    commits: list[int] = []
    event.listen(hub.engine.sync_engine, "commit", lambda *_: commits.append(1))
    first, _ = await hub.store.start(workflow_id, None, {"n": 1}, record=record)
    assert len(commits) == 1  # the execution, its first transition and the record: one commit
    keyed, _ = await hub.store.start(workflow_id, None, {"n": 2}, idempotency_key="k", record=record)
    replayed, _ = await hub.store.start(workflow_id, None, {"n": 2}, idempotency_key="k", record=record)
    with pytest.raises(InvalidInputError):
        await hub.store.start(workflow_id, None, {"n": "one"}, record=record)
    assert replayed == keyed
    assert made == [first, keyed]
    assert await hub.count(AUDIT, target_id=str(first)) == 1
    assert await hub.count(AUDIT) == 2


async def test_a_check_runs_in_the_start_and_in_the_key_lookup_and_what_it_raises_stops_the_start(
    hub: Harness,
) -> None:
    workflow_id = await hub.workflow(chain(1))
    seen: list[WorkflowFacts] = []

    async def allow(session: Any, facts: WorkflowFacts) -> None:
        seen.append(facts)

    async def refuse(session: Any, facts: WorkflowFacts) -> None:
        raise PermissionError("not this workflow")

    first, _ = await hub.store.start(workflow_id, None, {"n": 1}, idempotency_key="k", check=allow)
    assert len(seen) == 2  # the key's lookup, then the start's own transaction
    stored = (await hub.store.summary(first)).workflow_version_id
    assert seen[1] == WorkflowFacts(workflow_id, DEFAULT_WORKSPACE_ID, False, None, stored, 1)
    with pytest.raises(PermissionError):
        await hub.store.start(workflow_id, None, {"n": 1}, idempotency_key="k", check=refuse)  # not even a replay
    with pytest.raises(PermissionError):
        await hub.store.start(workflow_id, None, {"n": 2}, check=refuse)
    assert await hub.count(EXECUTIONS) == 1
    again, replayed = await hub.store.start(workflow_id, None, {"n": 1}, idempotency_key="k", check=allow)
    assert (again, replayed.accepted) == (first, False)


async def test_a_summary_is_the_view_without_the_engine_state_and_names_the_workspace(hub: Harness) -> None:
    workflow_id = await hub.workflow(chain(2))
    execution_id, applied = await hub.store.start(workflow_id, None, {"n": 1})
    await hub.run_by_hand(applied.dispatches)
    view = await hub.store.get(execution_id)
    summary = await hub.store.summary(execution_id)
    assert summary.workspace_id == DEFAULT_WORKSPACE_ID
    assert (summary.execution_id, summary.workflow_id, summary.workflow_version_id) == (
        view.execution_id,
        view.workflow_id,
        view.workflow_version_id,
    )
    assert (summary.status, summary.input, summary.output, summary.error) == (
        view.status,
        view.input,
        view.output,
        view.error,
    )
    assert (summary.steps, summary.next_sequence) == (view.steps, view.next_sequence)
    assert (summary.created_at, summary.started_at, summary.finished_at) == (
        view.created_at,
        view.started_at,
        view.finished_at,
    )
    assert summary.finished_at is not None
    assert [step.step_id for step in summary.steps] == ["s0", "s1"]
    with pytest.raises(ExecutionNotFoundError):
        await hub.store.summary(uuid7())


async def test_start_and_summarize_makes_the_summary_from_its_writes_and_a_replay_reads_it_after(
    hub: Harness,
) -> None:
    workflow_id = await hub.workflow(chain(2))
    await hub.store.start(workflow_id, None, {"n": 0})  # the plan compiled and cached (a read of its own)
    commits: list[int] = []
    statements: list[str] = []
    event.listen(hub.engine.sync_engine, "commit", lambda *_: commits.append(1))
    event.listen(hub.engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    on_the_wire: list[str] = []  # what the driver sent, BEGIN and COMMIT included
    watched: set[int] = set()

    def watch(dbapi_connection: Any, *_: Any) -> None:
        driver = dbapi_connection.driver_connection
        if hub.engine.dialect.name == "postgresql" and id(driver) not in watched:
            watched.add(id(driver))
            driver.add_query_logger(lambda record: on_the_wire.append(record.query))

    event.listen(hub.engine.sync_engine, "checkout", watch)
    summary, applied = await hub.store.start_and_summarize(workflow_id, None, {"n": 1})
    assert len(commits) == 1
    if hub.engine.dialect.name == "postgresql":
        # The workflow's facts, then the execution and every other row at once, each committing by itself.
        assert len(statements) == 2
        assert statements[1].lstrip().upper().startswith("WITH")
        assert not any(statement.lstrip().upper().startswith("SELECT EXECUTIONS") for statement in statements)
        assert not [query for query in on_the_wire if query.split()[0].upper().rstrip(";") in ("BEGIN", "COMMIT")]
    assert applied.accepted
    assert summary == await hub.store.summary(summary.execution_id)
    assert [(step.step_id, step.attempt) for step in summary.steps] == [("s0", 1)]
    keyed, _ = await hub.store.start_and_summarize(workflow_id, None, {"n": 2}, idempotency_key="k")
    replayed, again = await hub.store.start_and_summarize(workflow_id, None, {"n": 2}, idempotency_key="k")
    assert again.accepted is False
    assert replayed == keyed
    if hub.engine.dialect.name == "postgresql":  # an ordinary transaction: the driver's log does see one
        on_the_wire.clear()
        await hub.store.cancel(summary.execution_id, "seen")
        assert [query.split()[0].upper().rstrip(";") for query in on_the_wire] == ["BEGIN", "COMMIT"]


async def test_the_summary_a_start_makes_is_the_one_read_back_for_every_first_step(hub: Harness) -> None:
    """Several first steps, a step that needs them, and an input mapping: as ``summary`` reads it."""
    definition = {
        "name": "fan",
        "steps": [
            {"id": "c", "type": "core.transform", "config": {"expression": "input.n"}},
            {"id": "a", "type": "core.transform", "config": {"expression": "input"}},
            {"id": "b", "type": "core.transform", "input": "{m: input.n}", "config": {"expression": "input.m"}},
            {"id": "join", "type": "core.transform", "needs": ["a", "b", "c"], "config": {"expression": "`1`"}},
        ],
    }
    workflow_id = await hub.workflow(definition)
    summary, applied = await hub.store.start_and_summarize(workflow_id, None, {"n": 5})
    assert summary == await hub.store.summary(summary.execution_id)
    assert [(step.step_id, step.status, step.input) for step in summary.steps] == [
        ("a", "scheduled", {"n": 5}),
        ("b", "scheduled", {"m": 5}),
        ("c", "scheduled", {"n": 5}),
    ]
    assert len(applied.dispatches) == 3


async def test_concurrent_starts_with_one_key_make_one_execution(hub: Harness) -> None:
    workflow_id = await hub.workflow(chain(1))
    results = await asyncio.gather(
        *(hub.store.start(workflow_id, None, {"order": 9}, idempotency_key="order-9") for _ in range(4))
    )
    assert len({execution_id for execution_id, _ in results}) == 1
    assert [applied.accepted for _, applied in results].count(True) == 1
    assert await hub.count(EXECUTIONS) == 1


async def test_an_input_that_does_not_fit_is_refused_with_its_pointer(hub: Harness) -> None:
    definition = chain(1)
    definition["input_schema"] = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    workflow_id = await hub.workflow(definition)
    with pytest.raises(InvalidInputError) as caught:
        await hub.store.start(workflow_id, None, {"n": "seven"})
    assert [problem.pointer for problem in caught.value.problems] == ["/n"]
    assert await hub.count(STEP_RUNS) == 0


async def test_an_event_of_a_stale_attempt_applied_directly_is_recorded_and_changes_nothing(hub: Harness) -> None:
    workflow_id = await hub.workflow(chain(1))
    execution_id, _ = await hub.store.start(workflow_id, None, {})
    before = await hub.store.get(execution_id)
    refused = await hub.store.apply(execution_id, StepSucceeded("s0", 2, T0))
    assert refused.accepted is False
    assert await hub.store.get(execution_id) == before
    assert ExecutionStatus(before.status) is ExecutionStatus.RUNNING
    assert await hub.count(STALE, execution_id=execution_id) == 1


async def test_start_runs_the_latest_version_unless_one_is_named_and_refuses_unknown_ones(hub: Harness) -> None:
    workflow_id = await hub.workflow(chain(1))
    async with session_factory(hub.engine, writes=True).begin() as session:
        await WorkflowVersionService(session, hub.registry, hub.store.plans).save_version(workflow_id, chain(2))
    latest, _ = await hub.store.start(workflow_id, None, {})
    first, _ = await hub.store.start(workflow_id, 1, {})
    assert list((await hub.store.get(latest)).state.steps) == ["s0", "s1"]
    assert list((await hub.store.get(first)).state.steps) == ["s0"]
    with pytest.raises(WorkflowNotFoundError):
        await hub.store.start(workflow_id, 3, {})
    with pytest.raises(WorkflowNotFoundError):
        await hub.store.start(uuid7(), None, {})


async def test_a_timer_that_moves_stays_one_row_with_its_new_time(hub: Harness) -> None:
    # Written with the transition's other writes (one statement on PostgreSQL), a moved timer is an update.
    workflow_id = await hub.workflow(chain(1, timeout_seconds=10))
    execution_id, applied = await hub.store.start(workflow_id, None, {})
    claim = await hub.store.claim(applied.dispatches[0], "w1")
    assert claim is not None
    assert claim.deadline is not None
    later = claim.deadline + timedelta(seconds=5)
    async with hub.store.sessions() as session, session.begin():
        loaded = await hub.store.lock(session, execution_id)
        assert loaded is not None
        old = loaded.state
        new = replace(old, steps={**old.steps, "s0": replace(old.steps["s0"], run_deadline=later)})
        writes = timer_writes(execution_id, old, new, hub.clock.at)
        assert [type(write) for write in writes] == [Change]
        await run_writes(session, writes, Change(EXECUTIONS, {"id": execution_id}, {"updated_at": hub.clock.at}))
    async with hub.engine.connect() as connection:
        timers = (
            await connection.execute(
                select(Timer.kind, Timer.step_id, Timer.due_at).where(Timer.execution_id == execution_id)
            )
        ).all()
    assert [tuple(row) for row in timers] == [("run_timeout", "s0", later)]
    gone = timer_writes(
        execution_id,
        new,
        replace(new, steps={**new.steps, "s0": replace(new.steps["s0"], run_deadline=None)}),
        hub.clock.at,
    )
    fresh = timer_writes(execution_id, old, replace(old, deadline=later), hub.clock.at)
    assert [type(write) for write in gone] == [Prepared]
    assert [type(write) for write in fresh] == [Insert]
