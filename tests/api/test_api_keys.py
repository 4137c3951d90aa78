"""Service accounts and their API keys: shown once, stored hashed, sent as X-API-Key or a bearer token,
revocable and expiring; the guard sees the same principal and permissions as for a token."""

from __future__ import annotations

import asyncio
import datetime
import hashlib

from sqlalchemy import select

from tests.api.conftest import DEFAULT_WORKSPACE, Api
from wirehub.api.services import HubServices
from wirehub.store import ApiKey

WORKFLOWS = f"/api/v1/workspaces/{DEFAULT_WORKSPACE}/workflows"


async def service_account(api: Api, name: str, role: str = "viewer") -> str:
    created = await api.client.post("/api/v1/users", json={"username": name, "service": True}, headers=api.admin)
    assert created.status_code == 201, created.text
    assert created.json()["service"] is True
    grant = {"user_id": created.json()["id"], "role": role, "workspace_id": str(DEFAULT_WORKSPACE)}
    assert (await api.client.post("/api/v1/memberships", json=grant, headers=api.admin)).status_code == 201
    return str(created.json()["id"])


async def test_a_key_authenticates_as_its_service_account_with_its_permissions(api: Api) -> None:
    account = await service_account(api, "ci-bot")
    created = await api.client.post(f"/api/v1/users/{account}/api-keys", json={"name": "ci"}, headers=api.admin)
    assert created.status_code == 201
    key = created.json()["key"]
    prefix = created.json()["api_key"]["prefix"]
    assert key.startswith(f"whk_{prefix}_")
    for headers in ({"X-API-Key": key}, {"Authorization": f"Bearer {key}"}):
        assert (await api.client.get(WORKFLOWS, headers=headers)).status_code == 200
        denied = await api.client.post(WORKFLOWS, json={"name": "x", "steps": []}, headers=headers)
        assert denied.status_code == 403  # a viewer: the guard sees the account's permissions
    listed = (await api.client.get(f"/api/v1/users/{account}/api-keys", headers=api.admin)).json()
    assert [entry["prefix"] for entry in listed] == [prefix]
    assert key not in str(listed)

    async def stored(services: HubServices) -> ApiKey | None:
        async with services.sessions() as session:
            found: ApiKey | None = await session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
            return found

    row = await api.in_app(stored)
    assert row is not None
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()


async def test_a_wrong_revoked_or_expired_key_or_a_disabled_account_is_refused(api: Api) -> None:
    account = await service_account(api, "etl")
    key = (await api.client.post(f"/api/v1/users/{account}/api-keys", json={"name": "a"}, headers=api.admin)).json()
    headers = {"X-API-Key": key["key"]}
    assert (await api.client.get(WORKFLOWS, headers=headers)).status_code == 200
    tampered = key["key"][:-4] + ("AAAA" if not key["key"].endswith("AAAA") else "BBBB")
    unknown_prefix = "whk_000000000000_" + key["key"].split("_", 2)[2]
    for bad in (tampered, unknown_prefix, "whk_", "whk_" + "x" * 5000, "nonsense"):
        assert (await api.client.get(WORKFLOWS, headers={"X-API-Key": bad})).status_code == 401

    await api.client.patch(f"/api/v1/users/{account}", json={"disabled": True}, headers=api.admin)
    assert (await api.client.get(WORKFLOWS, headers=headers)).status_code == 401
    await api.client.patch(f"/api/v1/users/{account}", json={"disabled": False}, headers=api.admin)
    assert (await api.client.get(WORKFLOWS, headers=headers)).status_code == 200

    revoked = await api.client.delete(f"/api/v1/users/{account}/api-keys/{key['api_key']['id']}", headers=api.admin)
    assert revoked.status_code == 204
    assert (await api.client.get(WORKFLOWS, headers=headers)).status_code == 401
    listed = (await api.client.get(f"/api/v1/users/{account}/api-keys", headers=api.admin)).json()
    assert listed[0]["revoked_at"] is not None

    soon = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=1.5)
    expiring = await api.client.post(
        f"/api/v1/users/{account}/api-keys", json={"name": "short", "expires_at": soon.isoformat()}, headers=api.admin
    )
    assert expiring.status_code == 201
    short = {"X-API-Key": expiring.json()["key"]}
    assert (await api.client.get(WORKFLOWS, headers=short)).status_code == 200
    await asyncio.sleep((soon - datetime.datetime.now(datetime.UTC)).total_seconds() + 0.1)
    assert (await api.client.get(WORKFLOWS, headers=short)).status_code == 401


async def test_keys_are_for_service_accounts_only_and_expire_in_the_future(api: Api) -> None:
    person = await api.client.post(
        "/api/v1/users", json={"username": "pat", "password": "a long enough password"}, headers=api.admin
    )
    refused = await api.client.post(
        f"/api/v1/users/{person.json()['id']}/api-keys", json={"name": "x"}, headers=api.admin
    )
    assert refused.status_code == 409
    account = await service_account(api, "bot2")
    past = await api.client.post(
        f"/api/v1/users/{account}/api-keys",
        json={"name": "x", "expires_at": "2020-01-01T00:00:00Z"},
        headers=api.admin,
    )
    assert past.status_code == 422
    assert past.json()["errors"][0]["pointer"] == "/expires_at"
    with_password = await api.client.post(
        "/api/v1/users",
        json={"username": "bot3", "service": True, "password": "a long enough password"},
        headers=api.admin,
    )
    assert with_password.status_code == 422
    login = await api.client.post("/api/v1/auth/token", json={"username": "bot2", "password": "anything at all"})
    assert login.status_code == 401
