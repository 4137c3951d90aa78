"""``wirehub_sdk.client.AsyncClient`` against the real app served over TCP (embedded hub)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid

import pytest

from tests.client.conftest import TYPED, Hub, chain
from wirehub_sdk.client import AsyncClient, InvalidRequestError, NotFoundError, Tokens, WaitTimeoutError


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
