"""A node that blocks its loop or swallows cancellation stalls nothing past its timeout plus the grace."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from tests.runtime.testing_plugin import Calls
from wirehub.engine import Event, ExecutionState, StepStarted, StepSucceeded, StepTimedOut
from wirehub.engine.execution.state import ExecutionStatus, StepStatus
from wirehub.runtime import LocalExecution, compile_definition, run_workflow
from wirehub.runtime.executor import StepEnvironment
from wirehub.runtime.node_threads import DEFAULT_GRACE_SECONDS, NodeThreads
from wirehub.runtime.registry import NodeRegistry
from wirehub_sdk import EgressPolicy

GRACE = 0.3
SLACK = 0.25
"""Scheduling noise allowed on a loaded machine, on top of timeout + grace."""


class Timeline:
    """Every event the engine accepted, with the monotonic instant it was seen."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.seen: list[tuple[float, Event]] = []

    def __call__(self, event: Event, state: ExecutionState) -> None:
        self.seen.append((time.monotonic() - self.started, event))

    def first(self, kind: type[Any], step_id: str) -> tuple[float, Any]:
        return next((t, e) for t, e in self.seen if isinstance(e, kind) and getattr(e, "step_id", None) == step_id)

    def attempt_took(self, step_id: str) -> float:
        """Seconds from the claim of the step's first attempt to its timeout, by the events' own instants."""
        started_at: datetime = self.first(StepStarted, step_id)[1].at
        timed_out_at: datetime = self.first(StepTimedOut, step_id)[1].at
        return (timed_out_at - started_at).total_seconds()


@pytest.fixture
async def env(registry: NodeRegistry) -> AsyncIterator[StepEnvironment]:
    async with StepEnvironment(registry, NodeThreads(EgressPolicy(), grace_seconds=GRACE)) as env:
        yield env


async def run_here(env: StepEnvironment, definition: dict[str, Any]) -> tuple[Any, Timeline]:
    timeline = Timeline()
    plan = compile_definition(definition, env.registry)
    result = await asyncio.wait_for(LocalExecution(plan, env, observer=timeline).run(), timeout=10)
    return result, timeline


def one_step(step_type: str, seconds: float, timeout: float) -> dict[str, Any]:
    step = {"id": "bad", "type": step_type, "config": {"seconds": seconds}, "timeout_seconds": timeout}
    return {"name": "misbehaving", "steps": [step]}


async def test_a_node_that_swallows_cancellation_times_out_on_time(env: StepEnvironment, calls: Calls) -> None:
    result, timeline = await run_here(env, one_step("test.swallow", seconds=3, timeout=0.3))
    assert result.status is ExecutionStatus.FAILED
    assert result.state.steps["bad"].status is StepStatus.TIMED_OUT
    assert timeline.attempt_took("bad") <= 0.3 + GRACE
    assert timeline.first(StepTimedOut, "bad")[0] <= 0.3 + GRACE + SLACK
    await asyncio.sleep(GRACE + SLACK)
    assert calls.swallowed >= 1, "the node was cancelled, and swallowed it"
    assert calls.contexts["bad"][0].cancelled.is_set()
    assert env.threads.abandoned == 1, "its thread is given up once the grace has passed"


async def test_a_node_calling_time_sleep_past_its_timeout_times_out_on_time(env: StepEnvironment) -> None:
    result, timeline = await run_here(env, one_step("test.block", seconds=2, timeout=0.5))
    assert result.state.steps["bad"].status is StepStatus.TIMED_OUT, "it does not 'succeed' once the sleep ends"
    assert timeline.attempt_took("bad") <= 0.5 + GRACE
    assert timeline.first(StepTimedOut, "bad")[0] <= 0.5 + GRACE + SLACK


async def test_a_blocked_node_does_not_hold_up_another_node_of_the_same_execution(env: StepEnvironment) -> None:
    definition = {
        "name": "one-blocked",
        "steps": [
            {"id": "blocker", "type": "test.block", "config": {"seconds": 4}, "timeout_seconds": 2.5},
            {"id": "nap", "type": "test.sleep", "config": {"seconds": 0.1}},
            {"id": "after_nap", "type": "core.transform", "needs": ["nap"], "config": {"expression": "`1`"}},
        ],
    }
    result, timeline = await run_here(env, definition)
    finished_at, _ = timeline.first(StepSucceeded, "after_nap")
    # The blocker holds its thread past 2.5 s; the other branch's 0.1 s of work ends well before, even under load.
    assert finished_at < 2.0, "the other branch finished while the blocker still blocked its own thread"
    assert result.state.steps["after_nap"].status is StepStatus.SUCCEEDED
    assert result.state.steps["blocker"].status is StepStatus.TIMED_OUT
    assert timeline.attempt_took("blocker") <= 2.5 + GRACE


@pytest.mark.parametrize("step_type", ["test.swallow", "test.block"])
async def test_the_workflow_timeout_ends_a_run_whose_node_hangs(
    registry: NodeRegistry, step_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    definition = {
        "name": "hangs",
        "steps": [{"id": "hang", "type": step_type, "config": {"seconds": 3}}],
        "timeout_seconds": 0.3,
    }
    started = time.monotonic()
    result = await asyncio.wait_for(run_workflow(definition, registry=registry, egress=EgressPolicy()), timeout=10)
    took = time.monotonic() - started
    assert result.status is ExecutionStatus.TIMED_OUT
    assert result.state.steps["hang"].status is StepStatus.CANCELLED
    # run_workflow also closes its node threads, giving the stopped node the grace to end, then abandoning it.
    assert took <= 0.3 + DEFAULT_GRACE_SECONDS + 2 * SLACK
    [abandoned] = [r.getMessage() for r in caplog.records if r.name == "wirehub.runtime.threads"]
    assert f"{result.execution_id}/hang#1 still runs 1.0 s after it was stopped" in abandoned


async def test_cancelling_an_execution_whose_node_swallows_cancellation_ends_it_at_once(env: StepEnvironment) -> None:
    plan = compile_definition(one_step("test.swallow", seconds=3, timeout=60), env.registry)
    execution = LocalExecution(plan, env)
    task = asyncio.create_task(execution.run())
    await asyncio.sleep(0.1)
    started = time.monotonic()
    execution.cancel()
    result = await asyncio.wait_for(task, timeout=5)
    assert time.monotonic() - started < SLACK
    assert result.status is ExecutionStatus.CANCELLED


async def test_an_attempt_waiting_for_a_free_node_thread_times_out_at_its_deadline(
    registry: NodeRegistry, calls: Calls
) -> None:
    definition = {
        "name": "crowded",
        "steps": [
            {"id": "hog", "type": "test.sleep", "config": {"seconds": 1}},
            {"id": "starved", "type": "test.sleep", "config": {"seconds": 0.01}, "timeout_seconds": 0.2},
        ],
    }
    async with StepEnvironment(registry, NodeThreads(EgressPolicy(), grace_seconds=GRACE, max_threads=1)) as env:
        result, timeline = await run_here(env, definition)
    assert result.state.steps["starved"].status is StepStatus.TIMED_OUT
    assert timeline.attempt_took("starved") <= 0.2 + SLACK
    assert calls.attempts["starved"] == [], "it never got a thread, so it never ran"
    assert result.state.steps["hog"].status is StepStatus.CANCELLED, "the failed execution stopped the hog"
