"""What the remote commands print from a hub's events, and how they read ``--since``."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from wirehub.cli.errors import CliError
from wirehub.cli.executions import failure_line, since_instant
from wirehub.cli.progress import EventPrinter
from wirehub_sdk.client import Failure, LiveEvent

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def event(sequence: int, event_type: str, seconds: float, **fields: object) -> LiveEvent:
    return LiveEvent(
        execution_id=uuid.uuid4(),
        workflow_id=uuid.uuid4(),
        sequence=sequence,
        event_type=event_type,
        event={"type": event_type, **fields},
        status="running",
        at=START + timedelta(seconds=seconds),
    )


def test_each_step_transition_is_one_line_with_the_time_since_the_start() -> None:
    out = io.StringIO()
    printer = EventPrinter(out)
    for live in [
        event(1, "execution_started", 0),
        event(2, "step_started", 0.5, step_id="fetch", attempt=1),
        event(3, "step_failed", 1.25, step_id="fetch", attempt=1, error={"kind": "http.status", "message": "503"}),
        event(4, "timer_fired", 2.0, step_id="fetch", kind="retry", attempt=1),
        event(5, "step_succeeded", 3.0, step_id="fetch", attempt=2, branch="ok"),
    ]:
        printer(live)
    assert out.getvalue().splitlines() == [
        "   0.000s   execution     started",
        "   0.500s ▶ fetch         running    attempt 1",
        "   1.250s ✗ fetch         failed     attempt 1  http.status: 503",
        "   2.000s ↻ fetch         retry due",
        "   3.000s ✓ fetch         succeeded  attempt 2  → branch ok",
    ]
    assert printer.finished_steps == {"fetch"}


def test_text_from_the_hub_cannot_drive_the_terminal() -> None:
    out = io.StringIO()
    EventPrinter(out)(
        event(1, "step_failed", 0, step_id="a\x1b]0;owned\x07", attempt=1, error={"kind": "x", "message": "\r\x1b[2J"})
    )
    assert "\x1b" not in out.getvalue()
    assert "\r" not in out.getvalue()
    assert "\\x1b" in out.getvalue()


def test_since_takes_a_duration_or_an_instant() -> None:
    assert abs(since_instant("2h") - (datetime.now(UTC) - timedelta(hours=2))) < timedelta(seconds=5)
    assert since_instant("2026-12-01T09:00:00+00:00") == START
    assert since_instant("2026-12-01T09:00:00") == START  # no zone: UTC
    with pytest.raises(CliError):
        since_instant("yesterday")


def listed(**fields: object) -> Failure:
    values: dict[str, object] = {
        "execution_id": uuid.UUID(int=7),
        "workflow_id": uuid.UUID(int=9),
        "workflow_name": "orders",
        "status": "failed",
        "finished_at": START,
        **fields,
    }
    return msgspec.convert(values, Failure)


def test_a_failure_line_names_when_it_ended_the_step_attempt_kind_and_message() -> None:
    failure = listed(step_id="fetch", attempt=3, error_kind="http.status", error_message="503 from upstream")
    assert failure_line(failure) == (
        f"2026-12-01T09:00:00+00:00  {uuid.UUID(int=7)}  orders  step fetch attempt 3  http.status: 503 from upstream"
    )


def test_a_failure_line_without_a_step_or_a_workflow_name_says_so() -> None:
    failure = listed(workflow_name=None, status="timed_out", error_kind="timeout", error_message="over 5s")
    assert f"  {uuid.UUID(int=9)}  no step  timeout: over 5s" in failure_line(failure)
    bare = listed(status="timed_out", finished_at=None)
    assert failure_line(bare).startswith(f"-  {uuid.UUID(int=7)}  orders  no step  timed_out: ")


def test_a_failure_line_is_one_bounded_line_that_cannot_drive_the_terminal() -> None:
    failure = listed(
        workflow_name="evil\x1b]0;title\x07",
        step_id="a\x07",
        error_kind="x\x1b[2J",
        error_message="line one\nline two\r" + "y" * 5000,
    )
    line = failure_line(failure)
    assert "\n" not in line
    assert "\x1b" not in line
    assert "\r" not in line
    assert "\x07" not in line
    assert len(line) < 500
    assert line.endswith("…")
