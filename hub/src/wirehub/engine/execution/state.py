"""Execution state: the statuses, a recorded failure, one step's run and the execution.

Everything here is plain, frozen data and part of the persistence schema: a
state encodes to JSON with ``msgspec.json.encode`` and decodes back equal
with ``msgspec.json.decode(data, type=ExecutionState)``. A new state is made
with ``msgspec.structs.replace``; nothing here is ever mutated.
``wirehub.engine.execution.machine.apply`` is the only function that turns
``(state, event)`` into ``(state, commands)``.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import msgspec


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
        """Whether the execution is over."""
        return self in _TERMINAL_EXECUTION


_TERMINAL_EXECUTION = frozenset(
    {ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED, ExecutionStatus.TIMED_OUT}
)


class StepStatus(enum.StrEnum):
    """Where one step's run is."""

    PENDING = "pending"
    """Waiting for the steps it needs."""
    SCHEDULED = "scheduled"
    """Handed to a worker; not claimed yet."""
    RUNNING = "running"
    """A worker claimed the attempt (``StepStarted``); its run deadline is ticking."""
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
        """Whether the step is over."""
        return self in _TERMINAL_STEP


_TERMINAL_STEP = frozenset(
    {StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.SKIPPED, StepStatus.CANCELLED, StepStatus.TIMED_OUT}
)


class ErrorInfo(msgspec.Struct, frozen=True, gc=False):
    """A failure, as recorded in state and history.

    Attributes:
        kind: Dotted error kind (``http.status``, ``timeout``, ``output.too_large``);
            retry policies and catch routes match on it.
        message: What went wrong, for a person.
        retryable: Whether another attempt may succeed.
        retry_after: Seconds the failing node asked to wait before a retry.
        details: Structured facts (an HTTP status and body, an expression's position).
        step_id: The step that failed, on an execution's error.
        attempt: The attempt that failed, on an execution's error.
        node_type: The failed step's node type, on an execution's error.
        traceback: The Python traceback of an internal error (``INTERNAL_ERROR_KINDS``), as
            the runtime reports it. Never part of state or history: the store moves it to
            the attempt's row before it applies the event, and the API shows it to admins only.
    """

    kind: str
    message: str
    retryable: bool = False
    retry_after: float | None = None
    details: dict[str, Any] = {}
    step_id: str | None = None
    attempt: int | None = None
    node_type: str | None = None
    traceback: str | None = None

    @property
    def internal(self) -> bool:
        """Whether this is an internal error: an unexpected exception in a node or the runtime."""
        return self.kind in INTERNAL_ERROR_KINDS


INTERNAL_ERROR_KINDS = frozenset({"node.unexpected"})
"""Error kinds of internal errors: their message is all a non-admin sees, and they keep a traceback."""


class StepRun(msgspec.Struct, frozen=True, gc=False):
    """The state of one step within an execution.

    The deadlines and ``wake_at`` are the step's live timers, as state:
    ``wirehub.engine.execution.timers.live_timers`` lists them.
    """

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
    """When a ``retry_wait`` step's next attempt starts, or a ``waiting`` step wakes."""
    resolved_edges: int = 0
    """Incoming edges whose source is terminal; counted by the state machine."""
    queue_deadline: datetime | None = None
    """When a ``scheduled`` attempt times out unless claimed (``queue_timeout_seconds``).

    A claim keeps it (it is live only while ``scheduled``): an attempt handed back by ``StepReleased`` is
    held to the deadline it had when first scheduled.
    """
    run_deadline: datetime | None = None
    """When a ``running`` attempt times out: its claim instant plus ``timeout_seconds``."""
    output_bytes: int = 0
    """The size of ``output`` as compact JSON."""
    attempts_before: int = 0
    """Attempts made before the execution was last retried (``RetryRequested``); its retry policy counts
    only the attempts after them."""


class ExecutionState(msgspec.Struct, frozen=True, gc=False):
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
    deadline: datetime | None = None
    """When a ``running`` execution times out (the workflow's ``timeout_seconds``)."""
    output_bytes: int = 0
    """The retained outputs of all steps, as compact JSON; at most ``MAX_EXECUTION_OUTPUT_BYTES``."""


class IllegalTransitionError(Exception):
    """An event that is not legal in the current state. The state is unchanged.

    ``stale`` is True for an event about an attempt or timer that is no longer
    current (a duplicate delivery, a late result of a timed-out attempt, a
    timer whose step has moved on): callers drop those quietly.
    """

    def __init__(self, message: str, *, stale: bool = False) -> None:
        super().__init__(message)
        self.stale = stale
