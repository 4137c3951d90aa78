"""The store publishes the events of every committed transition, and only of committed ones."""

from __future__ import annotations

from uuid import uuid4

from msgspec.structs import replace
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.events.conftest import Recorder
from tests.store.executions_support import RETRY, chain, make_harness
from wirehub.engine import StepSucceeded
from wirehub.plugins import Registry
from wirehub.store import Claim, Dispatch, recorded_events, session_factory
from wirehub.store.events import publish_after_commit


async def test_every_kind_of_transition_is_published_once_in_sequence_order_as_recorded(
    migrated: AsyncEngine, registry: Registry
) -> None:
    recorder = Recorder()
    harness = make_harness(migrated, registry, lease_seconds=30.0, publisher=recorder)
    store, clock = harness.store, harness.clock
    workflow_id = await harness.workflow(chain(3, **RETRY))

    execution_id, applied = await store.start(workflow_id, None, {"n": 1})  # execution_started
    (first,) = applied.dispatches
    claim = await store.claim(first, "w1")  # step_started
    assert claim is not None
    await store.hand_back(claim, "stopping")  # step_released
    claim = await store.claim(Dispatch(uuid4(), execution_id, "s0", 1), "w2")  # step_started
    assert claim is not None
    clock.advance(31)
    assert (await store.sweep()).expired_leases == 1  # step_timed_out: the lease lapsed; a retry timer
    clock.advance(6)
    swept = await store.sweep()  # timer_fired: attempt 2
    assert swept.timers_fired == 1
    (retry,) = [dispatch for dispatch in swept.dispatches if dispatch.step_id == "s0"]
    claim = await store.claim(retry, "w1")  # step_started
    assert claim is not None
    calls_before = recorder.calls
    stale = await store.finish(replace(claim, lease_token=uuid4()), _ok(claim))
    assert not stale.accepted
    assert recorder.calls == calls_before  # refused: nothing committed, nothing published
    finished = await store.finish(claim, _ok(claim), worker="w1", eager=1)  # step_succeeded + step_started of s1
    assert finished.accepted
    assert len(finished.claims) == 1
    await store.cancel(execution_id)  # cancel_requested, while s1 runs: cancelled

    recorded = await recorded_events(store, execution_id)
    assert recorder.events == recorded
    assert [event.sequence for event in recorded] == list(range(1, len(recorded) + 1))
    assert [event.event_type for event in recorded] == [
        "execution_started",
        "step_started",
        "step_released",
        "step_started",
        "step_timed_out",
        "timer_fired",
        "step_started",
        "step_succeeded",
        "step_started",
        "cancel_requested",
    ]
    assert {event.execution_id for event in recorded} == {execution_id}
    assert {event.workflow_id for event in recorded} == {workflow_id}
    assert [event.status for event in recorded][-1] == "cancelled"
    assert {event.status for event in recorded[:-1]} == {"running"}
    assert recorded[-1].terminal
    assert not recorded[-2].terminal
    assert [event.at for event in recorded] == [event.event.at for event in recorded]  # the store's clock
    assert await recorded_events(store, execution_id, after=9) == recorded[9:]


async def test_a_transaction_that_rolls_back_publishes_nothing(migrated: AsyncEngine, registry: Registry) -> None:
    recorder = Recorder()
    harness = make_harness(migrated, registry, publisher=recorder)
    workflow_id = await harness.workflow(chain(1))
    execution_id, _ = await harness.store.start(workflow_id, None, {})
    (event,) = recorder.events
    row = {
        "execution_id": execution_id,
        "sequence": 2,
        "event_type": event.event_type,
        "event": event.event,
        "recorded_at": event.at,
    }
    sessions = session_factory(migrated, writes=True)
    async with sessions() as session:
        transaction = await session.begin()
        publish_after_commit(session, recorder, workflow_id, [row], "running")
        await transaction.rollback()
    assert recorder.calls == 1
    async with sessions() as session, session.begin():
        publish_after_commit(session, recorder, workflow_id, [row], "running")
        assert recorder.calls == 1  # not before the commit
    assert recorder.calls == 2
    assert recorder.events[-1].sequence == 2


def _ok(claim: Claim) -> StepSucceeded:
    return StepSucceeded(claim.step_id, claim.attempt, claim.claimed_at, output={"ok": True})
