"""``wirehub_sdk.client.AsyncClient`` against the real app served over TCP (embedded hub)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid

import pytest

from tests.client.conftest import SLOW_ONCE, TYPED, Hub, chain
from wirehub_sdk.client import (
    AsyncClient,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    Tokens,
    WaitTimeoutError,
)


async def test_push_start_and_wait_live(hub: Hub) -> None:
    async with AsyncClient(hub.url, timeout=20.0) as client:
        await client.login(*hub.admin)
        workflow = await client.push(chain("async-chain", 2))
        assert [w.name for w in (await client.workflows()).items] == ["async-chain"]
        execution = await client.start("async-chain")
        events: list[int] = []
        done = await client.wait(execution.id, timeout=20, on_event=lambda event: events.append(event.sequence))
    assert done.status == "succeeded"
    assert done.workflow_id == workflow.id
    assert events == list(range(1, done.sequence + 1))


async def test_polling_and_the_output(hub: Hub) -> None:
    async with AsyncClient(hub.url, api_key=hub.api_key("editor")) as client:
        await client.push(TYPED)
        execution = await client.start("typed", {"amount": 3}, idempotency_key=str(uuid.uuid4()))
        done = await client.wait(execution.id, timeout=20, live=False, poll_interval=0.05)
    assert done.output == {"amount": 3}


async def test_errors_carry_the_problem_details(hub: Hub) -> None:
    async with AsyncClient(hub.url) as client:
        await client.login(*hub.admin)
        with pytest.raises(InvalidRequestError) as refused:
            await client.push({"name": "x", "steps": []})
        assert refused.value.status == 422
        assert refused.value.correlation_id
        with pytest.raises(NotFoundError):
            await client.execution(uuid.uuid4())


async def test_concurrent_requests_with_an_expired_token_refresh_it_once(hub: Hub) -> None:
    async with AsyncClient(hub.url) as first:
        tokens = await first.login(*hub.admin)
    stored: list[Tokens | None] = []
    expired = dataclasses.replace(tokens, expires_at=time.time() - 1)
    async with AsyncClient(hub.url, tokens=expired, on_tokens=stored.append) as client:
        results = await asyncio.gather(*(client.workspaces() for _ in range(5)))
    assert all(len(found) == 1 for found in results)
    assert len(stored) == 1  # one refresh: a second use of the refresh token would have ended the login


async def test_a_wait_that_runs_out_raises(hub: Hub) -> None:
    async with AsyncClient(hub.url) as client:
        await client.login(*hub.admin)
        execution = await client.start((await client.push(chain("slow", 1, seconds=30))).id)
        with pytest.raises(WaitTimeoutError):
            await client.wait(execution.id, timeout=0.5)


async def test_workflow_calls_update_patch_validate_version_archive_and_restore(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with AsyncClient(hub.url, api_key=hub.api_key("editor")) as client:
        workflow = await client.push(chain("async-evolving", 1))
        assert (await client.update_workflow("async-evolving", chain("async-evolving", 2))).latest_version == 2
        patched = await client.patch_workflow(workflow.id, {"description": "patched"})
        assert patched.latest_version == 3
        third = await client.workflow_version(workflow.id, 3)
        assert third.definition is not None
        assert third.definition["description"] == "patched"
        versions = await client.workflow_versions("async-evolving", limit=2)
        assert [v.version for v in versions.items] == [3, 2]
        assert (await client.validate_workflow(TYPED)).definition["name"] == "typed"

        assert (await client.archive_workflow(workflow.id)).archived
        assert (await client.workflows()).items == []
        assert not (await client.restore_workflow("async-evolving")).archived
        await client.push(chain("async-other", 1))
        monkeypatch.setattr("wirehub_sdk.client._async.PAGE_SIZE", 1)
        assert [w.name async for w in client.iter_workflows()] == ["async-evolving", "async-other"]
        assert (await client.workflow("async-other")).name == "async-other"


async def test_execution_calls_list_iterate_history_cancel_and_retry(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    async with AsyncClient(hub.url, timeout=20.0) as client:
        await client.login(*hub.admin)
        slow = await client.start((await client.push(SLOW_ONCE)).id)
        async with asyncio.timeout(20):
            while True:
                if (await client.execution(slow.id)).status == "running":
                    break
                await asyncio.sleep(0.05)
        assert (await client.cancel(slow.id)).status == "cancelled"
        with pytest.raises(ConflictError):
            await client.cancel(slow.id)
        assert (await client.retry(slow.id)).status == "running"
        done = await client.wait(slow.id, timeout=20)
        assert done.succeeded

        assert [e.id for e in (await client.executions(workflow="slow-once", status="succeeded")).items] == [slow.id]
        other = await client.wait((await client.start((await client.push(chain("async-two", 1))).id)).id, timeout=20)
        monkeypatch.setattr("wirehub_sdk.client._async.PAGE_SIZE", 1)
        assert [e.id async for e in client.iter_executions()] == [other.id, slow.id]
        page = await client.history(slow.id, limit=1)
        assert (page.items[0].sequence, page.next_after) == (1, 1)
        entries = [entry async for entry in client.iter_history(slow.id)]
        assert [entry.sequence for entry in entries] == list(range(1, done.sequence + 1))
        assert "retry_requested" in [entry.event_type for entry in entries]
        assert "core.delay" in [node.name for node in await client.node_types()]
        assert (await client.node_type("core.delay")).name == "core.delay"
