"""The audit log: every authentication event, denial and admin mutation recorded without secrets; filters and
cursor pages; append-only on PostgreSQL."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from tests.api.conftest import ADMIN, DEFAULT_WORKSPACE, Api
from wirehub.store import database_engine

PASSWORD = "a long enough password"


async def entries(api: Api, query: str = "") -> list[dict[str, Any]]:
    response = await api.client.get(f"/api/v1/audit?limit=500{query}", headers=api.admin)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_authentication_events_denials_and_mutations_are_recorded_without_secrets(api: Api) -> None:
    await api.client.post("/api/v1/auth/token", json={"username": ADMIN[0], "password": "a wrong password!"})
    pair = (await api.client.post("/api/v1/auth/token", json={"username": ADMIN[0], "password": ADMIN[1]})).json()
    refreshed = (await api.client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})).json()
    headers = {"Authorization": f"Bearer {refreshed['access_token']}", "X-Request-ID": "trace-me-42"}
    created = await api.client.post("/api/v1/users", json={"username": "zoe", "password": PASSWORD}, headers=headers)
    await api.client.post("/api/v1/auth/logout", json={"refresh_token": refreshed["refresh_token"]}, headers=headers)
    await api.client.get("/api/v1/users")  # 401
    viewer = await api.user("viewer")
    await api.client.get("/api/v1/users", headers=viewer)  # 403
    await api.client.get(f"/api/v1/workspaces/{uuid.uuid4()}/workflows", headers=viewer)  # 404, hidden

    log = await entries(api)
    seen = [(entry["action"], entry["outcome"]) for entry in reversed(log)]
    for expected in [
        ("auth.login", "failure"),
        ("auth.login", "success"),
        ("auth.refresh", "success"),
        ("user.create", "success"),
        ("auth.logout", "success"),
        ("access.denied", "denied"),
    ]:
        assert expected in seen, expected
    denials = [entry for entry in log if entry["action"] == "access.denied"]
    assert sorted(entry["details"]["status"] for entry in denials) == [401, 403, 404]
    creation = next(entry for entry in log if entry["target_id"] == created.json()["id"])
    assert (creation["action"], creation["target_type"], creation["actor_name"]) == ("user.create", "user", ADMIN[0])
    assert creation["correlation_id"] == "trace-me-42"
    assert creation["client"]
    failure = next(entry for entry in log if entry["action"] == "auth.login" and entry["outcome"] == "failure")
    assert failure["actor_name"] == ADMIN[0]
    text = str(log)
    for secret in (ADMIN[1], PASSWORD, "a wrong password!", pair["refresh_token"], refreshed["access_token"]):
        assert secret not in text


async def test_pages_follow_the_cursor_newest_first_and_filters_narrow_them(api: Api) -> None:
    started = datetime.datetime.now(datetime.UTC)
    for index in range(5):
        await api.client.post("/api/v1/roles", json={"name": f"role-{index}", "permissions": []}, headers=api.admin)
    pages: list[list[dict[str, Any]]] = []
    cursor = ""
    while True:
        response = await api.client.get(f"/api/v1/audit?action=role.create&limit=2{cursor}", headers=api.admin)
        body = response.json()
        pages.append(body["items"])
        if body["next_cursor"] is None:
            break
        cursor = f"&cursor={body['next_cursor']}"
    assert [len(page) for page in pages] == [2, 2, 1]
    names = [entry["details"]["name"] for page in pages for entry in page]
    assert names == [f"role-{index}" for index in reversed(range(5))]

    assert {entry["action"] for entry in await entries(api, "&action=role.*")} == {"role.create"}
    assert await entries(api, "&outcome=denied") == []
    by_actor = await entries(api, f"&actor={ADMIN[0]}&action=role.create")
    assert len(by_actor) == 5
    assert len(await entries(api, f"&actor={by_actor[0]['actor_id']}&action=role.create")) == 5
    since = started.isoformat().replace("+00:00", "Z")
    assert len(await entries(api, f"&action=role.create&since={since}")) == 5
    assert await entries(api, f"&action=role.create&until={since}") == []
    for bad in (
        "&cursor=nonsense",
        "&cursor=WyJ4IiwieSJd",
        "&since=yesterday",
        "&since=2026-01-01T00:00:00",
        "&limit=0",
    ):
        response = await api.client.get(f"/api/v1/audit?{bad}", headers=api.admin)
        assert response.status_code == 400, bad
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_the_audit_log_needs_audit_read(api: Api) -> None:
    auditor = await api.user("auditor", workspace_id=None)
    assert (await api.client.get("/api/v1/audit", headers=auditor)).status_code == 200
    workspace_auditor = await api.user("auditor", workspace_id=DEFAULT_WORKSPACE)
    assert (await api.client.get("/api/v1/audit", headers=workspace_auditor)).status_code == 403


async def test_the_audit_log_is_append_only_on_postgresql(postgresql_url: str) -> None:
    engine = database_engine(postgresql_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                sa.text("INSERT INTO audit_log (id, at, action, outcome) VALUES (:id, now(), 'test.entry', 'success')"),
                {"id": uuid.uuid4()},
            )
        for statement in (
            "UPDATE audit_log SET outcome = 'failure'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
        ):
            with pytest.raises(DBAPIError, match="append-only"):
                async with engine.begin() as connection:
                    await connection.execute(sa.text(statement))
        async with engine.connect() as connection:
            rows = (await connection.execute(sa.text("SELECT action, outcome FROM audit_log"))).all()
        assert [tuple(row) for row in rows] == [("test.entry", "success")]
    finally:
        await engine.dispose()
