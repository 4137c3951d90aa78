"""Two API replicas on one PostgreSQL and one Redis: a logout or a disabled user on one is refused by the
other within a second (a replica trusts a token's principal for under one), a revoked key at once."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec
from litestar.testing import AsyncTestClient

from tests.api.conftest import ADMIN, Api
from tests.behaviour.conftest import new_stream
from wirehub.api import create_app
from wirehub.runtime.registry import NodeRegistry
from wirehub.settings import Settings

WORKSPACES = "/api/v1/workspaces"
PASSWORD = "a long enough password"


async def seconds_until_refused(client: AsyncTestClient[Any], headers: dict[str, str]) -> float:
    """Sends requests every 20 ms until one is refused with 401; the seconds that took (3 at most)."""
    started = time.monotonic()
    while (status := (await client.get(WORKSPACES, headers=headers)).status_code) != 401:
        assert status == 200
        if time.monotonic() - started > 3:
            break
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def viewer(api: Api, name: str) -> dict[str, str]:
    """A new global viewer, made over HTTP, logged in."""
    created = await api.client.post("/api/v1/users", json={"username": name, "password": PASSWORD}, headers=api.admin)
    grant = {"user_id": created.json()["id"], "role": "viewer", "workspace_id": None}
    assert (await api.client.post("/api/v1/memberships", json=grant, headers=api.admin)).status_code == 201
    return await api.login(name, PASSWORD)


async def test_every_replica_refuses_what_another_revoked_or_disabled(
    api_settings: Settings, registry: NodeRegistry, postgresql_url: str, redis_url: str
) -> None:
    settings = msgspec.structs.replace(api_settings, database_url=postgresql_url, redis_url=redis_url)
    # Two replicas and no worker: nothing here runs a step.
    one = create_app(settings, registry=registry, stream=new_stream())
    other = create_app(settings, registry=registry, stream=new_stream())
    async with AsyncTestClient(app=one) as first, AsyncTestClient(app=other) as second:
        api = Api(first, "distributed")
        api.admin = await api.login(*ADMIN)
        leaving = await viewer(api, "leo")
        disabled = await viewer(api, "dora")
        assert (await second.get(WORKSPACES, headers=leaving)).status_code == 200
        assert (await second.get(WORKSPACES, headers=disabled)).status_code == 200

        assert (await first.post("/api/v1/auth/logout", headers=leaving)).status_code == 204
        assert (await first.get(WORKSPACES, headers=leaving)).status_code == 401  # where it was revoked: at once
        assert await seconds_until_refused(second, leaving) < 1.0

        assert (await first.get(WORKSPACES, headers=disabled)).status_code == 200  # its principal kept on both
        users = (await second.get("/api/v1/users", headers=api.admin)).json()
        dora = next(user for user in users if user["username"] == "dora")
        changed = await second.patch(f"/api/v1/users/{dora['id']}", json={"disabled": True}, headers=api.admin)
        assert changed.status_code == 200
        assert (await second.get(WORKSPACES, headers=disabled)).status_code == 401
        assert await seconds_until_refused(first, disabled) < 1.0

        account = await first.post("/api/v1/users", json={"username": "robot", "service": True}, headers=api.admin)
        account_id = account.json()["id"]
        grant = {"user_id": account_id, "role": "viewer", "workspace_id": None}
        await first.post("/api/v1/memberships", json=grant, headers=api.admin)
        created = await first.post(f"/api/v1/users/{account_id}/api-keys", json={"name": "ci"}, headers=api.admin)
        key = {"X-API-Key": created.json()["key"]}
        assert (await second.get(WORKSPACES, headers=key)).status_code == 200
        key_id = created.json()["api_key"]["id"]
        revoked = await first.delete(f"/api/v1/users/{account_id}/api-keys/{key_id}", headers=api.admin)
        assert revoked.status_code == 204
        assert (await first.get(WORKSPACES, headers=key)).status_code == 401  # where it was revoked: at once
        assert await seconds_until_refused(second, key) < 1.0  # elsewhere its principal is kept 0.9 s at most
