"""A result can come with the claim of the attempt it made ready (eager dispatch), and reads only what it needs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from msgspec.structs import replace
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.store.executions_support import RETRY, T0, Harness, chain, make_harness
from wirehub.engine import StepSucceeded
from wirehub.plugins import Registry
from wirehub.store import QUEUED_START_SECONDS, Applied, Claim
from wirehub.store.models import DispatchRecord, HistoryEntry, StaleEvent, StepRun


@pytest.fixture
async def hub(migrated: AsyncEngine, registry: Registry) -> Harness:
    return make_harness(migrated, registry)


async def _succeed(hub: Harness, claim: Claim, output: Any, eager: int = 1) -> Any:
    event_ = StepSucceeded(claim.step_id, claim.attempt, claim.claimed_at, output=output)
    return await hub.store.finish(claim, event_, worker="w1", eager=eager)


async def test_a_result_claims_the_next_step_for_its_worker_in_the_same_transaction(hub: Harness) -> None:
    workflow_id = await hub.workflow(chain(3))
    execution_id, started = await hub.store.start(workflow_id, None, {"n": 1})
    first = await hub.store.claim(started.dispatches[0], "w1")
    assert first is not None

    applied = await _succeed(hub, first, {"n": 2})

    assert applied.accepted
    assert applied.dispatches == []
    (claim,) = applied.claims
    assert (claim.step_id, claim.attempt, claim.input) == ("s1", 1, {"n": 2})
    assert claim.step is not None
    assert claim.step.id == "s1"
    # The claim is an ordinary fenced claim: the attempt runs under its lease, no dispatch record is left.
    async with hub.engine.connect() as connection:
        row = (
            await connection.execute(
                select(StepRun.status, StepRun.worker, StepRun.lease_token, StepRun.started_at).where(
                    StepRun.execution_id == execution_id, StepRun.step_id == "s1"
                )
            )
        ).one()
        events = (
            await connection.execute(
                select(HistoryEntry.event_type)
                .where(HistoryEntry.execution_id == execution_id)
                .order_by(HistoryEntry.sequence)
            )
        ).scalars()
        assert list(events) == ["execution_started", "step_started", "step_succeeded", "step_started"]
    assert (row.status, row.worker, row.lease_token) == ("running", "w1", claim.lease_token)
    assert row.started_at is not None
    assert await hub.count(DispatchRecord.__table__, execution_id=execution_id) == 0
    # A second result for the first attempt is stale; the eager claim's own result counts.
    assert not (await _succeed(hub, first, {"n": 9})).accepted
    second = await _succeed(hub, claim, {"n": 3})
    assert second.accepted
    assert [c.step_id for c in second.claims] == ["s2"]
    last = await _succeed(hub, second.claims[0], {"n": 4})
    assert last.accepted
    assert last.claims == []
    assert last.status == "succeeded"
    # Without an output mapping the execution's output is every output: all were read at the end.
    assert (await hub.store.get(execution_id)).output == {"s0": {"n": 2}, "s1": {"n": 3}, "s2": {"n": 4}}


async def test_without_eager_the_next_step_is_dispatched(hub: Harness) -> None:
    workflow_id = await hub.workflow(chain(2))
    _, started = await hub.store.start(workflow_id, None, {})
    first = await hub.store.claim(started.dispatches[0], "w1")
    assert first is not None
    applied = await _succeed(hub, first, {}, eager=0)
    assert applied.claims == []
    assert [d.step_id for d in applied.dispatches] == ["s1"]


async def test_a_fan_out_claims_one_branch_and_dispatches_the_others(hub: Harness) -> None:
    branches = [{"id": f"b{i}", "type": "core.transform", "needs": ["root"]} for i in range(3)]
    definition = {
        "name": "fan",
        "steps": [{"id": "root", "type": "core.transform"}, *branches],
    }
    workflow_id = await hub.workflow(definition)
    _, started = await hub.store.start(workflow_id, None, {})
    root = await hub.store.claim(started.dispatches[0], "w1")
    assert root is not None
    applied = await _succeed(hub, root, {"x": 1})
    assert len(applied.claims) == 1
    assert len(applied.dispatches) == 2
    assert {c.step_id for c in applied.claims} | {d.step_id for d in applied.dispatches} == {"b0", "b1", "b2"}
    # A dispatched branch is claimed as ever; the eagerly claimed one has no dispatch to claim.
    assert await hub.store.claim(applied.dispatches[0], "w2") is not None


async def test_a_result_reads_only_the_outputs_its_successors_read_and_all_of_them_at_the_end(
    hub: Harness,
) -> None:
    # s3 reads s0's output by name; the execution's output reads every step's.
    steps: list[dict[str, Any]] = [
        {"id": "s0", "type": "core.transform"},
        {"id": "s1", "type": "core.transform", "needs": ["s0"]},
        {"id": "s2", "type": "core.transform", "needs": ["s1"]},
        {"id": "s3", "type": "core.transform", "needs": ["s2"], "input": {"from": "steps.s0.v"}},
    ]
    output = {"all": "[steps.s0.v, steps.s1.v, steps.s2.v, steps.s3.from]"}
    workflow_id = await hub.workflow({"name": "reads", "steps": steps, "output": output})
    execution_id, started = await hub.store.start(workflow_id, None, {})
    claim = await hub.store.claim(started.dispatches[0], "w1")
    assert claim is not None
    for value in ("a", "b", "c", "d"):
        applied = await _succeed(hub, claim, {"v": value} if claim.step_id != "s3" else claim.input)
        assert applied.accepted
        if applied.claims:
            claim = applied.claims[0]
    assert claim.step_id == "s3"
    assert claim.input == {"from": "a"}
    view = await hub.store.get(execution_id)
    assert view.status == "succeeded"
    assert view.output == {"all": ["a", "b", "c", "a"]}


async def test_a_join_gets_every_branch_output_when_its_last_branch_succeeds(hub: Harness) -> None:
    branches = [{"id": f"b{i}", "type": "core.transform", "needs": ["root"]} for i in range(3)]
    join = {"id": "join", "type": "core.transform", "needs": ["b0", "b1", "b2"]}
    workflow_id = await hub.workflow(
        {"name": "join", "steps": [{"id": "root", "type": "core.transform"}, *branches, join]}
    )
    _, started = await hub.store.start(workflow_id, None, {})
    root = await hub.store.claim(started.dispatches[0], "w1")
    assert root is not None
    applied = await _succeed(hub, root, {}, eager=0)
    claims = [await hub.store.claim(dispatch, "w1") for dispatch in applied.dispatches]
    results = [await _succeed(hub, claim, {"from": claim.step_id}) for claim in claims if claim is not None]
    assert [len(result.claims) for result in results] == [0, 0, 1]
    assert results[-1].claims[0].input == {f"b{i}": {"from": f"b{i}"} for i in range(3)}


def _fan_out_and_join(width: int) -> dict[str, Any]:
    branches = [{"id": f"b{i}", "type": "core.transform", "needs": ["root"]} for i in range(width)]
    join = {"id": "join", "type": "core.transform", "needs": [f"b{i}" for i in range(width)]}
    return {"name": "join", "steps": [{"id": "root", "type": "core.transform"}, *branches, join]}


async def test_results_of_one_execution_are_recorded_together_each_fenced_with_its_own_history_entry(
    hub: Harness,
) -> None:
    workflow_id = await hub.workflow(_fan_out_and_join(3))
    execution_id, started = await hub.store.start(workflow_id, None, {})
    root = await hub.store.claim(started.dispatches[0], "w1")
    assert root is not None
    branches = (await _succeed(hub, root, {}, eager=3)).claims
    assert sorted(claim.step_id for claim in branches) == ["b0", "b1", "b2"]
    late = replace(branches[0], lease_token=uuid4())  # a result whose lease was lost meanwhile
    results = [
        (claim, StepSucceeded(claim.step_id, 1, claim.claimed_at, output={"from": claim.step_id})) for claim in branches
    ]
    applied = await hub.store.finish_all([(late, results[0][1]), *results[1:]], worker="w1", eager=1)
    assert [a.accepted for a in applied] == [False, True, True]
    assert applied[0].sequence is None
    assert applied[2].sequence == applied[1].sequence + 1  # type: ignore[operator]
    assert [a.claims for a in applied] == [[], [], []]  # b0 is still running: the join waits
    (last,) = await hub.store.finish_all([results[0]], worker="w1", eager=1)
    (join,) = last.claims
    assert join.input == {f"b{i}": {"from": f"b{i}"} for i in range(3)}
    async with hub.engine.connect() as connection:
        events = (
            await connection.execute(
                select(HistoryEntry.event_type)
                .where(HistoryEntry.execution_id == execution_id)
                .order_by(HistoryEntry.sequence)
            )
        ).scalars()
        assert list(events)[-4:] == ["step_succeeded", "step_succeeded", "step_succeeded", "step_started"]
    assert await hub.count(StaleEvent.__table__, execution_id=execution_id) == 1
    assert await hub.count(DispatchRecord.__table__, execution_id=execution_id) == 0


async def test_the_last_results_of_a_fan_out_recorded_together_claim_the_join_once(hub: Harness) -> None:
    workflow_id = await hub.workflow(_fan_out_and_join(3))
    _, started = await hub.store.start(workflow_id, None, {})
    root = await hub.store.claim(started.dispatches[0], "w1")
    assert root is not None
    branches = (await _succeed(hub, root, {}, eager=3)).claims
    applied = await hub.store.finish_all(
        [(claim, StepSucceeded(claim.step_id, 1, claim.claimed_at, output={})) for claim in branches], eager=0
    )
    assert all(a.accepted for a in applied)
    assert [[d.step_id for d in a.dispatches] for a in applied] == [["join"], [], []]


async def test_results_of_two_executions_are_not_recorded_together(hub: Harness) -> None:
    workflow_id = await hub.workflow(chain(1))
    roots = []
    for _ in range(2):
        _, started = await hub.store.start(workflow_id, None, {})
        root = await hub.store.claim(started.dispatches[0], "w1")
        assert root is not None
        roots.append((root, StepSucceeded("s0", 1, root.claimed_at, output={})))
    with pytest.raises(ValueError, match="one execution"):
        await hub.store.finish_all(roots)


async def test_an_eagerly_claimed_attempt_handed_back_is_claimed_again_with_its_input(hub: Harness) -> None:
    workflow_id = await hub.workflow(chain(2))
    _, started = await hub.store.start(workflow_id, None, {"n": 1})
    first = await hub.store.claim(started.dispatches[0], "w1")
    assert first is not None
    (second,) = (await _succeed(hub, first, {"n": 2})).claims
    await hub.store.hand_back(second, "the worker is stopping")
    (dispatch,) = (await hub.store.sweep()).dispatches
    again = await hub.store.claim(dispatch, "w2")
    assert again is not None
    assert (again.step_id, again.input) == ("s1", {"n": 2})


def _fan_out(width: int, **branch: Any) -> dict[str, Any]:
    branches = [{"id": f"b{i}", "type": "core.transform", "needs": ["root"], **branch} for i in range(width)]
    return {"name": "fan", "steps": [{"id": "root", "type": "core.transform"}, *branches]}


async def _queued_fan_out(hub: Harness, width: int, queue: int, **branch: Any) -> tuple[UUID, Applied]:
    workflow_id = await hub.workflow(_fan_out(width, **branch))
    execution_id, started = await hub.store.start(workflow_id, None, {})
    root = await hub.store.claim(started.dispatches[0], "w1")
    assert root is not None
    event_ = StepSucceeded("root", 1, root.claimed_at, output={"x": 1})
    return execution_id, await hub.store.finish(root, event_, worker="w1", eager=1, queue=queue)


async def test_a_result_claims_beyond_the_free_slots_up_to_the_queue_bound_in_its_transaction(hub: Harness) -> None:
    execution_id, applied = await _queued_fan_out(hub, 5, queue=2, timeout_seconds=10)

    assert [c.step_id for c in applied.claims] == ["b0"]
    assert [c.step_id for c in applied.queued] == ["b1", "b2"]  # the bound: two, the rest dispatched
    assert [d.step_id for d in applied.dispatches] == ["b3", "b4"]
    (now,) = applied.claims
    assert now.starts_by is None
    assert now.deadline == T0 + timedelta(seconds=10)
    for queued in applied.queued:
        # A fenced claim like any other, whose run deadline counts from when it must have started.
        assert queued.starts_by == T0 + timedelta(seconds=QUEUED_START_SECONDS)
        assert queued.deadline == queued.starts_by + timedelta(seconds=10)
        assert queued.input == {"x": 1}  # a single source: its output is the input
    async with hub.engine.connect() as connection:
        rows = (
            await connection.execute(
                select(StepRun.step_id, StepRun.status, StepRun.worker, StepRun.lease_token).where(
                    StepRun.execution_id == execution_id, StepRun.step_id.in_(["b1", "b2"])
                )
            )
        ).all()
        history = (
            await connection.execute(
                select(HistoryEntry.sequence, HistoryEntry.event)
                .where(HistoryEntry.execution_id == execution_id)
                .order_by(HistoryEntry.sequence)
            )
        ).all()
    tokens = {claim.step_id: claim.lease_token for claim in applied.queued}
    assert {(row.step_id, row.status, row.worker, row.lease_token) for row in rows} == {
        (step_id, "running", "w1", token) for step_id, token in tokens.items()
    }
    # The result, its eager claim and the queued claims: consecutive entries of the result's transaction.
    recorded = [(entry.event["type"], entry.event.get("step_id")) for entry in history[-4:]]
    assert recorded == [
        ("step_succeeded", "root"),
        ("step_started", "b0"),
        ("step_started", "b1"),
        ("step_started", "b2"),
    ]
    assert history[-4].sequence == applied.sequence
    assert [entry.event.get("starts_by") is not None for entry in history[-3:]] == [False, True, True]
    # Only the branches left to the broker have dispatch records.
    assert await hub.count(DispatchRecord.__table__, execution_id=execution_id) == 2


async def test_without_a_queue_nothing_is_claimed_beyond_the_free_slots(hub: Harness) -> None:
    _, applied = await _queued_fan_out(hub, 3, queue=0)
    assert len(applied.claims) == 1
    assert applied.queued == []
    assert len(applied.dispatches) == 2


async def test_queued_leases_are_renewed_together_and_a_lost_one_is_told(hub: Harness) -> None:
    execution_id, applied = await _queued_fan_out(hub, 3, queue=2)
    first, second = applied.queued
    hub.clock.advance(20)
    renewed = await hub.store.renew_all([first, second, replace(second, lease_token=uuid4())])
    assert renewed == [hub.clock.at + timedelta(seconds=30)] * 2 + [None]
    hub.clock.advance(15)  # past the first lease, within the renewed one
    assert (await hub.store.sweep()).expired_leases == 1  # b0, claimed to run now and never renewed
    view = await hub.store.get(execution_id)
    assert view.state.steps["b0"].status == "timed_out"
    # Its execution failed meanwhile: the queued claims' leases are lost now.
    assert await hub.store.renew_all([first, second]) == [None, None]


async def test_a_queued_claim_handed_back_cannot_finish_and_its_dispatch_is_claimed_elsewhere(hub: Harness) -> None:
    execution_id, applied = await _queued_fan_out(hub, 2, queue=1)
    (queued,) = applied.queued
    dispatch = await hub.store.hand_back(queued, "not started within 2 s", send=True)
    assert dispatch is not None
    assert (dispatch.step_id, dispatch.attempt) == ("b1", 1)
    # The stale queued claim's result changes nothing and is recorded as stale.
    late = await _succeed(hub, queued, {"late": True})
    assert not late.accepted
    assert await hub.count(StaleEvent.__table__, execution_id=execution_id) == 1
    # The sender has it: the next sweep does not send it again before the redelivery interval.
    assert (await hub.store.sweep()).dispatches == []
    again = await hub.store.claim(dispatch, "w2")
    assert again is not None
    assert again.input == queued.input
    assert (await _succeed(hub, again, {"ok": True})).accepted


async def test_a_queued_claim_whose_lease_expired_cannot_finish(hub: Harness) -> None:
    execution_id, applied = await _queued_fan_out(hub, 2, queue=1, **RETRY)
    (queued,) = applied.queued
    hub.clock.advance(31)  # its worker died: nobody renewed it
    swept = await hub.store.sweep()
    assert swept.expired_leases == 2  # the running branch and the queued one
    assert not (await _succeed(hub, queued, {})).accepted
    view = await hub.store.get(execution_id)
    assert (view.state.steps["b1"].status, view.state.steps["b1"].attempt) == ("retry_wait", 1)
