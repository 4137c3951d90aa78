"""End to end in one process: the store on SQLite, taskiq's in-process broker, a worker and its sweeper."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from tests.runtime import testing_plugin
from wirehub.runtime.registry import NodeRegistry
from wirehub.settings import Settings
from wirehub.worker import TASK_NAME
from wirehub.worker.embedded import EmbeddedHub, embedded_hub

WORKFLOW: dict[str, Any] = {
    "name": "everything-at-once",
    "steps": [
        {"id": "start", "type": "core.transform", "config": {"expression": "input"}},
        {"id": "left", "type": "test.barrier", "needs": ["start"], "config": {"parties": 2}},
        {"id": "right", "type": "test.barrier", "needs": ["start"], "config": {"parties": 2}},
        {
            "id": "flaky",
            "type": "test.flaky",
            "needs": ["left", "right"],
            "config": {"failures": 2},
            "retry": {"max_attempts": 3, "interval_seconds": 0.1, "backoff_rate": 2, "retry_on": ["test.flaky"]},
        },
        {"id": "pause", "type": "core.delay", "needs": ["flaky"], "config": {"seconds": 0.3}},
        {
            "id": "broken",
            "type": "test.flaky",
            "needs": ["pause"],
            "config": {"retryable": False},
            "catch": [{"errors": ["test.broken"], "next": "handler"}],
        },
        {"id": "handler", "type": "core.transform", "input": "error", "config": {"expression": "{caught: kind}"}},
    ],
    "output": {"flaky": "steps.flaky", "handler": "steps.handler"},
}


async def test_parallel_steps_a_retry_with_backoff_a_delay_and_a_catch_route_run_through_broker_and_store(
    hub: EmbeddedHub, calls: testing_plugin.Calls
) -> None:
    workflow_id = await hub.save(WORKFLOW)
    began = time.monotonic()
    execution_id = await hub.start(workflow_id, {"n": 1})
    view = await hub.wait(execution_id, within=20)

    assert view.status == "succeeded", view.error
    assert view.output == {"flaky": {"attempt": 3}, "handler": {"caught": "test.broken"}}
    assert sorted(calls.attempts["left"] + calls.attempts["right"]) == [1, 1]  # ran together: the barrier opened
    assert calls.attempts["flaky"] == [1, 2, 3]
    first, second, third = calls.started["flaky"]
    assert second - first >= 0.1 * 0.9  # backoff: 0.1 s...
    assert third - second >= 0.2 * 0.9  # ... then 0.2 s
    assert calls.attempts["broken"] == [1]  # not retryable: caught at once
    assert time.monotonic() - began >= 0.1 + 0.2 + 0.3  # the backoff and the delay were waited out
    history = await hub.store.history(execution_id)
    assert [entry.sequence for entry in history] == list(range(1, len(history) + 1))
    workers = {run.worker for run in view.steps if run.status != "skipped" and run.step_id != "pause"}
    assert workers == {hub.worker.name}


async def test_the_replayed_history_reaches_the_stored_state(hub: EmbeddedHub, calls: testing_plugin.Calls) -> None:
    workflow_id = await hub.save(WORKFLOW)
    execution_id = await hub.start(workflow_id, {"n": 2})
    plan = hub.store.plans.get((workflow_id, 1))
    assert plan is not None
    seen: list[str] = []
    state = await hub.follow(execution_id, plan, {"n": 2}, lambda event, _state: seen.append(type(event).__name__))
    view = await hub.wait(execution_id, within=5)
    assert state.status.value == view.status == "succeeded"
    assert state.output == view.output
    assert seen[0] == "ExecutionStarted"
    assert seen.count("StepSucceeded") == 5  # start, left, right, flaky and handler; pause waited, broken failed


async def test_cancel_while_a_step_runs_stops_its_node_within_a_second(
    hub: EmbeddedHub, calls: testing_plugin.Calls
) -> None:
    workflow_id = await hub.save(
        {"name": "long", "steps": [{"id": "s", "type": "test.sleep", "config": {"seconds": 30}}]}
    )
    execution_id = await hub.start(workflow_id)
    async with asyncio.timeout(5):
        while not calls.contexts["s"]:  # noqa: ASYNC110  # the node offers no event to wait on
            await asyncio.sleep(0.01)
    asked = time.monotonic()
    await hub.cancel(execution_id)
    view = await hub.wait(execution_id, within=5)
    assert view.status == "cancelled"
    context = calls.contexts["s"][0]
    async with asyncio.timeout(1.5):
        while not context.cancelled.is_set():  # noqa: ASYNC110  # set on the node's own thread
            await asyncio.sleep(0.01)
    assert time.monotonic() - asked < 1.5
    assert hub.worker.runner.running == 0


async def test_each_dispatch_delivered_twice_runs_its_step_once(hub: EmbeddedHub, calls: testing_plugin.Calls) -> None:
    definition = {
        "name": "fan-out",
        "steps": [
            {"id": "a", "type": "test.flaky", "config": {"failures": 0}},
            {"id": "b", "type": "test.flaky", "config": {"failures": 0}},
            {"id": "join", "type": "test.flaky", "needs": ["a", "b"], "config": {"failures": 0}},
        ],
    }
    workflow_id = await hub.save(definition)
    execution_id, applied = await hub.store.start(workflow_id, None, None)
    await hub.worker.dispatcher.send(applied.dispatches)
    await hub.worker.dispatcher.send(applied.dispatches)  # every first dispatch, a second time
    view = await hub.wait(execution_id, within=10)
    assert view.status == "succeeded"
    assert {step: len(attempts) for step, attempts in calls.attempts.items()} == {"a": 1, "b": 1, "join": 1}
    assert sorted((run.step_id, run.attempt) for run in view.steps) == [("a", 1), ("b", 1), ("join", 1)]


async def test_a_step_running_longer_than_its_lease_keeps_it_and_runs_once(
    tmp_path: Path, registry: NodeRegistry, calls: testing_plugin.Calls
) -> None:
    settings = Settings(lease_seconds=0.6, sweep_interval_seconds=0.05)
    url = f"sqlite+aiosqlite:///{tmp_path / 'lease.db'}"
    async with embedded_hub(settings, registry, database_url=url) as hub:
        workflow_id = await hub.save(
            {"name": "long", "steps": [{"id": "s", "type": "test.sleep", "config": {"seconds": 1.5}}]}
        )
        execution_id = await hub.start(workflow_id)
        view = await hub.wait(execution_id, within=10)
    assert view.status == "succeeded"
    assert [(run.attempt, run.status) for run in view.steps] == [(1, "succeeded")]
    assert calls.attempts["s"] == [1]


async def test_a_malformed_dispatch_message_is_dropped_and_the_worker_goes_on(
    hub: EmbeddedHub, calls: testing_plugin.Calls, caplog: pytest.LogCaptureFixture
) -> None:
    task = hub.worker.broker.find_task(TASK_NAME)
    assert task is not None
    hub.worker.broker.middlewares.clear()  # as a sender without DispatchOnly would (another version, a hand)
    await task.kiq({"execution_id": "not a uuid"})
    workflow_id = await hub.save(
        {"name": "one", "steps": [{"id": "s", "type": "test.flaky", "config": {"failures": 0}}]}
    )
    view = await hub.wait(await hub.start(workflow_id), within=5)
    assert view.status == "succeeded"
    assert "dropping a malformed dispatch message" in caplog.text
