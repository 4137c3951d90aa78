"""What a caller of run_attempt relies on: progress with its execution, async credentials, hand-back."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from wirehub.engine import StepFailed, StepSucceeded
from wirehub.engine.execution.state import ExecutionStatus, StepStatus
from wirehub.plugins import build_registry
from wirehub.runtime import LocalExecution, StoredCredential, compile_definition
from wirehub.runtime.executor import Attempt, HandedBack, ProgressReport, StepEnvironment, run_attempt
from wirehub.runtime.registry import NodeRegistry
from wirehub_core import core
from wirehub_sdk import Progress


def who_am_i(credential: str | None = "api") -> dict[str, Any]:
    step: dict[str, Any] = {"id": "who", "type": "test.whoami"}
    if credential is not None:
        step["credential"] = credential
    return {"name": "who", "steps": [step]}


class DatabaseLikeSource:
    """A credential source that must be awaited, as the durable hub's will be."""

    def __init__(self, credentials: dict[str, StoredCredential]) -> None:
        self.credentials = credentials
        self.asked: list[str] = []

    async def get(self, name: str) -> StoredCredential | None:
        self.asked.append(name)
        return self.credentials.get(name)


async def test_progress_reports_name_their_execution_and_arrive_on_the_drivers_thread(
    registry: NodeRegistry,
) -> None:
    reports: list[tuple[ProgressReport, str]] = []

    def sink(report: ProgressReport) -> None:
        reports.append((report, threading.current_thread().name))

    plan = compile_definition(who_am_i(credential=None), registry)
    async with StepEnvironment(registry, on_progress=sink) as env:
        result = await LocalExecution(plan, env, execution_id="exec-1").run()
    assert result.status is ExecutionStatus.SUCCEEDED, result.error
    assert reports == [(ProgressReport("exec-1", "who", 1, Progress("looking", 0.5)), threading.current_thread().name)]


async def test_the_credential_source_is_awaited(registry: NodeRegistry) -> None:
    source = DatabaseLikeSource({"api": StoredCredential(type="test.token", fields={"token": "s3cret"})})
    plan = compile_definition(who_am_i(), registry)
    async with StepEnvironment(registry, credentials=source) as env:
        result = await LocalExecution(plan, env).run()
    assert result.status is ExecutionStatus.SUCCEEDED, result.error
    assert result.output["who"]["token"] == "s3cret"
    assert source.asked == ["api"]


def core_only() -> NodeRegistry:
    """A process where the test plugin is not installed."""
    return build_registry(extra_plugins=[core], load_entry_points=False)


async def test_an_attempt_whose_node_type_is_missing_here_is_handed_back(registry: NodeRegistry) -> None:
    plan = compile_definition({"name": "flaky", "steps": [{"id": "f", "type": "test.flaky"}]}, registry)
    attempt = Attempt("exec-1", 1, None, datetime.now(UTC))
    async with StepEnvironment(core_only()) as env:
        outcome = await run_attempt(env, plan.steps["f"], attempt)
    assert outcome == HandedBack("f", 1, "node type test.flaky v1 is not installed in this process")
    async with StepEnvironment(registry) as env:
        assert isinstance(await run_attempt(env, plan.steps["f"], attempt), StepFailed), "where it is, it runs"


async def test_an_attempt_whose_credential_type_is_missing_here_is_handed_back(registry: NodeRegistry) -> None:
    plan = compile_definition(who_am_i(), registry)
    source = DatabaseLikeSource({"api": StoredCredential(type="acme.key", fields={})})
    async with StepEnvironment(registry, credentials=source) as env:
        outcome = await run_attempt(env, plan.steps["who"], Attempt("exec-1", 2, None, datetime.now(UTC)))
    assert outcome == HandedBack("who", 2, "credential type 'acme.key' is not installed in this process")


async def test_the_embedded_runtime_lets_the_retry_policy_decide_on_a_handed_back_attempt(
    registry: NodeRegistry,
) -> None:
    retry = {"max_attempts": 3, "interval_seconds": 0.01}
    definition = {"name": "flaky", "steps": [{"id": "f", "type": "test.flaky", "retry": retry}]}
    plan = compile_definition(definition, registry)
    async with StepEnvironment(core_only()) as env:
        result = await LocalExecution(plan, env).run()
    assert result.status is ExecutionStatus.FAILED
    assert result.state.steps["f"].status is StepStatus.FAILED
    assert result.state.steps["f"].attempt == 3, "node.unavailable is retryable: every attempt was made"
    assert result.error is not None
    assert result.error.kind == "node.unavailable"
    assert "test.flaky v1 is not installed" in result.error.message


async def test_a_node_that_runs_returns_exactly_one_engine_event(registry: NodeRegistry) -> None:
    plan = compile_definition({"name": "t", "steps": [{"id": "t", "type": "core.transform"}]}, registry)
    async with StepEnvironment(registry) as env:
        outcome = await run_attempt(env, plan.steps["t"], Attempt("exec-1", 1, {"a": 1}, datetime.now(UTC)))
    assert isinstance(outcome, StepSucceeded)
    assert (outcome.step_id, outcome.attempt, outcome.output) == ("t", 1, {"a": 1})
