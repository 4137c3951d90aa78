"""Shows an execution's progress, one line per step transition, as it happens."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TextIO

from wirehub.cli.text import escape
from wirehub.engine import Event, ExecutionState, StepRun, StepStatus
from wirehub_sdk.host import Progress

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
