"""Hostile and broken input: every answer a bounded 4xx problem, never a 500, a trace, SQL or a secret.

The checks that involve what a database accepts (NUL characters, integers past 64 bits) run on
SQLite and on PostgreSQL; a database or a Redis that is down answers 503 with Retry-After.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import msgspec
import pytest
from litestar.exceptions import WebSocketDisconnect
from litestar.stores.redis import RedisStore
from redis.asyncio import Redis

from tests.api.conftest import ADMIN, DEFAULT_WORKSPACE, SECRET, Api, running_api
from tests.api.livews import opened, ticket
from wirehub.api.hosts import CLOSE_INVALID_HOST
from wirehub.api.input_bounds import MAX_CONTAINER_ITEMS, MAX_DEPTH, MAX_HEADER_BYTES
from wirehub.api.shared import SharedStore
from wirehub.runtime.registry import NodeRegistry
from wirehub.settings import Settings
from wirehub.store import database_engine, session_factory

WS = f"/api/v1/workspaces/{DEFAULT_WORKSPACE}"
DEFINITION = {"name": "echo", "steps": [{"id": "a", "type": "core.transform", "config": {"expression": "input"}}]}
LEAKS = ("Traceback", "SELECT ", "INSERT ", "sqlalchemy", "asyncpg", "psycopg", SECRET, ADMIN[1])


def assert_problem(response: httpx.Response, status: int, *, code: str | None = None) -> dict[str, Any]:
    """A problem-details answer with ``status`` that gives nothing away."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    for leak in LEAKS:
        assert leak not in response.text, (leak, response.text)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["correlation_id"]
    if code is not None:
        assert body["code"] == code, body
    return body


def pointers(body: dict[str, Any]) -> list[str | None]:
    return [item.get("pointer") for item in body.get("errors", [])]


async def _workflow(api: Api) -> str:
    created = await api.client.post(f"{WS}/workflows", json=DEFINITION, headers=api.admin)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _raw(value: object) -> bytes:
    return json.dumps(value).encode()


# --- unknown and read-only fields ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "pointer"),
    [
        ("/api/v1/workspaces", {"name": "made", "id": str(uuid.uuid4())}, "/id"),
        ("/api/v1/workspaces", {"name": "made", "created_at": "2026-01-01T00:00:00Z"}, "/created_at"),
        ("/api/v1/users", {"username": "eve", "password": "long enough password", "disabled": True}, "/disabled"),
        ("/api/v1/roles", {"name": "custom", "permissions": [], "builtin": True}, "/builtin"),
        (
            f"{WS}/credentials",
            {"name": "c", "type": "core.bearer", "fields": {}, "allowed_hosts": ["a.b"], "id": 1},
            "/id",
        ),
        ("/api/v1/auth/token", {"username": "a", "password": "b", "scope": "admin"}, "/scope"),
    ],
)
async def test_unknown_and_read_only_fields_are_refused_with_a_pointer(
    api: Api, path: str, body: dict[str, Any], pointer: str
) -> None:
    problem = assert_problem(await api.client.post(path, json=body, headers=api.admin), 400)
    assert pointer in pointers(problem)


async def test_a_definition_with_an_unknown_field_is_a_422_pointing_at_it(api: Api) -> None:
    definition = {**DEFINITION, "owner": "mallory"}
    problem = assert_problem(await api.client.post(f"{WS}/workflows", json=definition, headers=api.admin), 422)
    assert "/owner" in pointers(problem)


# --- sizes: body, headers, nesting, lists, pages --------------------------------------------------


async def test_a_body_past_the_limit_is_a_413_problem(api: Api) -> None:
    huge = _raw({"input": {"blob": "x" * (1024 * 1024 + 1)}})
    url = f"{WS}/workflows/{await _workflow(api)}/executions"
    response = await api.client.post(url, content=huge, headers={**api.admin, "content-type": "application/json"})
    assert_problem(response, 413)


async def test_headers_past_the_limit_are_a_431_problem(api: Api) -> None:
    padding = {f"x-pad-{n}": "y" * 1000 for n in range(MAX_HEADER_BYTES // 1000 + 1)}
    response = await api.client.get(f"{WS}/workflows", headers={**api.admin, **padding})
    assert_problem(response, 431, code="headers-too-large")
    assert (await api.client.get(f"{WS}/workflows", headers={**api.admin, "x-pad": "y" * 1000})).status_code == 200


def _nested(depth: int) -> object:
    value: object = "bottom"
    for _ in range(depth):
        value = {"a": value}
    return value


async def test_nesting_past_the_limit_is_a_400_with_the_pointer_where_it_goes_too_deep(api: Api) -> None:
    url = f"{WS}/workflows/{await _workflow(api)}/executions"
    deep = await api.client.post(url, json={"input": _nested(MAX_DEPTH + 5)}, headers=api.admin)
    problem = assert_problem(deep, 400, code="invalid-body")
    assert problem["errors"][0]["code"] == "too-deep"
    assert problem["errors"][0]["pointer"] == "/input" + "/a" * (MAX_DEPTH - 1)
    # msgspec's own recursion limit (far deeper) is a 400 too, not a crash
    deepest = b'{"input": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = await api.client.post(url, content=deepest, headers={**api.admin, "content-type": "application/json"})
    assert_problem(response, 400)
    fine = await api.client.post(url, json={"input": _nested(20)}, headers=api.admin)
    assert fine.status_code == 201, fine.text


async def test_a_list_past_the_limit_is_a_400_naming_it(api: Api) -> None:
    url = f"{WS}/workflows/{await _workflow(api)}/executions"
    long_list = await api.client.post(url, json={"input": {"xs": [0] * (MAX_CONTAINER_ITEMS + 1)}}, headers=api.admin)
    problem = assert_problem(long_list, 400, code="invalid-body")
    assert problem["errors"][0] == {
        "code": "too-many-items",
        "pointer": "/input/xs",
        "message": f"at most {MAX_CONTAINER_ITEMS} items",
    }
    permissions = await api.client.post(
        "/api/v1/roles", json={"name": "many", "permissions": ["node:read"] * 1000}, headers=api.admin
    )
    assert_problem(permissions, 400)


@pytest.mark.parametrize("limit", ["0", "501", "-1", "99999999999999999999999", "ten"])
async def test_page_sizes_out_of_bounds_are_a_400_naming_the_parameter(api: Api, limit: str) -> None:
    for path in (f"{WS}/workflows", f"{WS}/executions", "/api/v1/audit", "/api/v1/users"):
        problem = assert_problem(await api.client.get(path, params={"limit": limit}, headers=api.admin), 400)
        assert [item.get("parameter") for item in problem["errors"]] == ["limit"], problem


# --- values no database should see ----------------------------------------------------------------


async def test_nul_characters_are_a_400_wherever_they_are(api_everywhere: Api) -> None:
    api = api_everywhere
    url = f"{WS}/workflows/{await _workflow(api)}/executions"
    in_input = assert_problem(await api.client.post(url, json={"input": {"s": "a\x00b"}}, headers=api.admin), 400)
    assert in_input["errors"][0] == {"code": "nul-character", "pointer": "/input/s", "message": "a NUL character"}
    in_key = assert_problem(await api.client.post(url, json={"input": {"a\x00": 1}}, headers=api.admin), 400)
    assert in_key["errors"][0]["code"] == "nul-character"
    assert_problem(await api.client.post("/api/v1/workspaces", json={"name": "a\x00"}, headers=api.admin), 400)
    definition = {**DEFINITION, "description": "\x00"}
    assert_problem(await api.client.post(f"{WS}/workflows", json=definition, headers=api.admin), 400)
    as_text = {**api.admin, "content-type": "text/plain"}  # the definition routes read any body as JSON
    assert_problem(await api.client.post(f"{WS}/workflows", content=_raw(definition), headers=as_text), 400)
    login = await api.client.post("/api/v1/auth/token", json={"username": "admin\x00", "password": ADMIN[1]})
    assert_problem(login, 400)
    query = await api.client.get("/api/v1/audit", params={"actor": "a\x00b"}, headers=api.admin)
    assert_problem(query, 400)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"input": {"s": "\\ud800"}}',  # a lone high surrogate
        b'{"input": {"s": "\\udc00x"}}',  # a lone low surrogate
        b'{"input": {"s": "\xed\xa0\x80"}}',  # a surrogate encoded in UTF-8
        b'{"input": {"n": 1e400}}',  # infinity
        b'{"input": {"n": -1e400}}',
        b'{"input": {"n": NaN}}',
        b'{"input": {"n": Infinity}}',
        b'{"input": ',  # truncated
        b"\xff\xfe",  # not UTF-8
    ],
)
async def test_invalid_text_and_non_finite_numbers_are_a_400(api: Api, raw: bytes) -> None:
    url = f"{WS}/workflows/{await _workflow(api)}/executions"
    response = await api.client.post(url, content=raw, headers={**api.admin, "content-type": "application/json"})
    assert_problem(response, 400)


async def test_integers_past_64_bits_are_a_400_on_every_database(api_everywhere: Api) -> None:
    api = api_everywhere
    workflow = await _workflow(api)
    url = f"{WS}/workflows/{workflow}/executions"
    for value in (2**63, -(2**63) - 1, 10**30):
        problem = assert_problem(await api.client.post(url, json={"input": {"n": value}}, headers=api.admin), 400)
        assert problem["errors"][0]["code"] == "integer-out-of-range"
        assert_problem(await api.client.post(url, json={"version": value}, headers=api.admin), 400)
    too_big = await api.client.get(f"{WS}/workflows/{workflow}/versions/{2**63}", headers=api.admin)
    assert assert_problem(too_big, 400)["errors"][0]["parameter"] == "version"
    history = f"{WS}/executions/{uuid.uuid4()}/history"
    assert_problem(await api.client.get(history, params={"after": str(2**40)}, headers=api.admin), 400)
    ok = await api.client.post(url, json={"input": {"n": 2**63 - 1, "m": -(2**63)}}, headers=api.admin)
    assert ok.status_code == 201, ok.text


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/workspaces/not-a-uuid",
        f"{WS}/workflows/not-a-uuid",
        f"{WS}/workflows/{uuid.uuid4()}/versions/nope",
        "/api/v1/users/%00",
        "/api/v1/node-types/%00",
        "/api/v1/node-types/" + "x" * 5000,
    ],
)
async def test_malformed_path_parameters_are_a_4xx_problem(api: Api, path: str) -> None:
    response = await api.client.get(path, headers=api.admin)
    assert 400 <= response.status_code < 500, response.text
    assert_problem(response, response.status_code)


# --- hosts and origins ----------------------------------------------------------------------------


@pytest.fixture
def guarded_settings(api_settings: Settings) -> Settings:
    return msgspec.structs.replace(
        api_settings, allowed_hosts=("testserver.local", "*.hub.test"), cors_allow_origins=("https://app.hub.test",)
    )


async def test_a_host_not_allowed_is_refused_and_an_allowed_one_served(
    guarded_settings: Settings, registry: NodeRegistry
) -> None:
    async with running_api(guarded_settings, registry) as api:
        refused = await api.client.get(f"{WS}/workflows", headers={**api.admin, "host": "evil.example"})
        assert_problem(refused, 400, code="invalid-host")
        served = await api.client.get(f"{WS}/workflows", headers={**api.admin, "host": "eu.hub.test"})
        assert served.status_code == 200


async def test_a_websocket_handshake_to_a_host_not_allowed_is_refused(
    guarded_settings: Settings, registry: NodeRegistry
) -> None:
    async with running_api(guarded_settings, registry) as api:
        refused_ticket = await ticket(api, api.admin)
        session = await api.client.websocket_connect(
            f"/api/v1/live?ticket={refused_ticket}", headers={"host": "evil.example"}
        )
        with pytest.raises(WebSocketDisconnect) as closed:
            await asyncio.to_thread(session.__enter__)
        assert closed.value.code == CLOSE_INVALID_HOST
        # Refused before the ticket was looked at: it still opens a connection to an allowed host.
        async with opened(api, refused_ticket) as live:
            live.send({"subscribe": {"all": True}})
            assert (await live.receive())["type"] == "subscribed"


async def test_cors_allows_the_listed_origin_only(guarded_settings: Settings, registry: NodeRegistry) -> None:
    async with running_api(guarded_settings, registry) as api:
        preflight = {"access-control-request-method": "POST", "access-control-request-headers": "authorization"}
        listed = await api.client.options(f"{WS}/workflows", headers={"origin": "https://app.hub.test", **preflight})
        assert listed.status_code == 204
        assert listed.headers["access-control-allow-origin"] == "https://app.hub.test"
        other = await api.client.options(f"{WS}/workflows", headers={"origin": "https://evil.example", **preflight})
        assert other.status_code == 400
        assert "access-control-allow-origin" not in other.headers
        simple = await api.client.get(f"{WS}/workflows", headers={**api.admin, "origin": "https://evil.example"})
        assert "access-control-allow-origin" not in simple.headers


# --- dependencies that are down -------------------------------------------------------------------


async def test_a_database_that_is_down_is_a_503_with_retry_after(api: Api) -> None:
    services = api.client.app.state.services
    dead = database_engine("postgresql+asyncpg://postgres:hunter2@127.0.0.1:1/gone")
    original = services.sessions
    services.sessions = session_factory(dead)
    try:
        response = await api.client.get("/api/v1/workspaces", headers=api.admin)
    finally:
        services.sessions = original
        await dead.dispose()
    body = assert_problem(response, 503, code="unavailable")
    assert response.headers["retry-after"] == "5"
    assert "hunter2" not in response.text
    assert "127.0.0.1:1" not in response.text
    assert body["detail"] == "the database is not reachable; try again shortly"


async def test_a_redis_that_is_down_is_a_503_with_retry_after(api: Api) -> None:
    services = api.client.app.state.services
    client = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    original = services.shared
    services.shared = SharedStore(RedisStore(client))
    try:
        response = await api.client.post("/api/v1/live/tickets", headers=api.admin)
    finally:
        services.shared = original
        await client.aclose()
    assert_problem(response, 503, code="unavailable")
    assert response.headers["retry-after"] == "5"
