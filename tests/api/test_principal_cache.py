"""A replica keeps an access token's or an API key's principal for under a second: a disabled user or a
revoked key is refused within one."""

from __future__ import annotations

import asyncio
import time
import uuid

from sqlalchemy import update

from tests.api.conftest import DEFAULT_WORKSPACE, Api
from tests.api.test_api_keys import service_account
from wirehub.api.security import Principal
from wirehub.api.security.principal_cache import PRINCIPAL_CACHE_SECONDS, PrincipalCache
from wirehub.api.services import HubServices
from wirehub.store import ApiKey, User

WORKSPACES = "/api/v1/workspaces"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def principal(name: str = "ada") -> Principal:
    return Principal(user_id=uuid.uuid4(), username=name)


def test_an_entry_is_served_until_its_time_is_up_and_never_after() -> None:
    clock = Clock()
    cache = PrincipalCache(seconds=0.9, clock=clock)
    ada = principal()
    cache.put("jti-1", ada)
    clock.now += 0.89
    assert cache.get("jti-1") is ada
    clock.now += 0.01
    assert cache.get("jti-1") is None
    assert len(cache) == 0


def test_the_cache_is_bounded_and_forgets_a_token_a_user_or_everything() -> None:
    clock = Clock()
    cache = PrincipalCache(seconds=0.9, max_entries=3, clock=clock)
    ada, bob = principal("ada"), principal("bob")
    for jti in ("a1", "a2", "b1", "b2"):
        cache.put(jti, ada if jti.startswith("a") else bob)
    assert len(cache) == 3
    assert cache.get("a1") is None  # the oldest went first
    cache.forget("a2")
    assert cache.get("a2") is None
    cache.forget_user(bob.user_id)
    assert (cache.get("b1"), cache.get("b2")) == (None, None)
    cache.put("a3", ada)
    cache.clear()
    assert len(cache) == 0


def test_an_entry_that_must_end_sooner_ends_sooner_and_a_key_is_forgotten_by_its_id() -> None:
    clock = Clock()
    cache = PrincipalCache(seconds=0.9, clock=clock)
    key_id = uuid.uuid4()
    bot = Principal(user_id=uuid.uuid4(), username="bot", is_service=True, api_key_id=key_id)
    cache.put("api-key:expiring", bot, at_most=0.3)
    cache.put("api-key:expired", bot, at_most=-1.0)
    cache.put("api-key:later", bot, at_most=5.0)
    assert cache.get("api-key:expired") is None
    clock.now += 0.3
    assert cache.get("api-key:expiring") is None
    assert cache.get("api-key:later") is bot
    cache.forget_api_key(key_id)
    assert cache.get("api-key:later") is None


async def test_requests_that_miss_together_load_the_principal_once_and_all_get_it() -> None:
    cache = PrincipalCache()
    expected = principal("ada")
    loads: list[int] = []
    gate = asyncio.Event()

    async def loader() -> tuple[Principal | None, float | None]:
        loads.append(1)
        await gate.wait()
        return expected, None

    waiting = [asyncio.create_task(cache.load("jti", loader)) for _ in range(20)]
    await asyncio.sleep(0)
    waiting[0].cancel()  # one caller leaves: the load the others wait for goes on
    gate.set()
    found = await asyncio.gather(*waiting[1:])
    assert found == [expected] * 19
    assert loads == [1]
    assert cache.get("jti") == expected
    assert await cache.load("jti", loader) == expected  # kept: no second load
    assert loads == [1]


async def test_a_principal_loaded_while_it_was_forgotten_is_not_kept_and_a_refusal_never_is() -> None:
    cache = PrincipalCache()
    expected = principal("bob")
    gate = asyncio.Event()

    async def loader() -> tuple[Principal | None, float | None]:
        await gate.wait()
        return expected, None

    loading = asyncio.create_task(cache.load("jti", loader))
    await asyncio.sleep(0)
    cache.forget_user(expected.user_id)  # revoked here while the load read what was there before
    gate.set()
    assert await loading == expected  # the request already under way is answered as it was read
    assert cache.get("jti") is None  # but the next one loads again

    async def refused() -> tuple[Principal | None, float | None]:
        return None, None

    assert await cache.load("other", refused) is None
    assert len(cache) == 0


def test_the_cache_trusts_a_principal_for_under_a_second() -> None:
    assert 0 < PRINCIPAL_CACHE_SECONDS < 1


async def test_a_user_disabled_behind_the_replicas_back_is_refused_within_a_second(api: Api) -> None:
    viewer = await api.user("viewer", username="cached-vic")
    assert (await api.client.get(WORKSPACES, headers=viewer)).status_code == 200

    async def disable(services: HubServices) -> None:
        # As another replica would: straight in the database, so this one forgets nothing.
        async with services.sessions.begin() as session:
            await session.execute(update(User).where(User.username == "cached-vic").values(disabled=True))

    await api.in_app(disable)
    disabled_at = time.monotonic()
    served_after = 0
    while (status := (await api.client.get(WORKSPACES, headers=viewer)).status_code) == 200:
        served_after += 1
        assert time.monotonic() - disabled_at < 1.0, "a disabled user was still served after a second"
        await asyncio.sleep(0.02)
    assert status == 401
    assert time.monotonic() - disabled_at < 1.0
    assert served_after > 0  # the principal was kept: the first requests did not read the database


async def test_a_role_revoked_on_this_replica_takes_effect_at_once(api: Api) -> None:
    editor = await api.user("editor", username="cached-eve")
    workflows = f"{WORKSPACES}/{DEFAULT_WORKSPACE}/workflows"
    assert (await api.client.get(workflows, headers=editor)).status_code == 200
    users = (await api.client.get("/api/v1/users", headers=api.admin)).json()
    eve = next(user for user in users if user["username"] == "cached-eve")
    memberships = await api.client.get("/api/v1/memberships", params={"user_id": eve["id"]}, headers=api.admin)
    (grant,) = memberships.json()
    revoked = await api.client.delete(f"/api/v1/memberships/{grant['id']}", headers=api.admin)
    assert revoked.status_code == 204
    # A member of nothing now: the workspace is hidden from it on the very next request, not a second later.
    assert (await api.client.get(workflows, headers=editor)).status_code == 404


async def _served_until_refused(api: Api, headers: dict[str, str], since: float) -> int:
    """Requests served after ``since`` until the first refusal (a 401), which must come within a second."""
    served = 0
    while (status := (await api.client.get(WORKSPACES, headers=headers)).status_code) == 200:
        served += 1
        assert time.monotonic() - since < 1.0, "a refused credential was still served after a second"
        await asyncio.sleep(0.02)
    assert status == 401
    assert time.monotonic() - since < 1.0
    return served


async def test_an_api_key_revoked_behind_the_replicas_back_is_refused_within_a_second(api: Api) -> None:
    account = await service_account(api, "cached-bot")
    created = await api.client.post(f"/api/v1/users/{account}/api-keys", json={"name": "k"}, headers=api.admin)
    key_id = created.json()["api_key"]["id"]
    headers = {"X-API-Key": created.json()["key"]}
    assert (await api.client.get(WORKSPACES, headers=headers)).status_code == 200

    async def revoke(services: HubServices) -> None:
        # As another replica would: straight in the database, so this one forgets nothing.
        async with services.sessions.begin() as session:
            await session.execute(
                update(ApiKey).where(ApiKey.id == uuid.UUID(key_id)).values(revoked_at=services.store.now())
            )

    await api.in_app(revoke)
    served_after = await _served_until_refused(api, headers, time.monotonic())
    assert served_after > 0  # the principal was kept: the first requests did not read the database


async def test_a_service_account_disabled_behind_the_replicas_back_is_refused_within_a_second(api: Api) -> None:
    account = await service_account(api, "cached-etl")
    created = await api.client.post(f"/api/v1/users/{account}/api-keys", json={"name": "k"}, headers=api.admin)
    headers = {"Authorization": f"Bearer {created.json()['key']}"}
    assert (await api.client.get(WORKSPACES, headers=headers)).status_code == 200

    async def disable(services: HubServices) -> None:
        async with services.sessions.begin() as session:
            await session.execute(update(User).where(User.username == "cached-etl").values(disabled=True))

    await api.in_app(disable)
    served_after = await _served_until_refused(api, headers, time.monotonic())
    assert served_after > 0


async def test_an_api_key_revoked_on_this_replica_is_refused_at_once(api: Api) -> None:
    account = await service_account(api, "cached-ops")
    created = await api.client.post(f"/api/v1/users/{account}/api-keys", json={"name": "k"}, headers=api.admin)
    headers = {"X-API-Key": created.json()["key"]}
    assert (await api.client.get(WORKSPACES, headers=headers)).status_code == 200
    revoked = await api.client.delete(
        f"/api/v1/users/{account}/api-keys/{created.json()['api_key']['id']}", headers=api.admin
    )
    assert revoked.status_code == 204
    assert (await api.client.get(WORKSPACES, headers=headers)).status_code == 401
