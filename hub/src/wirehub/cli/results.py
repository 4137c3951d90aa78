"""How an execution's result is shown: its error with the failing step, attempt and details."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wirehub.cli.text import escape

if TYPE_CHECKING:
    from wirehub.engine import ErrorInfo, ExecutionState
    from wirehub.runtime import ExecutionResult


def _failed_step(state: ExecutionState) -> tuple[str, ErrorInfo] | None:
    """The step whose failure ended the execution: the last failed one that no catch route handled."""
    from datetime import UTC, datetime

    from wirehub.engine import StepStatus

    failed = [
        (run.finished_at, step_id, run.error)
        for step_id, run in state.steps.items()
        if run.error is not None and run.caught_by is None and run.status in (StepStatus.FAILED, StepStatus.TIMED_OUT)
    ]
    if not failed:
        return None
    _, step_id, error = max(failed, key=lambda item: item[0] or datetime.min.replace(tzinfo=UTC))
    return step_id, error


def error_document(result: ExecutionResult) -> dict[str, Any] | None:
    """The result's error as JSON: kind, message, and the failing step, attempt and details when known."""
    error = result.error
    if error is None:
        return None
    document: dict[str, Any] = {"kind": error.kind, "message": error.message}
    failed = _failed_step(result.state)
    step_id: str | None = getattr(error, "step_id", None) or (failed[0] if failed else None)
    attempt: int | None = getattr(error, "attempt", None)
    if attempt is None and step_id is not None and step_id in result.state.steps:
        attempt = result.state.steps[step_id].attempt or None
    # The failing step's own details (an HTTP status and body...) are what a person needs to see.
    details = failed[1].details if failed is not None and failed[0] == step_id else error.details
    if step_id is not None:
        document["step_id"] = step_id
    if attempt is not None:
        document["attempt"] = attempt
    if details:
        document["details"] = details
    return document


def describe_error(document: dict[str, Any]) -> list[str]:
    """The error for a person: a line for the message, then one per detail (long values cut)."""
    import msgspec

    lines = [f"error: {escape(document['kind'])}: {escape(document['message'])}"]
    for key, value in (document.get("details") or {}).items():
        text = value if isinstance(value, str) else msgspec.json.encode(value).decode()
        if len(text) > 2000:
            text = text[:2000] + f"… ({len(text)} characters)"
        lines.append(f"  {escape(key)}: {escape(text)}")
    return lines
