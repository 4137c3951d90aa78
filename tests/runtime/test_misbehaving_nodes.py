"""A node that blocks its loop or swallows cancellation stalls nothing past its timeout plus the grace."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.runtime.testing_plugin import Calls
from wirehub.engine import Event, ExecutionState, StepStarted, StepSucceeded, StepTimedOut
from wirehub.engine.execution.state import ExecutionStatus, StepStatus
from wirehub.runtime import Attempt, compile_definition, run_attempt
from wirehub.runtime.executor import StepEnvironment
from wirehub.runtime.node_threads import DEFAULT_GRACE_SECONDS, NodeThreads
from wirehub.runtime.registry import NodeRegistry
from wirehub.settings import Settings
from wirehub.worker.embedded import embedded_hub
from wirehub.worker.workflows import run_workflow
from wirehub_sdk import EgressPolicy

GRACE = 0.3
SLACK = 0.25
"""Scheduling noise allowed on a loaded machine, on top of timeout + grace."""


class Timeline:
    """Every event of an execution's history, in order."""

    def __init__(self) -> None:
        self.seen: list[Event] = []

    def __call__(self, event: Event, state: ExecutionState) -> None:
        self.seen.append(event)

    def first(self, kind: type[Any], step_id: str) -> Any:
        return next(e for e in self.seen if isinstance(e, kind) and getattr(e, "step_id", None) == step_id)

    def since_start(self, kind: type[Any], step_id: str) -> float:
        """Seconds from the execution's start to the first such event of the step, by the events' own instants."""
        at: datetime = self.first(kind, step_id).at
        return (at - self.seen[0].at).total_seconds()

    def attempt_took(self, step_id: str) -> float:
        """Seconds from the claim of the step's first attempt to its timeout, by the events' own instants."""
        started_at: datetime = self.first(StepStarted, step_id).at
        timed_out_at: datetime = self.first(StepTimedOut, step_id).at
        return (timed_out_at - started_at).total_seconds()


@pytest.fixture
async def env(registry: NodeRegistry) -> AsyncIterator[StepEnvironment]:
    async with StepEnvironment(registry, NodeThreads(EgressPolicy(), grace_seconds=GRACE)) as env:
        yield env


async def attempt_of(env: StepEnvironment, definition: dict[str, Any], step_id: str) -> tuple[Any, float]:
    """Runs the first attempt of one step as a worker does, claimed now; its outcome and the seconds it took."""
    step = compile_definition(definition, env.registry).steps[step_id]
    started = time.monotonic()
    outcome = await asyncio.wait_for(run_attempt(env, step, Attempt("exec-1", 1, None, datetime.now(UTC))), 10)
    return outcome, time.monotonic() - started


def one_step(step_type: str, seconds: float, timeout: float) -> dict[str, Any]:
    step = {"id": "bad", "type": step_type, "config": {"seconds": seconds}, "timeout_seconds": timeout}
    return {"name": "misbehaving", "steps": [step]}


async def test_a_node_that_swallows_cancellation_times_out_on_time(env: StepEnvironment, calls: Calls) -> None:
    outcome, took = await attempt_of(env, one_step("test.swallow", seconds=3, timeout=0.3), "bad")
    assert isinstance(outcome, StepTimedOut)
    assert took <= 0.3 + GRACE + SLACK
    await asyncio.sleep(GRACE + SLACK)
    assert calls.swallowed >= 1, "the node was cancelled, and swallowed it"
    assert calls.contexts["bad"][0].cancelled.is_set()
    assert env.threads.abandoned == 1, "its thread is given up once the grace has passed"


async def test_a_node_calling_time_sleep_past_its_timeout_times_out_on_time(env: StepEnvironment) -> None:
    outcome, took = await attempt_of(env, one_step("test.block", seconds=2, timeout=0.5), "bad")
    assert isinstance(outcome, StepTimedOut), "it does not 'succeed' once the sleep ends"
    assert took <= 0.5 + GRACE + SLACK


async def test_a_blocked_node_does_not_hold_up_another_node_of_the_same_execution(registry: NodeRegistry) -> None:
    definition = {
        "name": "one-blocked",
        "steps": [
            {"id": "blocker", "type": "test.block", "config": {"seconds": 4}, "timeout_seconds": 2.5},
            {"id": "nap", "type": "test.sleep", "config": {"seconds": 0.1}},
            {"id": "after_nap", "type": "core.transform", "needs": ["nap"], "config": {"expression": "`1`"}},
        ],
    }
    timeline = Timeline()
    result = await asyncio.wait_for(run_workflow(definition, registry=registry, observer=timeline), timeout=15)
    # The blocker holds its thread past 2.5 s; the other branch's 0.1 s of work ends well before, even under load.
    assert timeline.since_start(StepSucceeded, "after_nap") < 2.0, "the other branch finished while it blocked"
    assert result.state.steps["after_nap"].status is StepStatus.SUCCEEDED
    assert result.state.steps["blocker"].status is StepStatus.TIMED_OUT
    assert timeline.attempt_took("blocker") <= 2.5 + DEFAULT_GRACE_SECONDS


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
    # The worker learns of the cancel within a second; closing the hub gives the stopped node the grace to end,
    # then abandons it.
    assert took <= 0.3 + 1.0 + DEFAULT_GRACE_SECONDS + 2 * SLACK
    [abandoned] = [r.getMessage() for r in caplog.records if r.name == "wirehub.runtime.threads"]
    assert f"{result.execution_id}/hang#1 still runs 1.0 s after it was stopped" in abandoned


async def test_cancelling_an_execution_whose_node_swallows_cancellation_ends_it_at_once(
    registry: NodeRegistry, calls: Calls
) -> None:
    async with embedded_hub(Settings(shutdown_grace_seconds=GRACE), registry) as hub:
        execution_id = await hub.start(await hub.save(one_step("test.swallow", seconds=3, timeout=60)))
        async with asyncio.timeout(5):
            while not calls.contexts["bad"]:  # noqa: ASYNC110  # the node under test offers no event to wait on
                await asyncio.sleep(0.01)
        started = time.monotonic()
        await hub.cancel(execution_id)
        view = await hub.wait(execution_id, within=5)
        assert time.monotonic() - started < SLACK
    assert view.status == "cancelled"


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
        hog = asyncio.create_task(attempt_of(env, definition, "hog"))
        while not calls.contexts["hog"]:  # noqa: ASYNC110  # the node under test offers no event to wait on
            await asyncio.sleep(0.01)
        outcome, took = await attempt_of(env, definition, "starved")
        await hog
    assert isinstance(outcome, StepTimedOut)
    assert took <= 0.2 + SLACK
    assert calls.attempts["starved"] == [], "it never got a thread, so it never ran"
