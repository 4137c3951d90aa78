"""The live timers of an execution, read from its state alone.

Every deadline and wake-up time lives in the state (``ExecutionState.deadline``,
``StepRun.queue_deadline``, ``run_deadline`` and ``wake_at``), so a sweeper
that lost every ``StartTimer`` command still finds what is due. A finished or
cancelled execution has no live timer.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from wirehub.engine.execution.events import TimerFired, TimerKind
from wirehub.engine.execution.state import ExecutionState, ExecutionStatus, StepStatus


class Timer(msgspec.Struct, frozen=True, gc=False):
    """One live timer: its identity ``(execution_id, kind, step_id, attempt)`` and when it is due."""

    execution_id: str
    kind: TimerKind
    at: datetime
    step_id: str | None = None
    attempt: int = 0

    def fired(self, at: datetime | None = None) -> TimerFired:
        """The event to apply when the timer comes due (at ``at``, default its due time)."""
        return TimerFired(self.kind, self.at if at is None else at, self.step_id, self.attempt)


def live_timers(state: ExecutionState) -> list[Timer]:
    """Every timer of ``state`` that may still fire, the execution's first, then in step order.

    A ``running`` execution with a deadline has an ``execution_timeout``
    timer; a ``scheduled`` attempt with a queue deadline a
    ``schedule_timeout``; a ``running`` attempt with a run deadline a
    ``run_timeout``; a ``retry_wait`` step a ``retry``; a ``waiting`` step a
    ``wake``. Nothing else holds a timer.
    """
    if state.status is not ExecutionStatus.RUNNING:
        return []
    execution_id = state.execution_id
    timers: list[Timer] = []
    if state.deadline is not None:
        timers.append(Timer(execution_id, TimerKind.EXECUTION_TIMEOUT, state.deadline))
    for step_id, run in state.steps.items():
        status = run.status
        if status is StepStatus.SCHEDULED and run.queue_deadline is not None:
            timers.append(Timer(execution_id, TimerKind.SCHEDULE_TIMEOUT, run.queue_deadline, step_id, run.attempt))
        elif status is StepStatus.RUNNING and run.run_deadline is not None:
            timers.append(Timer(execution_id, TimerKind.RUN_TIMEOUT, run.run_deadline, step_id, run.attempt))
        elif status is StepStatus.RETRY_WAIT and run.wake_at is not None:
            timers.append(Timer(execution_id, TimerKind.RETRY, run.wake_at, step_id, run.attempt))
        elif status is StepStatus.WAITING and run.wake_at is not None:
            timers.append(Timer(execution_id, TimerKind.WAKE, run.wake_at, step_id, run.attempt))
    return timers


def due_timers(state: ExecutionState, now: datetime) -> list[Timer]:
    """The live timers of ``state`` due at ``now``, earliest first."""
    return sorted((timer for timer in live_timers(state) if timer.at <= now), key=lambda timer: timer.at)
