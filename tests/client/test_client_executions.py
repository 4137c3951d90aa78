"""``Client``'s execution calls (lists, history, cancel, retry) against the real app served over TCP."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.client.conftest import BROKEN_ONCE, SLOW_ONCE, chain
from wirehub_sdk.client import Client, ConflictError, Execution


def until(client: Client, execution_id: object, status: str) -> Execution:
    """The execution once it has ``status`` (polled)."""
    deadline = time.monotonic() + 20
    while (execution := client.execution(str(execution_id))).status != status:
        assert time.monotonic() < deadline, f"still {execution.status}"
        time.sleep(0.05)
    return execution


def test_executions_are_listed_newest_first_by_workflow_status_and_time(client: Client) -> None:
    client.push(chain("greet", 1, seconds=0.01))
    client.push(BROKEN_ONCE)
    greeted = [client.wait(client.start("greet").id, timeout=20) for _ in range(2)]
    broken = client.wait(client.start("broken-once").id, timeout=20)
    now = datetime.now(UTC)

    everything = client.executions()

    assert [e.id for e in everything.items] == [broken.id, greeted[1].id, greeted[0].id]
    assert everything.next is None
    listed = everything.items[0]
    assert (listed.status, listed.workflow_id, listed.error["step_id"]) == ("failed", broken.workflow_id, "b")
    assert listed.created_at is not None
    assert listed.finished_at is not None
    assert listed.steps == []  # a list leaves steps, input and output out
    assert [e.id for e in client.executions(workflow="greet").items] == [greeted[1].id, greeted[0].id]
    assert [e.id for e in client.executions(status="failed").items] == [broken.id]
    assert client.executions(started_after=now + timedelta(seconds=1)).items == []
    assert len(client.executions(started_before=now + timedelta(seconds=1)).items) == 3
    with pytest.raises(ValueError, match="time zone"):
        client.executions(started_after=datetime.now())


def test_executions_page_with_a_cursor_and_the_iterator_walks_every_page(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflow = client.push(chain("paged", 1, seconds=0.01))
    started = [client.start(workflow.id).id for _ in range(3)]

    first = client.executions(limit=2)
    second = client.executions(limit=2, cursor=first.next)

    assert [e.id for e in [*first.items, *second.items]] == started[::-1]
    assert second.next is None
    monkeypatch.setattr("wirehub_sdk.client._sync.PAGE_SIZE", 1)
    assert [e.id for e in client.iter_executions(workflow="paged")] == started[::-1]
    assert list(client.iter_executions(status="cancelled")) == []


def test_the_history_comes_in_sequence_order_a_page_at_a_time(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    done = client.wait(client.start(client.push(chain("told", 2, seconds=0.01)).id).id, timeout=20)

    page = client.history(done.id, limit=2)

    assert [entry.sequence for entry in page.items] == [1, 2]
    assert page.items[0].event_type == "execution_started"
    assert page.items[0].recorded_at is not None
    assert page.next_after == 2
    monkeypatch.setattr("wirehub_sdk.client._sync.PAGE_SIZE", 3)
    entries = list(client.iter_history(done.id))
    assert [entry.sequence for entry in entries] == list(range(1, done.sequence + 1))
    assert {entry.step_id for entry in entries} == {None, "s0", "s1"}
    assert [entry.sequence for entry in client.iter_history(done.id, after=done.sequence - 1)] == [done.sequence]
    last = client.history(done.id, after=done.sequence)
    assert (last.items, last.next_after) == ([], None)


def test_a_running_execution_is_cancelled_once_and_then_retried_to_success(client: Client) -> None:
    execution = client.start(client.push(SLOW_ONCE).id)
    until(client, execution.id, "running")

    cancelled = client.cancel(execution.id)

    assert cancelled.status == "cancelled"
    assert cancelled.error["message"].startswith("cancelled by admin")
    with pytest.raises(ConflictError) as twice:
        client.cancel(execution.id)
    assert twice.value.code == "execution-over"
    assert client.retry(execution.id).status == "running"
    done = client.wait(execution.id, timeout=20)
    assert (done.status, done.output) == ("succeeded", {"s": {"slept": 2}})


def test_a_failed_execution_is_retried_from_its_failed_step_keeping_what_succeeded(client: Client) -> None:
    failed = client.wait(client.start(client.push(BROKEN_ONCE).id).id, timeout=20)
    assert failed.status == "failed"

    retried = client.retry(failed.id)

    assert retried.status == "running"
    assert retried.sequence > failed.sequence
    done = client.wait(failed.id, timeout=20)
    assert done.succeeded, done.error
    attempts = [(run.step_id, run.attempt, run.status) for run in done.steps]
    assert attempts.count(("a", 1, "succeeded")) == 1
    assert ("b", 1, "failed") in attempts
    assert ("b", 2, "succeeded") in attempts
    assert "retry_requested" in [entry.event_type for entry in client.iter_history(failed.id)]
    with pytest.raises(ConflictError) as again:
        client.retry(failed.id)
    assert again.value.code == "not-retryable"
