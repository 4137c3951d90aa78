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

import msgspec
from msgspec.structs import replace

from wirehub.engine.execution.commands import CancelStep, Command, StartTimer
from wirehub.engine.execution.draft import Draft
from wirehub.engine.execution.events import (
    CancelRequested,
    Event,
    ExecutionStarted,
    RetryRequested,
    StepFailed,
    StepReleased,
    StepStarted,
    StepSucceeded,
    StepSuspended,
    StepTimedOut,
    TimerFired,
    TimerKind,
)
from wirehub.engine.execution.rerun import prepare_retry
from wirehub.engine.execution.state import (
    ErrorInfo,
    ExecutionState,
    ExecutionStatus,
    IllegalTransitionError,
    StepRun,
    StepStatus,
)
from wirehub.engine.language import limits
from wirehub.engine.plan import Plan

Outcome = tuple[ExecutionState, list[Command]]

_SCHEDULED = frozenset({StepStatus.SCHEDULED})
_RUNNING = frozenset({StepStatus.RUNNING})
_ATTEMPT_OPEN = frozenset({StepStatus.SCHEDULED, StepStatus.RUNNING})
_RETRY_WAIT = frozenset({StepStatus.RETRY_WAIT})
_WAITING = frozenset({StepStatus.WAITING})
_ENCODE = msgspec.json.Encoder().encode


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

    Emits a ``StartTimer`` of kind ``execution_timeout`` when the workflow
    has a timeout, and a ``RunStep`` (attempt 1) for every root step. A root whose input
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
    if plan.timeout_seconds:
        draft.deadline = event.at + timedelta(seconds=plan.timeout_seconds)
    for step_id in plan.roots:
        draft.schedule(step_id, 1)
        if draft.status is not ExecutionStatus.RUNNING:
            break  # a root's input failed with no catch: the execution is over
    draft.settle()
    state, commands = draft.result()
    if state.deadline is not None and not state.status.terminal:
        commands.insert(0, StartTimer(TimerKind.EXECUTION_TIMEOUT, state.deadline))
    return state, commands


def _on_cancel_requested(plan: Plan, state: ExecutionState, event: CancelRequested) -> Outcome:
    if state.status.terminal:
        raise IllegalTransitionError(f"execution is already {state.status}: it cannot be cancelled")
    draft = Draft(plan, state, event.at)
    draft.end(ExecutionStatus.CANCELLED, ErrorInfo(kind="cancelled", message=event.reason))
    return draft.result()


def _on_retry_requested(plan: Plan, state: ExecutionState, event: RetryRequested) -> Outcome:
    return prepare_retry(plan, state, event.at)


def _execution_timed_out(plan: Plan, state: ExecutionState, event: TimerFired) -> Outcome:
    if state.status.terminal:
        raise IllegalTransitionError(f"execution is already {state.status}: its timeout is moot", stale=True)
    if state.deadline is None or event.step_id is not None:
        raise IllegalTransitionError("TimerFired: this execution has no execution_timeout timer")
    draft = Draft(plan, state, event.at)
    seconds = plan.timeout_seconds
    message = f"the execution ran past its timeout of {seconds:g} s" if seconds else "the execution timed out"
    draft.end(ExecutionStatus.TIMED_OUT, ErrorInfo(kind="timeout", message=message))
    return draft.result()


# Step events


def _current(
    plan: Plan, state: ExecutionState, step_id: str | None, attempt: int, expected: frozenset[StepStatus], what: str
) -> StepRun:
    """The run an event about ``(step_id, attempt)`` applies to, or the reason it does not."""
    run = state.steps.get(step_id) if step_id is not None else None
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
    timeout = plan.steps[event.step_id].timeout_seconds
    begins = event.at if event.starts_by is None else max(event.at, event.starts_by)
    deadline = begins + timedelta(seconds=timeout) if timeout else None
    started = replace(
        run,
        status=StepStatus.RUNNING,
        started_at=run.started_at or event.at,
        run_deadline=deadline,
    )
    steps = state.steps.copy()
    steps[event.step_id] = started
    commands: list[Command] = []
    if deadline is not None:
        commands.append(StartTimer(TimerKind.RUN_TIMEOUT, deadline, event.step_id, event.attempt))
    return replace(state, steps=steps), commands


_RELEASED = "released"
"""The kind of the note a ``StepReleased`` leaves in a scheduled attempt's ``error``: why it was given back."""


def _on_step_released(plan: Plan, state: ExecutionState, event: StepReleased) -> Outcome:
    # The queue deadline a claim keeps (it is live only while ``scheduled``) bounds how long an attempt may
    # go round between workers that cannot run it; a step without one gets the default, once.
    run = _current(plan, state, event.step_id, event.attempt, _RUNNING, "StepReleased")
    deadline = run.queue_deadline
    if deadline is None:
        deadline = event.at + timedelta(seconds=limits.DEFAULT_QUEUE_TIMEOUT_SECONDS)
    note = ErrorInfo(kind=_RELEASED, message=event.reason[:1000], step_id=event.step_id, attempt=event.attempt)
    released = replace(run, status=StepStatus.SCHEDULED, queue_deadline=deadline, run_deadline=None, error=note)
    steps = state.steps.copy()
    steps[event.step_id] = released
    commands: list[Command] = [StartTimer(TimerKind.SCHEDULE_TIMEOUT, deadline, event.step_id, event.attempt)]
    return replace(state, steps=steps), commands


def _queue_timeout_error(plan: Plan, run: StepRun, step_id: str, attempt: int) -> ErrorInfo:
    seconds = plan.steps[step_id].queue_timeout_seconds or None
    if seconds is None and run.error is not None and run.error.kind == _RELEASED:
        seconds = limits.DEFAULT_QUEUE_TIMEOUT_SECONDS
    limit = f" of {seconds:g} s" if seconds else ""
    message = f"attempt {attempt} was not claimed by a worker within its queue timeout{limit}"
    if run.error is not None and run.error.kind == _RELEASED and run.error.attempt == attempt:
        message += f"; it was handed back: {run.error.message}"
    return ErrorInfo(kind="timeout.queue", message=message, retryable=True)


def _output_problem(step_id: str, attempt: int, output: Any) -> tuple[int, ErrorInfo | None]:
    """The size of ``output`` as compact JSON, or the error that refuses it."""
    try:
        size = len(_ENCODE(output))
    except RecursionError:
        message = f"the output of attempt {attempt} of step '{step_id}' nests too deeply to be stored as JSON"
        return 0, ErrorInfo(kind="output.invalid", message=message)
    except (TypeError, ValueError, OverflowError, msgspec.EncodeError) as exc:
        message = f"the output of attempt {attempt} of step '{step_id}' is not JSON: {exc}"
        return 0, ErrorInfo(kind="output.invalid", message=message)
    if size > limits.MAX_STEP_OUTPUT_BYTES:
        message = (
            f"the output of attempt {attempt} of step '{step_id}' is {size} bytes as JSON; "
            f"the limit is {limits.MAX_STEP_OUTPUT_BYTES} (MAX_STEP_OUTPUT_BYTES)"
        )
        details = {"bytes": size, "limit": limits.MAX_STEP_OUTPUT_BYTES}
        return size, ErrorInfo(kind="output.too_large", message=message, details=details)
    return size, None


def _retain(draft: Draft, step_id: str, run: StepRun, output: Any) -> int | None:
    """Counts a step's output into the execution's total; fails the step (and returns ``None``) when it cannot."""
    size, error = _output_problem(step_id, run.attempt, output)
    if error is None and not draft.retain(size):
        message = (
            f"the output of step '{step_id}' ({size} bytes as JSON) would take the execution's retained outputs "
            f"past {limits.MAX_EXECUTION_OUTPUT_BYTES} bytes (MAX_EXECUTION_OUTPUT_BYTES)"
        )
        details = {"bytes": size, "retained": draft.output_bytes, "limit": limits.MAX_EXECUTION_OUTPUT_BYTES}
        error = ErrorInfo(kind="output.execution_too_large", message=message, details=details)
    if error is not None:
        draft.attempt_failed(step_id, run, error, StepStatus.FAILED)
        return None
    return size


def _on_step_succeeded(plan: Plan, state: ExecutionState, event: StepSucceeded) -> Outcome:
    run = _current(plan, state, event.step_id, event.attempt, _ATTEMPT_OPEN, "StepSucceeded")
    branches = plan.steps[event.step_id].branches
    if branches is None and event.branch is not None:
        raise IllegalTransitionError(f"step '{event.step_id}' is not a routing step: it cannot choose a branch")
    if branches is not None and event.branch not in branches:
        raise IllegalTransitionError(f"step '{event.step_id}' has no branch {event.branch!r}; it has {branches}")
    draft = Draft(plan, state, event.at)
    run = _begun(run, event.at)
    size = _retain(draft, event.step_id, run, event.output)
    if size is not None:
        draft.finish(
            event.step_id,
            replace(
                run,
                status=StepStatus.SUCCEEDED,
                output=event.output,
                output_bytes=size,
                branch=event.branch,
                error=None,
                finished_at=event.at,
                queue_deadline=None,
                run_deadline=None,
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


def _timed_out(
    plan: Plan, state: ExecutionState, run: StepRun, event: StepTimedOut | TimerFired, error: ErrorInfo
) -> Outcome:
    """An attempt ran out of time: the retry policy decides; a still-running attempt is told to stop."""
    assert event.step_id is not None  # checked by _current
    draft = Draft(plan, state, event.at)
    if isinstance(event, TimerFired):
        draft.commands.append(CancelStep(event.step_id, event.attempt))
    draft.attempt_failed(event.step_id, _begun(run, event.at), error, StepStatus.TIMED_OUT)
    draft.settle()
    return draft.result()


def _run_timeout_error(plan: Plan, step_id: str, attempt: int) -> ErrorInfo:
    timeout = plan.steps[step_id].timeout_seconds
    limit = f" of {timeout:g} s" if timeout else ""
    return ErrorInfo(kind="timeout", message=f"attempt {attempt} ran past its timeout{limit}", retryable=True)


def _on_step_timed_out(plan: Plan, state: ExecutionState, event: StepTimedOut) -> Outcome:
    run = _current(plan, state, event.step_id, event.attempt, _ATTEMPT_OPEN, "StepTimedOut")
    return _timed_out(plan, state, run, event, _run_timeout_error(plan, event.step_id, event.attempt))


def _on_step_suspended(plan: Plan, state: ExecutionState, event: StepSuspended) -> Outcome:
    run = _current(plan, state, event.step_id, event.attempt, _ATTEMPT_OPEN, "StepSuspended")
    if plan.steps[event.step_id].branches is not None:
        raise IllegalTransitionError(f"step '{event.step_id}' is a routing step: it must choose a branch, not wait")
    draft = Draft(plan, state, event.at)
    run = _begun(run, event.at)
    size = _retain(draft, event.step_id, run, event.output)
    if size is not None:
        draft.steps[event.step_id] = replace(
            run,
            status=StepStatus.WAITING,
            output=event.output,
            output_bytes=size,
            wake_at=event.until,
            queue_deadline=None,
            run_deadline=None,
        )
        draft.commands.append(StartTimer(TimerKind.WAKE, event.until, event.step_id, event.attempt))
    draft.settle()
    return draft.result()


def _on_timer_fired(plan: Plan, state: ExecutionState, event: TimerFired) -> Outcome:
    kind = event.kind
    if kind is TimerKind.EXECUTION_TIMEOUT:
        return _execution_timed_out(plan, state, event)
    what = f"TimerFired({kind})"
    step_id, attempt = event.step_id, event.attempt
    if kind is TimerKind.RETRY:
        _current(plan, state, step_id, attempt, _RETRY_WAIT, what)
        assert step_id is not None
        draft = Draft(plan, state, event.at)
        draft.schedule(step_id, attempt + 1)
    elif kind is TimerKind.WAKE:
        run = _current(plan, state, step_id, attempt, _WAITING, what)
        assert step_id is not None
        draft = Draft(plan, state, event.at)
        draft.finish(step_id, replace(run, status=StepStatus.SUCCEEDED, wake_at=None, finished_at=event.at))
    elif kind is TimerKind.RUN_TIMEOUT:
        run = _current(plan, state, step_id, attempt, _RUNNING, what)
        assert step_id is not None
        return _timed_out(plan, state, run, event, _run_timeout_error(plan, step_id, attempt))
    else:
        run = _current(plan, state, step_id, attempt, _SCHEDULED, what)
        assert step_id is not None
        return _timed_out(plan, state, run, event, _queue_timeout_error(plan, run, step_id, attempt))
    draft.settle()
    return draft.result()


def _begun(run: StepRun, at: datetime) -> StepRun:
    """``run`` with a start time, for a worker that reported its result without ``StepStarted``."""
    return run if run.started_at else replace(run, started_at=at)


_Handler = Callable[[Plan, ExecutionState, Any], Outcome]
_HANDLERS: dict[type, _Handler] = {
    ExecutionStarted: _on_execution_started,
    StepStarted: _on_step_started,
    StepReleased: _on_step_released,
    StepSucceeded: _on_step_succeeded,
    StepFailed: _on_step_failed,
    StepTimedOut: _on_step_timed_out,
    StepSuspended: _on_step_suspended,
    TimerFired: _on_timer_fired,
    CancelRequested: _on_cancel_requested,
    RetryRequested: _on_retry_requested,
}
