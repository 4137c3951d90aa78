"""The transition tables of the state machine, as data.

``docs/engine.md`` shows these tables as rendered by ``render_markdown``;
a test keeps the two equal, and the property tests check that every status
change the machine makes is a row here.
"""

from __future__ import annotations

from dataclasses import dataclass

from wirehub.engine.execution.state import ExecutionStatus, StepStatus

_E = ExecutionStatus
_S = StepStatus
_ATTEMPT_OPEN = (_S.SCHEDULED, _S.RUNNING)
_NOT_KEPT = (_S.FAILED, _S.TIMED_OUT, _S.CANCELLED, _S.SKIPPED)


@dataclass(frozen=True, slots=True)
class Transition:
    """One legal status change: ``source`` becomes ``target`` on ``cause``, emitting ``commands``."""

    source: tuple[str, ...]
    cause: str
    target: str
    commands: str


_RUN = "`RunStep`"
_QUEUED = " (and `StartTimer(schedule_timeout)` with `queue_timeout_seconds`)"
_FAILING = "see *Failing a step*"

STEP_TRANSITIONS: tuple[Transition, ...] = (
    Transition((_S.PENDING,), "`ExecutionStarted` (root step)", _S.SCHEDULED, f"{_RUN} attempt 1{_QUEUED}"),
    Transition(
        (_S.PENDING,), "last source terminal, an incoming edge active", _S.SCHEDULED, f"{_RUN} attempt 1{_QUEUED}"
    ),
    Transition((_S.PENDING,), "last source terminal, no incoming edge active", _S.SKIPPED, "none"),
    Transition(
        (_S.PENDING,), "ready, but its input expression fails or its default input is too large", _S.FAILED, _FAILING
    ),
    Transition((_S.PENDING,), "execution ends", _S.SKIPPED, "none"),
    Transition(
        (_S.SCHEDULED,),
        "`StepStarted` (the claim)",
        _S.RUNNING,
        "`StartTimer(run_timeout)` with `timeout_seconds` (from `starts_by` for a queued claim)",
    ),
    Transition(
        (_S.RUNNING,),
        "`StepReleased` (the claim given back)",
        _S.SCHEDULED,
        "`StartTimer(schedule_timeout)` at the first queue deadline, else now + `DEFAULT_QUEUE_TIMEOUT_SECONDS`",
    ),
    Transition(_ATTEMPT_OPEN, "`StepSucceeded`", _S.SUCCEEDED, "`RunStep` of successors made ready"),
    Transition(_ATTEMPT_OPEN, "`StepSucceeded` or `StepSuspended`, output over a limit", _S.FAILED, _FAILING),
    Transition(_ATTEMPT_OPEN, "`StepFailed`, the policy retries", _S.RETRY_WAIT, "`StartTimer(retry)` at now + delay"),
    Transition(_ATTEMPT_OPEN, "`StepFailed`, no retry", _S.FAILED, _FAILING),
    Transition(
        _ATTEMPT_OPEN, "`StepTimedOut`, the policy retries", _S.RETRY_WAIT, "`StartTimer(retry)` at now + delay"
    ),
    Transition(_ATTEMPT_OPEN, "`StepTimedOut`, no retry", _S.TIMED_OUT, _FAILING),
    Transition(
        (_S.SCHEDULED,),
        "`TimerFired(schedule_timeout)`, the policy retries",
        _S.RETRY_WAIT,
        "`CancelStep`, `StartTimer(retry)` at now + delay",
    ),
    Transition((_S.SCHEDULED,), "`TimerFired(schedule_timeout)`, no retry", _S.TIMED_OUT, f"`CancelStep`, {_FAILING}"),
    Transition(
        (_S.RUNNING,),
        "`TimerFired(run_timeout)`, the policy retries",
        _S.RETRY_WAIT,
        "`CancelStep`, `StartTimer(retry)` at now + delay",
    ),
    Transition((_S.RUNNING,), "`TimerFired(run_timeout)`, no retry", _S.TIMED_OUT, f"`CancelStep`, {_FAILING}"),
    Transition(_ATTEMPT_OPEN, "`StepSuspended`", _S.WAITING, "`StartTimer(wake)` at `until`"),
    Transition((_S.WAITING,), "`TimerFired(wake)`", _S.SUCCEEDED, "`RunStep` of successors made ready"),
    Transition((_S.RETRY_WAIT,), "`TimerFired(retry)`", _S.SCHEDULED, f"{_RUN} attempt + 1{_QUEUED}"),
    Transition((_S.RETRY_WAIT,), "`TimerFired(retry)`, but its input cannot be built", _S.FAILED, _FAILING),
    Transition(_ATTEMPT_OPEN, "execution ends", _S.CANCELLED, "`CancelStep`"),
    Transition((_S.WAITING, _S.RETRY_WAIT), "execution ends", _S.CANCELLED, "none; its timer turns stale"),
    Transition(
        _NOT_KEPT,
        "`RetryRequested`, the step not kept, its sources kept: ready again",
        _S.SCHEDULED,
        f"{_RUN} attempt + 1 (its retry policy counting afresh){_QUEUED}",
    ),
    Transition(_NOT_KEPT, "`RetryRequested`, the step not kept, waiting on a step not kept", _S.PENDING, "none"),
    Transition(_NOT_KEPT, "`RetryRequested`, ready again, no incoming edge active", _S.SKIPPED, "none"),
    Transition(_NOT_KEPT, "`RetryRequested`, ready again, but its input cannot be built", _S.FAILED, _FAILING),
)
"""Every status change of a step. "Execution ends" is a `CancelRequested`, a
`TimerFired(execution_timeout)`, or another step failing with no matching catch."""

EXECUTION_TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        (_E.PENDING,),
        "`ExecutionStarted` (what `start` applies)",
        _E.RUNNING,
        "`StartTimer(execution_timeout)` with `timeout_seconds`, `RunStep` of roots",
    ),
    Transition(
        (_E.RUNNING,), "every step terminal, output evaluates", _E.SUCCEEDED, "`FinishExecution(SUCCEEDED, output)`"
    ),
    Transition(
        (_E.RUNNING,), "every step terminal, output expression fails", _E.FAILED, "`FinishExecution(FAILED, error)`"
    ),
    Transition(
        (_E.RUNNING,),
        "a step fails with no matching catch",
        _E.FAILED,
        "`CancelStep`s, `FinishExecution(FAILED, error)`",
    ),
    Transition(
        (_E.PENDING, _E.RUNNING), "`CancelRequested`", _E.CANCELLED, "`CancelStep`s, `FinishExecution(CANCELLED)`"
    ),
    Transition(
        (_E.RUNNING,),
        "`TimerFired(execution_timeout)`",
        _E.TIMED_OUT,
        "`CancelStep`s, `FinishExecution(TIMED_OUT)`",
    ),
    Transition(
        (_E.FAILED, _E.TIMED_OUT, _E.CANCELLED),
        "`RetryRequested`",
        _E.RUNNING,
        "`StartTimer(execution_timeout)` with `timeout_seconds`, `RunStep` of the steps ready again",
    ),
)
"""Every status change of an execution. ``ExecutionStarted`` (and ``RetryRequested``) may pass through
``running`` to ``failed`` in one transition when a step's input fails."""


def step_pairs() -> frozenset[tuple[StepStatus, StepStatus]]:
    """Every ``(before, after)`` pair of step statuses the table allows."""
    return frozenset((StepStatus(s), StepStatus(t.target)) for t in STEP_TRANSITIONS for s in t.source)


def render_markdown(table: tuple[Transition, ...]) -> str:
    """The table as Markdown, the form ``docs/engine.md`` shows."""
    lines = ["| from | event or cause | to | commands |", "| --- | --- | --- | --- |"]
    for row in table:
        source = ", ".join(f"`{s}`" for s in row.source)
        lines.append(f"| {source} | {row.cause} | `{row.target}` | {row.commands} |")
    return "\n".join(lines)
