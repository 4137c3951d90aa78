"""Rate limits: exact across replicas sharing one Redis, per user, per address, stricter for logging in."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import msgspec
import pytest
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import AsyncTestClient, transport

from tests.api.conftest import ADMIN, DEFAULT_WORKSPACE, Api, running_api
from tests.api.livews import connect
from wirehub.runtime.registry import NodeRegistry
from wirehub.settings import Settings

WS = f"/api/v1/workspaces/{DEFAULT_WORKSPACE}"
LIMIT = 20
EXTRA = 12


def _burst(clients: list[AsyncTestClient[Any]], requests: int, path: str, headers: dict[str, str]) -> list[int]:
    """``requests`` GETs at once, alternating between the apps, from 8 threads; their statuses.

    Each thread's client goes through the app's own portal (its event loop), as the
    async client does, so the two apps serve the burst concurrently.
    """
    synchronous = [
        httpx.Client(transport=transport.TestClientTransport(client), base_url=str(client.base_url))  # type: ignore[arg-type]  # a sync transport, typed loosely
        for client in clients
    ]

    def one(index: int) -> int:
        response = synchronous[index % len(synchronous)].get(path, headers=headers)
        if response.status_code == 429:
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["code"] == "rate-limited"
            assert 1 <= int(response.headers["retry-after"]) <= 60
        return response.status_code

    with ThreadPoolExecutor(8) as pool:  # the clients hold nothing to close: their transport calls the app
        return list(pool.map(one, range(requests)))


@contextlib.asynccontextmanager
async def _replicas(settings: Settings, registry: NodeRegistry, redis_url: str) -> AsyncIterator[list[Api]]:
    """Two API apps on one database and one Redis, sharing their keys: two replicas of one hub."""
    namespace = f"test-{uuid.uuid4().hex[:12]}"
    async with (
        running_api(settings, registry, redis_url=redis_url, namespace=namespace) as first,
        running_api(settings, registry, redis_url=redis_url, namespace=namespace) as second,
    ):
        yield [first, second]


@pytest.fixture
def distributed_settings(api_settings: Settings, postgresql_url: str) -> Settings:
    """The API's settings on a PostgreSQL database of the test's own."""
    return msgspec.structs.replace(api_settings, database_url=postgresql_url)


async def test_a_burst_at_two_replicas_lets_exactly_the_limit_through(
    distributed_settings: Settings, registry: NodeRegistry, redis_url: str
) -> None:
    settings = msgspec.structs.replace(distributed_settings, rate_limit_user=LIMIT, rate_limit_anonymous=LIMIT)
    async with _replicas(settings, registry, redis_url) as (first, second):
        user = await first.user("viewer")  # its login is anonymous: not counted against the user
        statuses = await asyncio.to_thread(
            _burst, [first.client, second.client], LIMIT + EXTRA, f"{WS}/workflows", user
        )
        assert statuses.count(200) == LIMIT
        assert statuses.count(429) == EXTRA
        # Another user has a count of its own; the address's anonymous count is apart too.
        assert (await second.client.get(f"{WS}/workflows", headers=first.admin)).status_code == 200
        anonymous = await asyncio.to_thread(_burst, [first.client, second.client], LIMIT + EXTRA, "/health/live", {})
        assert anonymous.count(200) == LIMIT  # logins count apart, in their own stricter limit
        assert anonymous.count(429) == EXTRA


async def test_logging_in_has_a_stricter_limit_per_address(api_settings: Settings, registry: NodeRegistry) -> None:
    settings = msgspec.structs.replace(api_settings, rate_limit_login=3, rate_limit_window_seconds=30)
    async with running_api(settings, registry) as api:  # its own login was the first
        wrong = {"username": ADMIN[0], "password": "not the password at all"}
        answers = [await api.client.post("/api/v1/auth/token", json=wrong) for _ in range(3)]
        assert [answer.status_code for answer in answers] == [401, 401, 429]
        limited = answers[-1]
        assert limited.json()["code"] == "rate-limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 30
        # The right password does not get past it either; other routes are not affected.
        right = await api.client.post("/api/v1/auth/token", json={"username": ADMIN[0], "password": ADMIN[1]})
        assert right.status_code == 429
        assert (await api.client.get("/health/live")).status_code == 200
        assert (await api.client.get(f"{WS}/workflows", headers=api.admin)).status_code == 200


async def test_the_embedded_hub_counts_in_memory(api_settings: Settings, registry: NodeRegistry) -> None:
    settings = msgspec.structs.replace(api_settings, rate_limit_user=5, rate_limit_anonymous=2)
    async with running_api(settings, registry) as api:
        statuses = [(await api.client.get(f"{WS}/workflows", headers=api.admin)).status_code for _ in range(7)]
        assert statuses == [200] * 5 + [429] * 2
        assert [(await api.client.get("/health/live")).status_code for _ in range(2)] == [200, 200]
        # A WebSocket handshake counts as the address's request; past the limit it is closed with 4429.
        with pytest.raises(WebSocketDisconnect) as refused:
            await connect(api, "any-ticket")
        assert refused.value.code == 4429
