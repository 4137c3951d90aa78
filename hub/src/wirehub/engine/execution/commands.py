"""The commands a transition emits: what the caller must do once it has saved the new state.

Commands are part of the persistence schema (an outbox holds them): a
tagged union on ``"type"`` (``{"type": "run_step", ...}``), decoded with
``msgspec.json.decode(data, type=Command)``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from wirehub.engine.execution.events import TimerFired, TimerKind, snake_case
from wirehub.engine.execution.state import ErrorInfo, ExecutionStatus


class BaseCommand(msgspec.Struct, frozen=True, gc=False, tag_field="type", tag=snake_case):
    """The common base of commands; its subclasses form the union ``Command``."""


class RunStep(BaseCommand, frozen=True):
    """Run attempt ``attempt`` of a step with this input.

    The worker that claims it reports ``StepStarted`` with the claim
    instant; the attempt's run deadline is that instant plus
    ``timeout_seconds`` (``None``: no limit), the step's start-to-close
    timeout, so time spent in a queue never eats it.
    """

    step_id: str
    attempt: int
    input: Any
    timeout_seconds: float | None = None


class StartTimer(BaseCommand, frozen=True):
    """Deliver ``TimerFired(kind, at, step_id, attempt)`` at ``at``.

    The same timer is in the new state too (``live_timers`` lists it), so a
    sweeper that lost the command finds it there. A timer that is no longer
    live when it fires is refused as stale: nothing needs to cancel it.
    """

    kind: TimerKind
    at: datetime
    step_id: str | None = None
    attempt: int = 0

    def fired(self, at: datetime | None = None) -> TimerFired:
        """The ``TimerFired`` event this timer delivers, at ``at`` (default: when it is due)."""
        return TimerFired(self.kind, self.at if at is None else at, self.step_id, self.attempt)


class CancelStep(BaseCommand, frozen=True):
    """Stop a running attempt, if it still runs; its result is ignored."""

    step_id: str
    attempt: int


class FinishExecution(BaseCommand, frozen=True):
    """The execution reached a terminal status, with this output or error."""

    status: ExecutionStatus
    output: Any = None
    error: ErrorInfo | None = None


Command = RunStep | StartTimer | CancelStep | FinishExecution
"""Every command the state machine emits."""
