"""The hub's own pure node types run on the driver's loop; everything else on a node thread."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from wirehub.engine import StepSucceeded
from wirehub.runtime import Attempt, StepEnvironment, compile_definition, run_attempt
from wirehub.runtime.executor import _run_on_driver
from wirehub.runtime.registry import NodeRegistry
from wirehub_sdk import EgressClient, EgressPolicy

PURE = {
    "name": "pure",
    "steps": [
        {"id": "t", "type": "core.transform", "config": {"expression": "{b: a}"}},
        {
            "id": "c",
            "type": "core.condition",
            "config": {"branches": [{"name": "yes", "when": "a"}], "default": "no"},
        },
        {"id": "yes", "type": "core.transform", "needs": ["c"]},
        {"id": "no", "type": "core.transform", "needs": ["c"]},
    ],
}


async def test_the_hubs_pure_node_types_run_without_a_node_thread(registry: NodeRegistry) -> None:
    plan = compile_definition(PURE, registry)
    async with StepEnvironment(registry) as env:
        transformed = await run_attempt(env, plan.steps["t"], Attempt("exec-1", 1, {"a": 1}, datetime.now(UTC)))
        routed = await run_attempt(env, plan.steps["c"], Attempt("exec-1", 1, {"a": 1}, datetime.now(UTC)))
        assert env.threads.started == 0
    assert isinstance(transformed, StepSucceeded)
    assert transformed.output == {"b": 1}
    assert isinstance(routed, StepSucceeded)
    assert routed.branch == "yes"


async def test_other_node_types_run_on_a_node_thread_even_when_named(registry: NodeRegistry) -> None:
    definition = {"name": "other", "steps": [{"id": "f", "type": "test.flaky", "config": {"failures": 0}}]}
    plan = compile_definition(definition, registry)
    async with StepEnvironment(registry, on_driver=frozenset({"test.flaky"})) as env:
        outcome = await run_attempt(env, plan.steps["f"], Attempt("exec-1", 1, None, datetime.now(UTC)))
        assert env.threads.started == 1  # not the hub's own implementation: isolated all the same
    assert isinstance(outcome, StepSucceeded)


async def test_with_no_driver_node_types_a_pure_node_runs_on_a_node_thread(registry: NodeRegistry) -> None:
    plan = compile_definition(PURE, registry)
    async with StepEnvironment(registry, on_driver=frozenset()) as env:
        outcome = await run_attempt(env, plan.steps["t"], Attempt("exec-1", 1, {"a": 2}, datetime.now(UTC)))
        assert env.threads.started == 1
    assert isinstance(outcome, StepSucceeded)
    assert outcome.output == {"b": 2}


class _Sleeper:
    """A job that sleeps until cancelled and records whether its cancel signal was set first."""

    def __init__(self) -> None:
        self.saw_signal: bool | None = None
        self.started = asyncio.Event()

    async def __call__(self, cancelled: asyncio.Event, _http: EgressClient) -> Any:
        self.started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            self.saw_signal = cancelled.is_set()
            raise


async def test_a_job_on_the_driver_is_stopped_at_its_deadline() -> None:
    job = _Sleeper()
    loop = asyncio.get_running_loop()
    async with EgressClient(EgressPolicy()) as http, asyncio.timeout(5):
        outcome = await _run_on_driver(job, http, loop.time() + 0.1, "exec/s#1")
        await asyncio.sleep(0)  # the job's task takes its cancellation
    assert outcome is None
    assert job.saw_signal is True


async def test_cancelling_the_caller_stops_the_job_on_the_driver() -> None:
    job = _Sleeper()
    async with EgressClient(EgressPolicy()) as http, asyncio.timeout(5):
        caller = asyncio.create_task(_run_on_driver(job, http, None, "exec/s#1"))
        await job.started.wait()
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
        await asyncio.sleep(0)
    assert job.saw_signal is True
