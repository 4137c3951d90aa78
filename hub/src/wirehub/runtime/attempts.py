"""What a runtime hands to ``run_attempt`` and what it gets back: the attempt contract.

The workers (embedded and distributed) call
``wirehub.runtime.executor.run_attempt`` with an ``Attempt`` and act on its
``AttemptOutcome``; progress reports reach a ``ProgressSink``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wirehub.engine import ErrorInfo, StepFailed, StepSucceeded, StepSuspended, StepTimedOut
from wirehub_sdk.host import Progress


@dataclass(frozen=True, slots=True)
class Attempt:
    """One claimed attempt of a step, as a runtime hands it to ``run_attempt``.

    Attributes:
        execution_id: The execution the step belongs to.
        number: 1 for the first attempt, 2 for the first retry...
        input: The step's evaluated input (JSON values); the node gets its own copy.
        claimed_at: When a worker claimed the attempt: its timeout counts from here,
            so time spent queued never eats into it.
    """

    execution_id: str
    number: int
    input: Any
    claimed_at: datetime


@dataclass(frozen=True, slots=True)
class HandedBack:
    """The attempt did not run: this process lacks its node type (or its credential type).

    Not an engine event: the caller decides. The embedded runtime records it as a
    retryable failure of kind ``node.unavailable`` (``as_failure``), so the step's
    retry policy decides; the durable runtime redelivers the attempt to another
    worker, which may have the plugin installed.

    Attributes:
        step_id: The step.
        attempt: The attempt's number.
        reason: What is missing, e.g. ``"node type acme.sync v2 is not installed in this process"``.
    """

    step_id: str
    attempt: int
    reason: str

    def as_failure(self, at: datetime) -> StepFailed:
        """The attempt as a retryable failure of kind ``node.unavailable``, at ``at``."""
        error = ErrorInfo(kind="node.unavailable", message=self.reason, retryable=True)
        return StepFailed(self.step_id, self.attempt, at, error)


AttemptOutcome = StepSucceeded | StepSuspended | StepFailed | StepTimedOut | HandedBack
"""What one attempt can end in: an engine event, or ``HandedBack``."""


@dataclass(frozen=True, slots=True)
class ProgressReport:
    """A node's progress report, with the attempt it comes from."""

    execution_id: str
    step_id: str
    attempt: int
    progress: Progress


ProgressSink = Callable[[ProgressReport], Awaitable[None] | None]
"""Receives every progress report of the process's attempts, on the driver's loop."""
