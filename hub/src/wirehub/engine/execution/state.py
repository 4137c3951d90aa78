"""Execution state, the events that change it, and the commands it emits.

Everything here is plain data. ``wirehub.engine.execution.machine.apply`` is the only
function that turns ``(state, event)`` into ``(state, commands)``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class ExecutionStatus(enum.StrEnum):
    """Where an execution is. The last four are terminal."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL_EXECUTION


_TERMINAL_EXECUTION = frozenset(
    {ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED, ExecutionStatus.TIMED_OUT}
)


class StepStatus(enum.StrEnum):
    """Where one step's run is."""

    PENDING = "pending"
    """Waiting for the steps it needs."""
    SCHEDULED = "scheduled"
    """Handed to a worker; not started yet."""
    RUNNING = "running"
    WAITING = "waiting"
    """Its node asked to be woken later (a delay); holds no worker."""
    RETRY_WAIT = "retry_wait"
    """An attempt failed; the next one starts when its retry timer fires."""
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL_STEP


_TERMINAL_STEP = frozenset(
    {StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.SKIPPED, StepStatus.CANCELLED, StepStatus.TIMED_OUT}
)


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """A failure, as recorded in state and history."""

    kind: str
    message: str
    retryable: bool = False
    retry_after: float | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StepRun:
    """The state of one step within an execution."""

    status: StepStatus = StepStatus.PENDING
    attempt: int = 0
    """The current (or last) attempt; 0 before the first."""
    output: Any = None
    branch: str | None = None
    error: ErrorInfo | None = None
    caught_by: str | None = None
    """The handler step a catch route sent this step's failure to."""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    wake_at: datetime | None = None
    resolved_edges: int = 0
    """Incoming edges whose source is terminal; counted by the state machine."""


@dataclass(frozen=True, slots=True)
class ExecutionState:
    """The state of one execution: what the state machine reads and returns."""

    execution_id: str
    status: ExecutionStatus
    input: Any
    steps: dict[str, StepRun]
    output: Any = None
    error: ErrorInfo | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    open_steps: int | None = None
    """Steps not terminal yet, counted by the state machine; ``None`` until it counts them."""


# Events: what happened. Each carries the instant it happened.


@dataclass(frozen=True, slots=True)
class ExecutionStarted:
    at: datetime


@dataclass(frozen=True, slots=True)
class StepStarted:
    """A worker claimed the attempt and began it."""

    step_id: str
    attempt: int
    at: datetime


@dataclass(frozen=True, slots=True)
class StepSucceeded:
    step_id: str
    attempt: int
    at: datetime
    output: Any = None
    branch: str | None = None


@dataclass(frozen=True, slots=True)
class StepFailed:
    step_id: str
    attempt: int
    at: datetime
    error: ErrorInfo


@dataclass(frozen=True, slots=True)
class StepTimedOut:
    """The attempt ran past its deadline (or its worker's lease expired)."""

    step_id: str
    attempt: int
    at: datetime


@dataclass(frozen=True, slots=True)
class StepSuspended:
    """The node returned ``Wait``: wake the step at ``until``."""

    step_id: str
    attempt: int
    at: datetime
    until: datetime
    output: Any = None


@dataclass(frozen=True, slots=True)
class TimerFired:
    """A retry or wake-up timer set by ``StartTimer`` came due."""

    step_id: str
    attempt: int
    at: datetime


@dataclass(frozen=True, slots=True)
class CancelRequested:
    at: datetime
    reason: str = "cancelled"


@dataclass(frozen=True, slots=True)
class ExecutionTimedOut:
    at: datetime


Event = (
    ExecutionStarted
    | StepStarted
    | StepSucceeded
    | StepFailed
    | StepTimedOut
    | StepSuspended
    | TimerFired
    | CancelRequested
    | ExecutionTimedOut
)


# Commands: what the caller must do next, after it has saved the new state.


@dataclass(frozen=True, slots=True)
class RunStep:
    """Start attempt ``attempt`` of a step with this input."""

    step_id: str
    attempt: int
    input: Any
    deadline: datetime | None


@dataclass(frozen=True, slots=True)
class StartTimer:
    """Deliver ``TimerFired(step_id, attempt)`` at ``at`` (a retry or a wake-up)."""

    step_id: str
    attempt: int
    at: datetime


@dataclass(frozen=True, slots=True)
class CancelStep:
    """Stop a running attempt, if it still runs; its result is ignored."""

    step_id: str
    attempt: int


@dataclass(frozen=True, slots=True)
class StartExecutionTimer:
    """Deliver ``ExecutionTimedOut`` at ``at``."""

    at: datetime


@dataclass(frozen=True, slots=True)
class FinishExecution:
    """The execution reached a terminal status."""

    status: ExecutionStatus
    output: Any = None
    error: ErrorInfo | None = None


Command = RunStep | StartTimer | CancelStep | StartExecutionTimer | FinishExecution


class IllegalTransitionError(Exception):
    """An event that is not legal in the current state. The state is unchanged.

    ``stale`` is True for an event about an attempt that is no longer current
    (a duplicate delivery, a late result of a timed-out attempt): callers
    drop those quietly.
    """

    def __init__(self, message: str, *, stale: bool = False) -> None:
        super().__init__(message)
        self.stale = stale
