"""Shows an execution's progress, one line per step transition, as it happens.

``ProgressPrinter`` follows an execution run here (``wirehub run``), from its
state; ``EventPrinter`` follows one on a hub (``wirehub start --watch``), from
its live events. Both print the same lines.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from wirehub.cli.text import escape
from wirehub.engine import Event, ExecutionState, StepRun, StepStatus
from wirehub_sdk.host import Progress

if TYPE_CHECKING:
    from wirehub_sdk.client import LiveEvent

_MARKS = {
    StepStatus.SCHEDULED: "·",
    StepStatus.RUNNING: "▶",
    StepStatus.SUCCEEDED: "✓",
    StepStatus.FAILED: "✗",
    StepStatus.TIMED_OUT: "⏱",
    StepStatus.RETRY_WAIT: "↻",
    StepStatus.WAITING: "⏸",
    StepStatus.SKIPPED: "-",
    StepStatus.CANCELLED: "⊘",
}


class ProgressPrinter:
    """An execution observer that prints what changed since the last event."""

    def __init__(self, stream: TextIO | None = None, *, started: datetime) -> None:
        self._stream = stream or sys.stderr
        self._started = started
        self._seen: dict[str, tuple[StepStatus, int]] = {}

    def __call__(self, event: Event, state: ExecutionState) -> None:
        width = max((len(s) for s in state.steps), default=8)
        for step_id, run in state.steps.items():
            now = (run.status, run.attempt)
            if run.status is StepStatus.PENDING or self._seen.get(step_id) == now:
                continue
            self._seen[step_id] = now
            self._line(f"{_MARKS[run.status]} {escape(step_id):<{width}}  {self._describe(run, event)}", event.at)

    def progress(self, step_id: str, attempt: int, report: Progress) -> None:
        """Prints a node's progress report."""
        fraction = f" {report.fraction:.0%}" if report.fraction is not None else ""
        self._stream.write(f"  {escape(step_id)}  … {escape(report.message)}{fraction}\n")

    def _describe(self, run: StepRun, event: Event) -> str:
        text = f"{run.status.value:<10} attempt {run.attempt}" if run.attempt else run.status.value
        if run.status is StepStatus.SUCCEEDED and run.branch:
            text += f"  → branch {escape(run.branch)}"
        if run.error is not None and run.status in (StepStatus.FAILED, StepStatus.RETRY_WAIT, StepStatus.TIMED_OUT):
            text += f"  {escape(run.error.kind)}: {escape(run.error.message)}"
        if run.status is StepStatus.RETRY_WAIT and run.wake_at is not None:
            text += f"  (next attempt in {(run.wake_at - event.at).total_seconds():.2f}s)"
        if run.status is StepStatus.WAITING and run.wake_at is not None:
            text += f"  until {run.wake_at.isoformat()}"
        if run.caught_by:
            text += f"  (caught → {escape(run.caught_by)})"
        return text

    def _line(self, text: str, at: datetime) -> None:
        elapsed = (at - self._started).total_seconds()
        self._stream.write(f"{elapsed:8.3f}s {text}\n")
        self._stream.flush()


_EVENT_STATUS = {
    "step_started": StepStatus.RUNNING,
    "step_succeeded": StepStatus.SUCCEEDED,
    "step_failed": StepStatus.FAILED,
    "step_timed_out": StepStatus.TIMED_OUT,
    "step_suspended": StepStatus.WAITING,
    "step_released": StepStatus.SCHEDULED,
}
STEP_WIDTH = 12


class EventPrinter:
    """Prints a hub's live events of one execution: a line per step transition, then counts as it goes.

    Args:
        stream: Where to print (standard error by default).
        started: The instant times are counted from (the first event's, when ``None``).
    """

    def __init__(self, stream: TextIO | None = None, *, started: datetime | None = None) -> None:
        self._stream = stream or sys.stderr
        self._started = started
        self.finished_steps: set[str] = set()

    def __call__(self, live: LiveEvent) -> None:
        if self._started is None:
            self._started = live.at
        event = live.event
        step_id = live.step_id
        status = _EVENT_STATUS.get(live.event_type)
        if status is not None and step_id is not None:
            if status in (StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.TIMED_OUT):
                self.finished_steps.add(step_id)
            text = f"{_MARKS[status]} {escape(step_id):<{STEP_WIDTH}}  {self._describe(status, event)}"
        elif live.event_type == "timer_fired" and event.get("kind") == "retry" and step_id is not None:
            text = f"{_MARKS[StepStatus.RETRY_WAIT]} {escape(step_id):<{STEP_WIDTH}}  retry due"
        elif live.event_type == "cancel_requested":
            reason = escape(event.get("reason", ""))
            text = f"{_MARKS[StepStatus.CANCELLED]} {'execution':<{STEP_WIDTH}}  cancel requested: {reason}"
        elif live.event_type == "execution_started":
            text = f"  {'execution':<{STEP_WIDTH}}  started"
        else:
            return
        elapsed = (live.at - self._started).total_seconds()
        self._stream.write(f"{elapsed:8.3f}s {text}\n")
        self._stream.flush()

    @staticmethod
    def _describe(status: StepStatus, event: dict[str, Any]) -> str:
        attempt = event.get("attempt")
        text = f"{status.value:<10} attempt {attempt}" if attempt else status.value
        if status is StepStatus.SUCCEEDED and event.get("branch"):
            text += f"  → branch {escape(event['branch'])}"
        error = event.get("error")
        if status is StepStatus.FAILED and isinstance(error, dict):
            text += f"  {escape(error.get('kind', ''))}: {escape(error.get('message', ''))}"
        if status is StepStatus.WAITING and event.get("until"):
            text += f"  until {escape(event['until'])}"
        if status is StepStatus.SCHEDULED and event.get("reason"):
            text += f"  (handed back: {escape(event['reason'])})"
        return text
