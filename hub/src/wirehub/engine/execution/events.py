"""The events that change an execution: what happened, and when.

Events are the history of an execution and part of the persistence schema:
a tagged union on ``"type"`` (``{"type": "step_started", ...}``), so
``msgspec.json.decode(data, type=Event)`` gives back the right class. Every
event carries ``at``, the instant it happened on the store's clock.
"""

from __future__ import annotations

import enum
import re
from datetime import datetime
from typing import Any

import msgspec

from wirehub.engine.execution.state import ErrorInfo


def snake_case(name: str) -> str:
    """``StepStarted`` as ``step_started``: the tag of a class in the persistence schema."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class TimerKind(enum.StrEnum):
    """What a timer is for. A timer is identified by (execution, kind, step, attempt)."""

    EXECUTION_TIMEOUT = "execution_timeout"
    """The execution's deadline (the workflow's ``timeout_seconds``); no step, attempt 0."""
    SCHEDULE_TIMEOUT = "schedule_timeout"
    """An attempt not claimed within its step's ``queue_timeout_seconds`` (schedule-to-start)."""
    RUN_TIMEOUT = "run_timeout"
    """An attempt running past its step's ``timeout_seconds`` since its claim (start-to-close)."""
    RETRY = "retry"
    """The next attempt of a step in ``retry_wait`` is due."""
    WAKE = "wake"
    """A ``waiting`` step (its node returned ``Wait``) wakes up."""


class BaseEvent(msgspec.Struct, frozen=True, gc=False, tag_field="type", tag=snake_case):
    """The common base of events; its subclasses form the union ``Event``."""


class ExecutionStarted(BaseEvent, frozen=True):
    """The execution starts: its root steps are scheduled and its deadline set."""

    at: datetime


class StepStarted(BaseEvent, frozen=True):
    """A worker claimed a scheduled attempt; ``at`` is the claim instant, where its run deadline starts.

    A queued claim (a worker claims an attempt it will start when one of its
    slots frees, within a bound) carries ``starts_by``: the worker starts the
    attempt by then or hands it back, and the run deadline counts from
    ``starts_by`` instead of ``at``, so the wait in the worker's queue does
    not eat into the step's ``timeout_seconds``.
    """

    step_id: str
    attempt: int
    at: datetime
    starts_by: datetime | None = None


class StepReleased(BaseEvent, frozen=True):
    """A worker gave its claim of a running attempt back without a result, for ``reason``.

    It cannot run it (no node type of that name among its plugins) or it is
    stopping. The attempt is ``scheduled`` again, for any worker, and its
    queue deadline is the one it had when first scheduled (or
    ``DEFAULT_QUEUE_TIMEOUT_SECONDS`` from its first release when its step
    has no ``queue_timeout_seconds``): an attempt no worker can run fails
    with ``timeout.queue`` in bounded time.
    """

    step_id: str
    attempt: int
    at: datetime
    reason: str = "handed back"


class StepSucceeded(BaseEvent, frozen=True):
    """An attempt returned ``output`` (and, for a routing step, the ``branch`` it chose)."""

    step_id: str
    attempt: int
    at: datetime
    output: Any = None
    branch: str | None = None


class StepFailed(BaseEvent, frozen=True):
    """An attempt failed with ``error``; the step's retry policy and catch routes decide what follows."""

    step_id: str
    attempt: int
    at: datetime
    error: ErrorInfo


class StepTimedOut(BaseEvent, frozen=True):
    """A worker or the store reports that an attempt ran out of time.

    The worker's own clock passed the attempt's run deadline, or the store
    saw its lease expire (its worker died). The same as the engine's own
    ``TimerFired`` of kind ``run_timeout``; whichever comes first counts and
    the other is stale.
    """

    step_id: str
    attempt: int
    at: datetime


class StepSuspended(BaseEvent, frozen=True):
    """An attempt returned ``Wait``: the step holds ``output`` and wakes at ``until``."""

    step_id: str
    attempt: int
    at: datetime
    until: datetime
    output: Any = None


class TimerFired(BaseEvent, frozen=True):
    """A timer that ``StartTimer`` set (and that ``live_timers`` lists) came due.

    ``kind`` says which: the execution's timeout (``step_id`` ``None``,
    ``attempt`` 0), an attempt's schedule-to-start or run timeout, a retry or
    a wake-up. A timer whose step or execution has moved on is stale.
    """

    kind: TimerKind
    at: datetime
    step_id: str | None = None
    attempt: int = 0


class CancelRequested(BaseEvent, frozen=True):
    """Someone asked the execution to stop; ``reason`` becomes its error message."""

    at: datetime
    reason: str = "cancelled"


class RetryRequested(BaseEvent, frozen=True):
    """Someone asked a failed, timed-out or cancelled execution to run again from the steps that did not
    succeed, keeping the outputs of those that did (``wirehub.engine.execution.rerun``)."""

    at: datetime


Event = (
    ExecutionStarted
    | StepStarted
    | StepReleased
    | StepSucceeded
    | StepFailed
    | StepTimedOut
    | StepSuspended
    | TimerFired
    | CancelRequested
    | RetryRequested
)
"""Every event the state machine accepts."""
