"""What a caller of run_attempt relies on: progress with its execution, async credentials, hand-back."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.runtime.testing_plugin import Calls
from wirehub.engine import StepFailed, StepSucceeded, StepTimedOut
from wirehub.plugins import build_registry
from wirehub.runtime import (
    Attempt,
    HandedBack,
    ProgressReport,
    StepEnvironment,
    StoredCredential,
    compile_definition,
    run_attempt,
)
from wirehub.runtime.registry import NodeRegistry
from wirehub_core import core
from wirehub_sdk.host import Progress


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

    async def get(self, name: str, *, execution_id: str) -> StoredCredential | None:
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
        outcome = await run_attempt(env, plan.steps["who"], Attempt("exec-1", 1, None, datetime.now(UTC)))
    assert isinstance(outcome, StepSucceeded), outcome
    assert reports == [(ProgressReport("exec-1", "who", 1, Progress("looking", 0.5)), threading.current_thread().name)]


async def test_the_credential_source_is_awaited(registry: NodeRegistry) -> None:
    source = DatabaseLikeSource({"api": StoredCredential(type="test.token", fields={"token": "s3cret"})})
    plan = compile_definition(who_am_i(), registry)
    async with StepEnvironment(registry, credentials=source) as env:
        outcome = await run_attempt(env, plan.steps["who"], Attempt("exec-1", 1, None, datetime.now(UTC)))
    assert isinstance(outcome, StepSucceeded), outcome
    assert outcome.output["token"] == "[redacted]", "the node got the secret; its output does not keep it"
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


async def test_a_node_that_runs_returns_exactly_one_engine_event(registry: NodeRegistry) -> None:
    plan = compile_definition({"name": "t", "steps": [{"id": "t", "type": "core.transform"}]}, registry)
    async with StepEnvironment(registry) as env:
        outcome = await run_attempt(env, plan.steps["t"], Attempt("exec-1", 1, {"a": 1}, datetime.now(UTC)))
    assert isinstance(outcome, StepSucceeded)
    assert (outcome.step_id, outcome.attempt, outcome.output) == ("t", 1, {"a": 1})


async def test_the_timeout_counts_from_the_claim_instant(registry: NodeRegistry, calls: Calls) -> None:
    step = {"id": "nap", "type": "test.sleep", "config": {"seconds": 0.01}, "timeout_seconds": 1}
    plan = compile_definition({"name": "nap", "steps": [step]}, registry)
    now = datetime.now(UTC)
    async with StepEnvironment(registry) as env:
        late = await run_attempt(env, plan.steps["nap"], Attempt("exec-1", 1, None, now - timedelta(seconds=2)))
        assert isinstance(late, StepTimedOut), "claimed 2 s ago with a 1 s timeout: its time is up"
        assert calls.attempts["nap"] == [], "the node never ran"
        fresh = await run_attempt(env, plan.steps["nap"], Attempt("exec-1", 2, None, now))
    assert isinstance(fresh, StepSucceeded)
    assert calls.contexts["nap"][0].deadline == now + timedelta(seconds=1)


class HangingSource:
    async def get(self, name: str, *, execution_id: str) -> StoredCredential | None:
        await asyncio.sleep(60)
        return None


async def test_a_credential_source_that_hangs_counts_against_the_timeout(registry: NodeRegistry) -> None:
    step = compile_definition(
        {"name": "who", "steps": [{"id": "who", "type": "test.whoami", "credential": "api", "timeout_seconds": 0.2}]},
        registry,
    ).steps["who"]
    started = time.monotonic()
    async with StepEnvironment(registry, credentials=HangingSource()) as env:
        outcome = await run_attempt(env, step, Attempt("exec-1", 1, None, datetime.now(UTC)))
    assert isinstance(outcome, StepTimedOut)
    assert time.monotonic() - started < 0.2 + 0.25
