"""A replica keeps an access token's principal for under a second: a disabled user is refused within one."""

from __future__ import annotations

import asyncio
import time
import uuid

from sqlalchemy import update

from tests.api.conftest import DEFAULT_WORKSPACE, Api
from wirehub.api.security import Principal
from wirehub.api.security.principal_cache import PRINCIPAL_CACHE_SECONDS, PrincipalCache
from wirehub.api.services import HubServices
from wirehub.store import User

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
