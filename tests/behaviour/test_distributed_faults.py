"""Fault tests 4 and 5 of the distributed hub: duplicate deliveries, and a step longer than any redelivery window.

Two workers in this process read one Redis stream, their store on a fresh
PostgreSQL database (``tests/behaviour/conftest.py``); the test node types
record every attempt they run.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from typing import Any

import msgspec
import pytest
from redis.asyncio import Redis
from taskiq import AsyncBroker

from tests.behaviour.conftest import RUN_WITHIN, SETTINGS, distributed_hub, new_stream
from tests.runtime.testing_plugin import Calls
from wirehub.engine import StepStarted, StepSucceeded
from wirehub.runtime.registry import NodeRegistry
from wirehub.settings import Settings
from wirehub.store import Dispatch, ExecutionStore
from wirehub.worker import Dispatcher
from wirehub.worker.embedded import EmbeddedHub

EXECUTIONS = 10


class Twice(Dispatcher):
    """Sends every dispatch to the stream twice, as a broker that redelivers would: a test-only sender."""

    def __init__(self, broker: AsyncBroker, store: ExecutionStore) -> None:
        super().__init__(broker, store)
        self.dispatches = 0

    async def send(self, dispatches: Sequence[Dispatch]) -> int:
        sent = await super().send(dispatches)
        await super().send(dispatches[:sent])
        self.dispatches += sent
        return sent


def deliver_twice(hub: EmbeddedHub) -> Twice:
    """Makes the hub's worker, step runner and sweeper send every dispatch twice."""
    twice = Twice(hub.worker.broker, hub.store)
    hub.worker.dispatcher = twice
    hub.worker.runner.dispatcher = twice
    if hub.worker.sweeper is not None:
        hub.worker.sweeper.dispatcher = twice
    return twice


@contextlib.asynccontextmanager
async def two_workers(
    settings: Settings, registry: NodeRegistry, database_url: str, redis_url: str, stream: str
) -> AsyncIterator[tuple[EmbeddedHub, EmbeddedHub]]:
    """Two workers (each with its sweeper) reading ``stream``, which is deleted afterwards."""
    try:
        async with (
            distributed_hub(settings, registry, database_url, redis_url, stream=stream) as a,
            distributed_hub(settings, registry, database_url, redis_url, stream=stream) as b,
        ):
            yield a, b
    finally:
        async with Redis.from_url(redis_url) as redis:
            await redis.delete(stream)


def flaky(step_id: str, *needs: str) -> dict[str, Any]:
    return {"id": step_id, "type": "test.flaky", "config": {"failures": 0}, "needs": list(needs)}


FAN_OUT_AND_JOIN: dict[str, Any] = {
    "name": "fan-out-and-join",
    "steps": [
        flaky("root"),
        flaky("left", "root"),
        flaky("middle", "root"),
        flaky("right", "root"),
        flaky("join", "left", "middle", "right"),
        {"id": "last", "type": "core.transform", "needs": ["join"], "config": {"expression": "@"}},
    ],
    "output": "steps.last",
}
FLAKY_STEPS = ["root", "left", "middle", "right", "join"]


async def test_every_dispatch_delivered_twice_completes_each_step_once_and_fires_each_join_once(
    postgresql_url: str, redis_url: str, registry: NodeRegistry, calls: Calls, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="wirehub.worker")
    stream = new_stream()
    async with two_workers(SETTINGS, registry, postgresql_url, redis_url, stream) as (a, b):
        senders = [deliver_twice(a), deliver_twice(b)]
        workflow_id = await a.save(FAN_OUT_AND_JOIN)
        executions = [await a.start(workflow_id) for _ in range(EXECUTIONS)]
        views = [await a.wait(execution_id, within=RUN_WITHIN) for execution_id in executions]
        histories = [await a.store.history(execution_id) for execution_id in executions]
        async with Redis.from_url(redis_url) as redis:
            messages = (await redis.xinfo_stream(stream))["entries-added"]  # the sweepers trim what was read

    assert [view.status for view in views] == ["succeeded"] * EXECUTIONS, [view.error for view in views]
    assert [view.output for view in views] == [{"attempt": 1}] * EXECUTIONS
    steps = [*FLAKY_STEPS, "last"]
    for view in views:
        assert sorted((run.step_id, run.attempt, run.status) for run in view.steps) == sorted(
            (step, 1, "succeeded") for step in steps
        )
    ran = Counter((ctx.execution_id, step) for step in FLAKY_STEPS for ctx in calls.contexts[step])
    assert len(ran) == EXECUTIONS * len(FLAKY_STEPS)
    assert set(ran.values()) == {1}, "each step's node ran once in each execution"
    for history in histories:
        join = [entry.event for entry in history if getattr(entry.event, "step_id", None) == "join"]
        assert [type(event) for event in join if isinstance(event, StepStarted | StepSucceeded)] == [
            StepStarted,
            StepSucceeded,
        ], "the join was started once and completed once"
    dispatches = sum(sender.dispatches for sender in senders)
    assert dispatches >= EXECUTIONS, "at least each execution's first step went through the stream"
    assert messages == 2 * dispatches, "every dispatch went through the stream twice"
    refused = caplog.text.count("is stale or a duplicate: not run")
    assert refused >= dispatches, "each dispatch's second copy (at least) was refused by the claim"


async def test_a_step_running_longer_than_every_redelivery_window_runs_once(
    postgresql_url: str, redis_url: str, registry: NodeRegistry, calls: Calls
) -> None:
    # The lease (and the store's redelivery interval, which follows it) 0.6 s, the stream's idle window 0.2 s:
    # the step runs 2 s, while other executions bring new traffic to the stream (what makes taskiq-redis reclaim).
    settings = msgspec.structs.replace(SETTINGS, lease_seconds=0.6)
    stream = new_stream()
    async with two_workers(settings, registry, postgresql_url, redis_url, stream) as (a, b):
        for hub in (a, b):
            hub.worker.broker.idle_timeout = 200  # type: ignore[attr-defined]  # RedisStreamBroker's, in ms
        long_id = await a.save(
            {"name": "long", "steps": [{"id": "long", "type": "test.sleep", "config": {"seconds": 2}}]}
        )
        short_id = await a.save({"name": "short", "steps": [flaky("short")]})
        long = await a.start(long_id)
        shorts = [await b.start(short_id) for _ in range(EXECUTIONS)]
        views = [await a.wait(execution_id, within=RUN_WITHIN) for execution_id in [long, *shorts]]
        async with Redis.from_url(redis_url) as redis:
            pending = await redis.xpending(stream, "wirehub-workers")

    assert [view.status for view in views] == ["succeeded"] * (EXECUTIONS + 1), [view.error for view in views]
    assert calls.attempts["long"] == [1], "the long step's node ran once"
    assert [(run.attempt, run.status) for run in views[0].steps] == [(1, "succeeded")]
    assert len(calls.attempts["short"]) == EXECUTIONS
    assert pending["pending"] == 0, "every message was acknowledged"
