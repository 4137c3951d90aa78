"""``Client.failures`` and ``AsyncClient.failures``: recent failures, filtered and paged, from the real app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.client.conftest import BROKEN_ONCE, FAILING, Hub, chain
from wirehub_sdk.client import AsyncClient, Client, Failure, InvalidRequestError

TOO_SLOW = {"name": "too-slow", "timeout_seconds": 0.3, "steps": chain("x", 1, seconds=30)["steps"]}
"""Times out as a whole, with no step to blame."""


def test_failures_are_flat_the_latest_first_and_filtered_by_workflow_node_type_kind_and_time(client: Client) -> None:
    client.push(FAILING)
    client.push(BROKEN_ONCE)
    client.push(TOO_SLOW)
    client.push(chain("fine", 1, seconds=0.01))
    failing = client.wait(client.start("failing").id, timeout=20)
    broken = client.wait(client.start("broken-once").id, timeout=20)
    slow = client.wait(client.start("too-slow").id, timeout=20)
    client.wait(client.start("fine").id, timeout=20)

    page = client.failures()

    assert [f.execution_id for f in page.items] == [slow.id, broken.id, failing.id]
    assert page.next is None
    first = page.items[2]
    assert isinstance(first, Failure)
    assert (first.workflow_id, first.workflow_name, first.status) == (failing.workflow_id, "failing", "failed")
    assert (first.step_id, first.node_type, first.attempt) == ("boom", "core.fail", 1)
    assert first.error_kind == "test.broken"
    assert first.error_message is not None
    assert first.error_message.endswith("it broke")
    # The times are on the list rows, not on the execution itself.
    ended = {row.id: row.finished_at for row in client.iter_executions() if row.finished_at}
    assert first.finished_at == ended[failing.id]
    timed_out = page.items[0]
    assert (timed_out.status, timed_out.step_id, timed_out.node_type, timed_out.error_kind) == (
        "timed_out",
        None,
        None,
        "timeout",
    )
    assert [f.execution_id for f in client.failures(workflow="failing").items] == [failing.id]
    assert [f.execution_id for f in client.failures(node_type="test.flaky").items] == [broken.id]
    assert [f.execution_id for f in client.failures(error_kind="test.broken").items] == [broken.id, failing.id]
    after_first = ended[failing.id] + timedelta(microseconds=1)
    assert [f.execution_id for f in client.failures(since=after_first).items] == [slow.id, broken.id]
    assert client.failures(since=datetime.now(UTC) + timedelta(seconds=5)).items == []
    with pytest.raises(ValueError, match="time zone"):
        client.failures(since=datetime.now())
    with pytest.raises(InvalidRequestError) as refused:
        client.failures(error_kind="not a kind")
    assert refused.value.errors[0].parameter == "error_kind"


def test_failures_page_with_a_cursor_and_the_iterator_walks_every_page(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflow = client.push(FAILING)
    failed = [client.wait(client.start(workflow.id).id, timeout=20).id for _ in range(3)]

    first = client.failures(limit=2)
    second = client.failures(limit=2, cursor=first.next)

    assert first.next is not None
    assert [f.execution_id for f in [*first.items, *second.items]] == failed[::-1]
    assert second.next is None
    monkeypatch.setattr("wirehub_sdk.client._sync.PAGE_SIZE", 1)
    assert [f.execution_id for f in client.iter_failures(workflow="failing")] == failed[::-1]
    assert list(client.iter_failures(node_type="core.http")) == []


async def test_the_async_client_lists_and_pages_failures_the_same_way(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with AsyncClient(hub.url, timeout=20.0) as client:
        await client.login(*hub.admin)
        workflow = await client.push(FAILING)
        failed = [(await client.wait((await client.start(workflow.id)).id, timeout=20)).id for _ in range(2)]
        await client.wait((await client.start((await client.push(BROKEN_ONCE)).id)).id, timeout=20)

        page = await client.failures(workflow="failing", error_kind="test.broken", limit=1)
        assert [f.execution_id for f in page.items] == [failed[1]]
        assert page.items[0].step_id == "boom"
        rest = await client.failures(workflow="failing", error_kind="test.broken", cursor=page.next)
        assert [f.execution_id for f in rest.items] == [failed[0]]
        monkeypatch.setattr("wirehub_sdk.client._async.PAGE_SIZE", 1)
        walked = [f.execution_id async for f in client.iter_failures(since=datetime.now(UTC) - timedelta(hours=1))]
        assert walked[1:] == failed[::-1]
        assert [f.node_type async for f in client.iter_failures(node_type="test.flaky")] == ["test.flaky"]
