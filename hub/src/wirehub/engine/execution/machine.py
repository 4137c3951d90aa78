"""The execution state machine: pure functions of ``(state, event) -> (state, commands)``.

``start`` begins an execution; ``apply`` moves it on by one event. Neither
reads a clock, draws a random number or touches the world: every instant
comes from the event, and the caller saves the returned state and then
carries out the returned commands. An event that is not legal raises
``IllegalTransitionError`` and the state is left as it was (``stale`` marks
an event about an attempt that is over: a duplicate delivery, a late
result); the input state is never mutated.

``docs/engine.md`` is the reference: statuses, the transition tables of
``wirehub.engine.execution.transitions``, join and skip rules, retry math and catch routes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from wirehub.engine.execution.draft import Draft
from wirehub.engine.execution.records import evolve, with_steps
from wirehub.engine.execution.state import (
    CancelRequested,
    Command,
    ErrorInfo,
    Event,
    ExecutionStarted,
    ExecutionState,
    ExecutionStatus,
    ExecutionTimedOut,
    IllegalTransitionError,
    StartExecutionTimer,
    StartTimer,
    StepFailed,
    StepRun,
    StepStarted,
    StepStatus,
    StepSucceeded,
    StepSuspended,
    StepTimedOut,
    TimerFired,
)
from wirehub.engine.plan import Plan

Outcome = tuple[ExecutionState, list[Command]]

_SCHEDULED = frozenset({StepStatus.SCHEDULED})
_ATTEMPT_OPEN = frozenset({StepStatus.SCHEDULED, StepStatus.RUNNING})
_TIMER_SET = frozenset({StepStatus.RETRY_WAIT, StepStatus.WAITING})


def prepare(plan: Plan, execution_id: str, input: Any) -> ExecutionState:
    """A ``pending`` execution: accepted, nothing scheduled yet.

    ``apply(plan, state, ExecutionStarted(at))`` starts it; ``start`` does both.

    Args:
        plan: The compiled plan of the pinned workflow version.
        execution_id: Stable id of the execution; it seeds retry jitter.
        input: The execution input, already validated against the input schema.
    """
    return ExecutionState(
        execution_id=execution_id,
        status=ExecutionStatus.PENDING,
        input=input,
        steps={step_id: StepRun() for step_id in plan.steps},
        open_steps=len(plan.steps),
    )


def start(plan: Plan, execution_id: str, input: Any, now: datetime) -> Outcome:
    """Starts an execution: it is ``running``, its root steps scheduled.

    Emits ``StartExecutionTimer`` when the workflow has a timeout, and a
    ``RunStep`` (attempt 1) for every root step. A root whose input
    expression fails fails at once, as any step would.

    Args:
        plan: The compiled plan of the pinned workflow version.
        execution_id: Stable id of the execution; it seeds retry jitter.
        input: The execution input, already validated against the input schema.
        now: The instant the execution starts.
    """
    return apply(plan, prepare(plan, execution_id, input), ExecutionStarted(at=now))


def apply(plan: Plan, state: ExecutionState, event: Event) -> Outcome:
    """Applies one event to an execution.

    Args:
        plan: The plan the execution runs (the one ``start`` was given).
        state: The execution's current state; it is not modified.
        event: What happened.

    Returns:
        The next state, and the commands to carry out once it is saved.

    Raises:
        IllegalTransitionError: The event is not legal in ``state``.
    """
    handler = _HANDLERS.get(type(event))
    if handler is None:
        raise IllegalTransitionError(f"unknown event {type(event).__name__}")
    return handler(plan, state, event)


# Execution events


def _on_execution_started(plan: Plan, state: ExecutionState, event: ExecutionStarted) -> Outcome:
    if state.status is not ExecutionStatus.PENDING:
        raise IllegalTransitionError(f"execution is {state.status}, not pending: it cannot start")
    draft = Draft(plan, state, event.at)
    draft.status = ExecutionStatus.RUNNING
    draft.started_at = event.at
    for step_id in plan.roots:
        draft.schedule(step_id, 1)
        if draft.status is not ExecutionStatus.RUNNING:
            break  # a root's input failed with no catch: the execution is over
    draft.settle()
    state, commands = draft.result()
    if plan.timeout_seconds and not state.status.terminal:
        commands.insert(0, StartExecutionTimer(event.at + timedelta(seconds=plan.timeout_seconds)))
    return state, commands


def _on_cancel_requested(plan: Plan, state: ExecutionState, event: CancelRequested) -> Outcome:
    if state.status.terminal:
        raise IllegalTransitionError(f"execution is already {state.status}: it cannot be cancelled")
    draft = Draft(plan, state, event.at)
    draft.end(ExecutionStatus.CANCELLED, ErrorInfo(kind="cancelled", message=event.reason))
    return draft.result()


def _on_execution_timed_out(plan: Plan, state: ExecutionState, event: ExecutionTimedOut) -> Outcome:
    if state.status.terminal:
        raise IllegalTransitionError(f"execution is already {state.status}: its timeout is moot", stale=True)
    draft = Draft(plan, state, event.at)
    seconds = plan.timeout_seconds
    message = f"the execution ran past its timeout of {seconds:g} s" if seconds else "the execution timed out"
    draft.end(ExecutionStatus.TIMED_OUT, ErrorInfo(kind="timeout", message=message))
    return draft.result()


# Step events


def _current(
    plan: Plan, state: ExecutionState, step_id: str, attempt: int, expected: frozenset[StepStatus], what: str
) -> StepRun:
    """The run an event about ``(step_id, attempt)`` applies to, or the reason it does not."""
    run = state.steps.get(step_id)
    if run is None or step_id not in plan.steps:
        raise IllegalTransitionError(f"{what}: no step '{step_id}' in this execution")
    if attempt < 1 or attempt > run.attempt:
        raise IllegalTransitionError(f"{what}: step '{step_id}' has no attempt {attempt}")
    if state.status.terminal:
        raise IllegalTransitionError(f"{what}: execution is already {state.status}", stale=True)
    if attempt < run.attempt:
        raise IllegalTransitionError(
            f"{what}: attempt {attempt} of step '{step_id}' was superseded by attempt {run.attempt}", stale=True
        )
    if run.status not in expected:
        raise IllegalTransitionError(f"{what}: step '{step_id}' is {run.status}", stale=True)
    return run


def _on_step_started(plan: Plan, state: ExecutionState, event: StepStarted) -> Outcome:
    run = _current(plan, state, event.step_id, event.attempt, _SCHEDULED, "StepStarted")
    started = evolve(run, status=StepStatus.RUNNING, started_at=run.started_at or event.at)
    steps = state.steps.copy()
    steps[event.step_id] = started
    return with_steps(state, steps), []


def _on_step_succeeded(plan: Plan, state: ExecutionState, event: StepSucceeded) -> Outcome:
    run = _current(plan, state, event.step_id, event.attempt, _ATTEMPT_OPEN, "StepSucceeded")
    branches = plan.steps[event.step_id].branches
    if branches is None and event.branch is not None:
        raise IllegalTransitionError(f"step '{event.step_id}' is not a routing step: it cannot choose a branch")
    if branches is not None and event.branch not in branches:
        raise IllegalTransitionError(f"step '{event.step_id}' has no branch {event.branch!r}; it has {branches}")
    draft = Draft(plan, state, event.at)
    draft.finish(
        event.step_id,
        evolve(
            run,
            status=StepStatus.SUCCEEDED,
            output=event.output,
            branch=event.branch,
            error=None,
            started_at=run.started_at or event.at,
            finished_at=event.at,
        ),
    )
    draft.settle()
    return draft.result()


def _on_step_failed(plan: Plan, state: ExecutionState, event: StepFailed) -> Outcome:
    run = _current(plan, state, event.step_id, event.attempt, _ATTEMPT_OPEN, "StepFailed")
    draft = Draft(plan, state, event.at)
    draft.attempt_failed(event.step_id, _begun(run, event.at), event.error, StepStatus.FAILED)
    draft.settle()
    return draft.result()


def _on_step_timed_out(plan: Plan, state: ExecutionState, event: StepTimedOut) -> Outcome:
    run = _current(plan, state, event.step_id, event.attempt, _ATTEMPT_OPEN, "StepTimedOut")
    timeout = plan.steps[event.step_id].timeout_seconds
    limit = f" of {timeout:g} s" if timeout else ""
    error = ErrorInfo(kind="timeout", message=f"attempt {event.attempt} ran past its timeout{limit}", retryable=True)
    draft = Draft(plan, state, event.at)
    draft.attempt_failed(event.step_id, _begun(run, event.at), error, StepStatus.TIMED_OUT)
    draft.settle()
    return draft.result()


def _on_step_suspended(plan: Plan, state: ExecutionState, event: StepSuspended) -> Outcome:
    run = _current(plan, state, event.step_id, event.attempt, _ATTEMPT_OPEN, "StepSuspended")
    if plan.steps[event.step_id].branches is not None:
        raise IllegalTransitionError(f"step '{event.step_id}' is a routing step: it must choose a branch, not wait")
    waiting = evolve(
        run, status=StepStatus.WAITING, output=event.output, wake_at=event.until, started_at=run.started_at or event.at
    )
    steps = state.steps.copy()
    steps[event.step_id] = waiting
    return with_steps(state, steps), [StartTimer(event.step_id, event.attempt, event.until)]


def _on_timer_fired(plan: Plan, state: ExecutionState, event: TimerFired) -> Outcome:
    run = _current(plan, state, event.step_id, event.attempt, _TIMER_SET, "TimerFired")
    draft = Draft(plan, state, event.at)
    if run.status is StepStatus.WAITING:
        draft.finish(event.step_id, evolve(run, status=StepStatus.SUCCEEDED, wake_at=None, finished_at=event.at))
    else:
        draft.schedule(event.step_id, run.attempt + 1)
    draft.settle()
    return draft.result()


def _begun(run: StepRun, at: datetime) -> StepRun:
    """``run`` with a start time, for a worker that reported its result without ``StepStarted``."""
    return run if run.started_at else evolve(run, started_at=at)


_Handler = Callable[[Plan, ExecutionState, Any], Outcome]
_HANDLERS: dict[type, _Handler] = {
    ExecutionStarted: _on_execution_started,
    StepStarted: _on_step_started,
    StepSucceeded: _on_step_succeeded,
    StepFailed: _on_step_failed,
    StepTimedOut: _on_step_timed_out,
    StepSuspended: _on_step_suspended,
    TimerFired: _on_timer_fired,
    CancelRequested: _on_cancel_requested,
    ExecutionTimedOut: _on_execution_timed_out,
}
