"""The credentials API: write-only secrets, checked fields and hosts, permissions, and credentials at run time."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.conftest import DEFAULT_WORKSPACE, SETTINGS, Api
from tests.support.local_http import LocalServer
from wirehub.settings import Network, Settings
from wirehub.store import Credential, CredentialRows, Workspace, database_engine, session_factory

WS = f"/api/v1/workspaces/{DEFAULT_WORKSPACE}"
TOKEN = "api-token-c0ffee-4b1d"
NEW_TOKEN = "api-token-rotated-77aa"


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    """The API's test settings, with the egress rules letting steps reach the local server."""
    return msgspec.structs.replace(
        SETTINGS,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
        egress_allow_networks=(Network("127.0.0.0/8"),),
    )


def bearer(name: str = "acme", token: str = TOKEN, hosts: list[str] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "type": "core.bearer",
        "fields": {"token": token},
        "allowed_hosts": hosts or ["api.example.com"],
    }


async def _create(api: Api, body: dict[str, Any], base: str = WS) -> dict[str, Any]:
    response = await api.client.post(f"{base}/credentials", json=body, headers=api.admin)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


@contextlib.asynccontextmanager
async def _database(api: Api) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the app's database from the test's own loop (the app's engine belongs to the app's loop)."""
    engine = database_engine(api.client.app.state.services.settings.database_url)
    try:
        yield session_factory(engine, writes=True)
    finally:
        await engine.dispose()


async def _stored_fields(api: Api, credential_id: str) -> dict[str, Any]:
    async with _database(api) as sessions, sessions() as session:
        row = await session.get(Credential, uuid.UUID(credential_id))
        assert row is not None
        return CredentialRows(session, api.client.app.state.services.keyring).fields_of(row)


async def _workspace(api: Api, name: str) -> str:
    async with _database(api) as sessions, sessions.begin() as session:
        workspace = Workspace(name=name)
        session.add(workspace)
    return f"/api/v1/workspaces/{workspace.id}"


async def test_secret_fields_are_write_only_and_kept_or_replaced_on_update(api: Api) -> None:
    responses: list[httpx.Response] = []
    created = await api.client.post(
        f"{WS}/credentials",
        json={
            "name": "acme",
            "type": "core.header",
            "fields": {"header": "X-Key", "value": TOKEN},
            "allowed_hosts": ["*.Example.com"],
        },
        headers=api.admin,
    )
    responses.append(created)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["fields"] == {"header": "X-Key"}
    assert body["secret_fields_set"] == ["value"]
    assert body["allowed_hosts"] == ["*.example.com"]
    assert body["key_id"] == "test"
    url = f"{WS}/credentials/{body['id']}"
    responses.append(await api.client.get(url, headers=api.admin))
    responses.append(await api.client.get(f"{WS}/credentials", headers=api.admin))
    assert [item["name"] for item in responses[-1].json()] == ["acme"]

    renamed = await api.client.patch(
        url, json={"name": "acme-prod", "fields": {"header": "X-Other"}}, headers=api.admin
    )
    responses.append(renamed)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "acme-prod"
    assert renamed.json()["fields"] == {"header": "X-Other"}
    assert await _stored_fields(api, body["id"]) == {"header": "X-Other", "value": TOKEN}, "the secret was kept"

    replaced = await api.client.patch(
        url, json={"fields": {"header": "X-Other", "value": NEW_TOKEN}}, headers=api.admin
    )
    responses.append(replaced)
    assert replaced.status_code == 200, replaced.text
    assert await _stored_fields(api, body["id"]) == {"header": "X-Other", "value": NEW_TOKEN}
    for response in responses:
        assert TOKEN not in response.text
        assert NEW_TOKEN not in response.text

    taken = await _create(api, bearer("taken"))
    clash = await api.client.patch(f"{WS}/credentials/{taken['id']}", json={"name": "acme-prod"}, headers=api.admin)
    assert clash.status_code == 409
    assert clash.json()["code"] == "credential-exists"
    assert (await api.client.post(f"{WS}/credentials", json=bearer("taken"), headers=api.admin)).status_code == 409

    assert (await api.client.delete(url, headers=api.admin)).status_code == 204
    assert (await api.client.get(url, headers=api.admin)).status_code == 404
    assert (await api.client.delete(url, headers=api.admin)).status_code == 404


@pytest.mark.parametrize(
    ("body", "pointer", "code"),
    [
        (
            {"name": "x", "type": "acme.nope", "fields": {}, "allowed_hosts": ["a.example"]},
            "/type",
            "unknown-credential-type",
        ),
        (
            {"name": "x", "type": "core.bearer", "fields": {}, "allowed_hosts": ["a.example"]},
            "/fields/token",
            "missing-field",
        ),
        (
            {
                "name": "x",
                "type": "core.bearer",
                "fields": {"token": "t0ken", "nope": 1},
                "allowed_hosts": ["a.example"],
            },
            "/fields/nope",
            "unknown-field",
        ),
        (
            {
                "name": "x",
                "type": "core.basic",
                "fields": {"username": 7, "password": "pw"},
                "allowed_hosts": ["a.example"],
            },
            "/fields/username",
            "invalid-field",
        ),
        (
            {"name": "x", "type": "core.bearer", "fields": {"token": "t0ken"}, "allowed_hosts": ["a.example", "*"]},
            "/allowed_hosts/1",
            "invalid-host",
        ),
    ],
)
async def test_a_credential_that_does_not_fit_its_type_is_a_422_with_a_pointer(
    api: Api, body: dict[str, Any], pointer: str, code: str
) -> None:
    response = await api.client.post(f"{WS}/credentials", json=body, headers=api.admin)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "invalid-credential"
    assert [(item["pointer"], item["code"]) for item in problem["errors"]] == [(pointer, code)]


async def test_an_invalid_secret_value_is_never_quoted_back(api: Api) -> None:
    secret = "line\nbreak-secret-value"
    response = await api.client.post(f"{WS}/credentials", json=bearer(token=secret), headers=api.admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/fields/token"
    assert "break-secret-value" not in response.text
    missing_hosts = {key: value for key, value in bearer().items() if key != "allowed_hosts"}
    assert (await api.client.post(f"{WS}/credentials", json=missing_hosts, headers=api.admin)).status_code == 400


ROUTES = [
    ("GET", "", "credential:use"),
    ("GET", "/{id}", "credential:use"),
    ("POST", "", "credential:manage"),
    ("PATCH", "/{id}", "credential:manage"),
    ("DELETE", "/{id}", "credential:manage"),
]


async def test_each_route_needs_its_permission_in_its_workspace(api: Api) -> None:
    existing = await _create(api, bearer("keep"))
    holders = {
        "viewer": await api.user("viewer"),
        "operator": await api.user("operator"),
        "editor": await api.user("editor"),
    }
    granted = {"viewer": set(), "operator": {"credential:use"}, "editor": {"credential:use", "credential:manage"}}
    for role, headers in holders.items():
        for method, path, permission in ROUTES:
            target = await _create(api, bearer(f"t-{uuid.uuid4().hex[:6]}")) if method == "DELETE" else existing
            body = bearer(f"n-{uuid.uuid4().hex[:6]}") if method == "POST" else {"allowed_hosts": ["b.example"]}
            url = f"{WS}/credentials" + path.replace("{id}", target["id"])
            response = await api.client.request(
                method, url, json=body if method in ("POST", "PATCH") else None, headers=headers
            )
            if permission in granted[role]:
                assert response.status_code in (200, 201, 204), (role, method, path, response.text)
            else:
                assert response.status_code == 403, (role, method, path, response.text)
                assert permission in response.json()["detail"]
    other = await _workspace(api, "elsewhere")
    elsewhere = await _create(api, bearer("theirs"), base=other)
    editor = holders["editor"]
    assert (await api.client.get(f"{other}/credentials", headers=editor)).status_code == 404
    for method in ("GET", "PATCH", "DELETE"):
        response = await api.client.request(
            method,
            f"{WS}/credentials/{elsewhere['id']}",
            json={"name": "mine"} if method == "PATCH" else None,
            headers=editor,
        )
        assert response.status_code == 404, (method, response.text)


def _http_workflow(url: str, credential: str, step_type: str = "core.http") -> dict[str, Any]:
    step: dict[str, Any] = {"id": "call", "type": step_type, "credential": credential}
    if step_type == "core.http":
        step["config"] = {"url": url}
    return {"name": "call", "steps": [step]}


async def test_a_definition_naming_a_credential_its_workspace_lacks_is_a_422_at_the_step(api: Api) -> None:
    other = await _workspace(api, "elsewhere")
    await _create(api, bearer("theirs"), base=other)
    for name in ("nowhere", "theirs"):
        response = await api.client.post(
            f"{WS}/workflows", json=_http_workflow("https://api.example.com/", name), headers=api.admin
        )
        assert response.status_code == 422, response.text
        assert [(i["pointer"], i["code"]) for i in response.json()["errors"]] == [
            ("/steps/0/credential", "unknown-credential")
        ]
    await _create(api, bearer("mine"))
    wrong = await api.client.post(f"{WS}/workflows", json=_http_workflow("", "mine", "test.whoami"), headers=api.admin)
    assert wrong.status_code == 422, wrong.text
    assert [(i["pointer"], i["code"]) for i in wrong.json()["errors"]] == [("/steps/0/credential", "credential-type")]
    ok = await api.client.post(
        f"{WS}/workflows", json=_http_workflow("https://api.example.com/", "mine"), headers=api.admin
    )
    assert ok.status_code == 201, ok.text
    listed = await api.client.get(f"{WS}/workflows", headers=api.admin)
    assert [w["name"] for w in listed.json()["items"]] == ["call"], "the refused saves stored nothing"


async def _run(api: Api, base: str, workflow: dict[str, Any]) -> dict[str, Any]:
    created = await api.client.post(f"{base}/workflows", json=workflow, headers=api.admin)
    assert created.status_code == 201, created.text
    return await _start(api, base, created.json()["id"])


async def _start(api: Api, base: str, workflow_id: str) -> dict[str, Any]:
    """Starts the workflow and returns its execution once it is over (its record never shows ``TOKEN``)."""
    started = await api.client.post(f"{base}/workflows/{workflow_id}/executions", json={}, headers=api.admin)
    assert started.status_code == 201, started.text
    async with asyncio.timeout(20):
        while True:
            response = await api.client.get(f"{base}/executions/{started.json()['id']}", headers=api.admin)
            body: dict[str, Any] = response.json()
            if body["status"] in ("succeeded", "failed", "cancelled", "timed_out"):
                assert TOKEN not in response.text
                return body
            await asyncio.sleep(0.05)


async def test_a_step_gets_its_workspace_credential_and_an_echo_of_it_is_redacted(
    api_everywhere: Api, server: LocalServer
) -> None:
    api = api_everywhere
    await _create(api, bearer(hosts=[f"127.0.0.1:{server.port}"]))
    finished = await _run(api, WS, _http_workflow(server.url("/echo"), "acme"))
    assert finished["status"] == "succeeded", finished["error"]
    assert server.requests[0].headers["authorization"] == f"Bearer {TOKEN}", "the server got the real token"
    assert finished["output"]["call"]["body"]["headers"]["authorization"] == "[redacted]"


async def test_a_step_never_gets_a_credential_of_another_workspace_nor_one_for_another_host(
    api: Api, server: LocalServer
) -> None:
    other = await _workspace(api, "elsewhere")
    await _create(api, bearer(hosts=["127.0.0.1"]), base=other)  # "acme" in the other workspace
    mine = await _create(api, bearer(token="not-this-one-0000", hosts=["127.0.0.1"]))
    workflow = _http_workflow(server.url("/echo"), "acme")
    created = await api.client.post(f"{WS}/workflows", json=workflow, headers=api.admin)
    assert created.status_code == 201, created.text
    assert (await api.client.delete(f"{WS}/credentials/{mine['id']}", headers=api.admin)).status_code == 204
    body = await _start(api, WS, created.json()["id"])
    assert body["status"] == "failed"
    assert body["error"]["kind"] == "credential.missing", body["error"]
    assert server.requests == [], "nothing was sent, least of all the other workspace's token"

    bound = await _create(api, bearer("bound", hosts=["api.example.com"]))
    finished = await _run(api, WS, _http_workflow(server.url("/echo"), bound["name"]))
    assert finished["status"] == "failed"
    assert finished["error"]["kind"] == "credential.host", finished["error"]
    assert server.requests == []
