"""Queued claims: a distributed worker's result claims ready branches beyond its free slots, for its queue.

They start in order as its slots free up, their leases are renewed while
they wait, their run deadlines count from when they start, and they are
handed back once they waited too long or when the worker stops.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import msgspec
from redis.asyncio import Redis

from tests.behaviour.conftest import RUN_WITHIN, SETTINGS, distributed_hub, new_stream
from tests.runtime.testing_plugin import Calls
from wirehub.engine import StepReleased
from wirehub.runtime.registry import NodeRegistry
from wirehub.settings import Settings
from wirehub.store import QUEUED_START_SECONDS
from wirehub.worker.claim_queue import ClaimQueue
from wirehub.worker.embedded import EmbeddedHub

ONE_SLOT = msgspec.structs.replace(SETTINGS, worker_concurrency=1)


def _fan_out(branches: int, seconds: float, **branch: Any) -> dict[str, Any]:
    sleep = {"type": "test.sleep", "config": {"seconds": seconds}, "needs": ["root"], **branch}
    return {
        "name": "fan-out",
        "steps": [
            {"id": "root", "type": "test.flaky", "config": {"failures": 0}},
            *({"id": f"b{i}", **sleep} for i in range(branches)),
        ],
    }


@contextlib.asynccontextmanager
async def _one_slot_worker(
    registry: NodeRegistry,
    postgresql_url: str,
    redis_url: str,
    settings: Settings = ONE_SLOT,
    *,
    stream: str | None = None,
    **queue: Any,
) -> AsyncIterator[EmbeddedHub]:
    """A worker with one slot whose queue takes up to four claims whatever its pace."""
    async with distributed_hub(settings, registry, postgresql_url, redis_url, stream=stream) as hub:
        hub.worker.runner.queue = ClaimQueue(4, start_within=None, **queue)
        yield hub


async def _events(hub: EmbeddedHub, execution_id: UUID, step_id: str) -> list[str]:
    return [
        type(entry.event).__name__ for entry in await hub.store.history(execution_id) if entry_step(entry) == step_id
    ]


def entry_step(entry: Any) -> str | None:
    return getattr(entry.event, "step_id", None)


async def test_queued_claims_start_in_order_as_the_slot_frees_up(
    registry: NodeRegistry, calls: Calls, postgresql_url: str, redis_url: str
) -> None:
    async with _one_slot_worker(registry, postgresql_url, redis_url) as hub:
        execution_id = await hub.start(await hub.save(_fan_out(3, 0.2)))
        async with asyncio.timeout(RUN_WITHIN):
            view = await hub.wait(execution_id)
        history = await hub.store.history(execution_id)
    assert view.status == "succeeded"
    # The root's result claimed every branch: one to run in its slot, two for the queue.
    root_result = next(entry for entry in history if type(entry.event).__name__ == "StepSucceeded")
    claimed = [
        entry for entry in history if entry.sequence in range(root_result.sequence + 1, root_result.sequence + 4)
    ]
    assert [(type(e.event).__name__, entry_step(e)) for e in claimed] == [
        ("StepStarted", "b0"),
        ("StepStarted", "b1"),
        ("StepStarted", "b2"),
    ]
    assert [getattr(e.event, "starts_by", None) is not None for e in claimed] == [False, True, True]
    assert not any(type(entry.event).__name__ == "StepReleased" for entry in history)
    # One after another, in the order claimed, in the one slot.
    assert calls.most_sleeping == 1
    assert calls.started["b0"][0] < calls.started["b1"][0] < calls.started["b2"][0]
    assert all(calls.attempts[f"b{i}"] == [1] for i in range(3))


async def test_a_queued_claim_not_started_within_the_bound_is_handed_back_and_runs_once(
    registry: NodeRegistry, calls: Calls, postgresql_url: str, redis_url: str
) -> None:
    async with _one_slot_worker(registry, postgresql_url, redis_url, hand_back_after=0.3) as hub:
        execution_id = await hub.start(await hub.save(_fan_out(2, 0.8)))
        async with asyncio.timeout(RUN_WITHIN):
            view = await hub.wait(execution_id)
        b1 = await _events(hub, execution_id, "b1")
        history = await hub.store.history(execution_id)
    assert view.status == "succeeded"
    # Queued, handed back while b0 held the slot, then claimed again from the stream once it was free.
    assert b1 == ["StepStarted", "StepReleased", "StepStarted", "StepSucceeded"]
    released = next(entry.event for entry in history if isinstance(entry.event, StepReleased))
    assert "not started within 0.3 s" in released.reason
    assert calls.attempts["b1"] == [1]  # it ran once
    assert calls.started["b1"][0] >= calls.started["b0"][0] + 0.7


async def test_a_stopping_worker_hands_back_its_queued_claims_at_once(
    registry: NodeRegistry, calls: Calls, postgresql_url: str, redis_url: str
) -> None:
    stream = new_stream()
    settings = msgspec.structs.replace(ONE_SLOT, shutdown_grace_seconds=5.0)
    try:
        async with _one_slot_worker(registry, postgresql_url, redis_url, settings, stream=stream) as hub:
            execution_id = await hub.start(await hub.save(_fan_out(3, 1.0)))
            async with asyncio.timeout(RUN_WITHIN):
                while not calls.attempts["b0"] or len(hub.worker.runner.queue) < 2:  # noqa: ASYNC110  # no event to wait on
                    await asyncio.sleep(0.02)
            store = hub.store
            loop = asyncio.get_running_loop()
            stopping = loop.time()
            hub.worker.stop()
            async with asyncio.timeout(RUN_WITHIN):
                while (await store.get(execution_id)).state.steps["b2"].status != "scheduled":  # noqa: ASYNC110  # in the database
                    await asyncio.sleep(0.02)
            handed_back_after = loop.time() - stopping
            view = await store.get(execution_id)
        # Handed back at once, while b0 still ran in the grace; b0 itself finished.
        assert handed_back_after < 0.9
        assert [view.state.steps[f"b{i}"].status for i in (1, 2)] == ["scheduled", "scheduled"]
        assert view.state.steps["b1"].error is not None
        assert "the worker is stopping" in view.state.steps["b1"].error.message
        assert calls.attempts["b1"] == calls.attempts["b2"] == []
        # Another worker runs them from their dispatches.
        async with distributed_hub(ONE_SLOT, registry, postgresql_url, redis_url, stream=stream) as other:
            async with asyncio.timeout(RUN_WITHIN):
                final = await other.wait(execution_id)
    finally:
        async with Redis.from_url(redis_url) as redis:
            await redis.delete(stream)
    assert final.status == "succeeded"
    assert calls.attempts["b1"] == calls.attempts["b2"] == [1]


async def test_queued_leases_are_renewed_while_they_wait(
    registry: NodeRegistry, calls: Calls, postgresql_url: str, redis_url: str
) -> None:
    # b2 waits about 1.2 s in the queue, longer than the 1 s lease: unrenewed, the sweeper would time it out.
    settings = msgspec.structs.replace(ONE_SLOT, lease_seconds=1.0)
    async with _one_slot_worker(registry, postgresql_url, redis_url, settings) as hub:
        execution_id = await hub.start(await hub.save(_fan_out(3, 0.6)))
        async with asyncio.timeout(RUN_WITHIN):
            view = await hub.wait(execution_id)
        history = await hub.store.history(execution_id)
    assert view.status == "succeeded"
    names = [type(entry.event).__name__ for entry in history]
    assert "StepTimedOut" not in names
    assert "StepReleased" not in names
    assert all(calls.attempts[f"b{i}"] == [1] for i in range(3))
    assert calls.started["b2"][0] - calls.started["b0"][0] > settings.lease_seconds


async def test_a_queued_claim_s_run_deadline_counts_from_its_start(
    registry: NodeRegistry, calls: Calls, postgresql_url: str, redis_url: str
) -> None:
    # Each branch runs 0.6 s of its 1 s (the first, claimed with the root's result, has 0.4 s to spare
    # on a busy machine): b2 starts about 1.2 s after its claim, past 1 s.
    async with _one_slot_worker(registry, postgresql_url, redis_url) as hub:
        execution_id = await hub.start(await hub.save(_fan_out(3, 0.6, timeout_seconds=1.0)))
        async with asyncio.timeout(RUN_WITHIN):
            view = await hub.wait(execution_id)
        history = await hub.store.history(execution_id)
    assert view.status == "succeeded"
    assert "StepTimedOut" not in [type(entry.event).__name__ for entry in history]
    assert all(calls.attempts[f"b{i}"] == [1] for i in range(3))
    for step_id in ("b1", "b2"):
        (ctx,) = calls.contexts[step_id]
        started = next(entry.event for entry in history if entry_step(entry) == step_id)
        assert ctx.deadline is not None
        # The node's deadline is its start plus the timeout: past the claim's, within the queue's bound.
        counted = (ctx.deadline - started.at).total_seconds()
        assert 1.0 + 0.4 < counted <= 1.0 + QUEUED_START_SECONDS
