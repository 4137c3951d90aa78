"""Retrying an execution that ended badly: from the steps that did not succeed, keeping the outputs of those that did.

``prepare_retry`` takes a ``failed``, ``timed_out`` or ``cancelled`` execution
back to ``running``. In topological order, a step is *kept* (as it is, with
its output) when its sources are all kept and it

- succeeded, or
- failed or timed out and a catch route took its error (its handler decides), or
- was skipped because none of its incoming edges was active (it would be skipped again).

Every other step goes back to ``pending`` with its attempt number kept: its
next attempt takes the next number (rows of earlier attempts stay as they
ended), and its retry policy counts afresh (``StepRun.attempts_before``). Then
every pending step whose sources are all kept is made ready as usual (a root is
scheduled, a step with no active incoming edge skipped), and what follows
follows as in any transition.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from msgspec.structs import replace

from wirehub.engine.execution.commands import Command, StartTimer
from wirehub.engine.execution.draft import Draft, edge_active
from wirehub.engine.execution.events import TimerKind
from wirehub.engine.execution.state import (
    ExecutionState,
    ExecutionStatus,
    IllegalTransitionError,
    StepRun,
    StepStatus,
)
from wirehub.engine.plan import Plan

RETRYABLE = frozenset({ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT, ExecutionStatus.CANCELLED})
"""The statuses an execution can be retried from."""

_CAUGHT = frozenset({StepStatus.FAILED, StepStatus.TIMED_OUT})


def kept_steps(plan: Plan, state: ExecutionState) -> set[str]:
    """The steps a retry keeps as they are (see the module's docstring)."""
    kept: set[str] = set()
    for step_id in plan.order:
        run = state.steps[step_id]
        step = plan.steps[step_id]
        if not all(edge.source in kept for edge in step.incoming):
            continue
        if run.status is StepStatus.SUCCEEDED or (run.status in _CAUGHT and run.caught_by is not None):
            kept.add(step_id)
        elif run.status is StepStatus.SKIPPED and step.incoming:
            steps = state.steps
            if not any(edge_active(e.kind, e.branch, step_id, steps[e.source]) for e in step.incoming):
                kept.add(step_id)
    return kept


def _reset(run: StepRun, resolved_edges: int) -> StepRun:
    return StepRun(
        status=StepStatus.PENDING,
        attempt=run.attempt,
        attempts_before=run.attempt,
        resolved_edges=resolved_edges,
    )


def prepare_retry(plan: Plan, state: ExecutionState, at: datetime) -> tuple[ExecutionState, list[Command]]:
    """The execution ``running`` again at ``at``: its unkept steps pending, the ready ones scheduled.

    Returns:
        The next state and its commands (``RunStep`` of the steps made ready, with their attempt
        numbers following the earlier ones; ``StartTimer(execution_timeout)`` with a workflow timeout).

    Raises:
        IllegalTransitionError: The execution is not ``failed``, ``timed_out`` or ``cancelled``.
    """
    if state.status not in RETRYABLE:
        raise IllegalTransitionError(
            f"execution is {state.status}: only a failed, timed-out or cancelled execution can be retried"
        )
    kept = kept_steps(plan, state)
    steps: dict[str, StepRun] = {}
    for step_id, run in state.steps.items():
        if step_id in kept:
            steps[step_id] = run
            continue
        resolved = sum(1 for edge in plan.steps[step_id].incoming if edge.source in kept)
        steps[step_id] = _reset(run, resolved)
    deadline = at + timedelta(seconds=plan.timeout_seconds) if plan.timeout_seconds else None
    reset = replace(
        state,
        status=ExecutionStatus.RUNNING,
        steps=steps,
        output=None,
        error=None,
        finished_at=None,
        open_steps=len(steps) - len(kept),
        deadline=deadline,
        output_bytes=sum(steps[step_id].output_bytes for step_id in kept),
    )
    draft = Draft(plan, reset, at)
    for step_id in plan.order:
        run = draft.steps[step_id]
        step = plan.steps[step_id]
        if step_id in kept or run.status is not StepStatus.PENDING or run.resolved_edges < len(step.incoming):
            continue
        if step.incoming:
            draft.ready(step, run)
        else:
            draft.schedule(step_id, run.attempt + 1)
        if draft.status is not ExecutionStatus.RUNNING:
            break
    draft.settle()
    if deadline is not None and draft.status is ExecutionStatus.RUNNING:
        draft.commands.insert(0, StartTimer(TimerKind.EXECUTION_TIMEOUT, deadline))
    return draft.result()
