"""Small builders shared by the state machine's tests: plans, instants, event shortcuts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from msgspec.structs import replace

from wirehub.engine.execution.commands import Command, RunStep, StartTimer
from wirehub.engine.execution.events import StepFailed, StepStarted, StepSucceeded
from wirehub.engine.execution.machine import apply
from wirehub.engine.execution.state import ErrorInfo, ExecutionState
from wirehub.engine.language.definition import Workflow
from wirehub.engine.plan import Plan, build_plan

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """The instant ``seconds`` after ``T0``."""
    return T0 + timedelta(seconds=seconds)


def make_plan(
    steps: list[dict[str, Any]], *, branches: dict[str, tuple[str, ...]] | None = None, **workflow: Any
) -> Plan:
    """A plan from step dicts, the way a definition is written."""
    definition = msgspec.convert({"name": "test", "steps": steps, **workflow}, Workflow)
    return build_plan(definition, branches=branches or {})


def step(step_id: str, *needs: str, **fields: Any) -> dict[str, Any]:
    """A step dict of type ``test.node``."""
    return {"id": step_id, "type": "test.node", "needs": list(needs), **fields}


def runs(commands: list[Command]) -> dict[str, RunStep]:
    """The ``RunStep`` commands, by step id."""
    return {c.step_id: c for c in commands if isinstance(c, RunStep)}


def timers(commands: list[Command]) -> list[StartTimer]:
    return [c for c in commands if isinstance(c, StartTimer)]


def of_type(commands: list[Command], kind: type) -> list[Any]:
    return [c for c in commands if isinstance(c, kind)]


def succeed(
    plan: Plan,
    state: ExecutionState,
    step_id: str,
    output: Any = None,
    *,
    branch: str | None = None,
    t: float = 1,
) -> tuple[ExecutionState, list[Command]]:
    """The current attempt of ``step_id`` starts and succeeds."""
    attempt = state.steps[step_id].attempt
    state, _ = apply(plan, state, StepStarted(step_id, attempt, at(t)))
    return apply(plan, state, StepSucceeded(step_id, attempt, at(t), output, branch))


def fail(
    plan: Plan,
    state: ExecutionState,
    step_id: str,
    kind: str = "node.failed",
    *,
    retryable: bool = False,
    retry_after: float | None = None,
    t: float = 1,
) -> tuple[ExecutionState, list[Command]]:
    """The current attempt of ``step_id`` starts and fails."""
    attempt = state.steps[step_id].attempt
    state, _ = apply(plan, state, StepStarted(step_id, attempt, at(t)))
    error = ErrorInfo(kind=kind, message=f"{kind} happened", retryable=retryable, retry_after=retry_after)
    return apply(plan, state, StepFailed(step_id, attempt, at(t), error))


def snapshot(state: ExecutionState) -> ExecutionState:
    """A copy of ``state`` with its own steps mapping, to prove ``state`` was not mutated."""
    return replace(state, steps=dict(state.steps))
