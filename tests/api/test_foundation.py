"""The API's foundation: login, deny by default, workspaces as 404s, problem details, a workflow run over HTTP."""

from __future__ import annotations

import asyncio
import uuid

from tests.api.conftest import ADMIN, DEFAULT_WORKSPACE, Api

WS = f"/api/v1/workspaces/{DEFAULT_WORKSPACE}"
DEFINITION = {
    "name": "greet",
    "steps": [
        {"id": "hello", "type": "core.transform", "config": {"expression": "{greeting: join(' ', ['hello', name])}"}}
    ],
}


async def _finished(api: Api, execution_id: str) -> dict[str, object]:
    async with asyncio.timeout(20):
        while True:
            response = await api.client.get(f"{WS}/executions/{execution_id}", headers=api.admin)
            body: dict[str, object] = response.json()
            if body["status"] in ("succeeded", "failed", "cancelled", "timed_out"):
                return body
            await asyncio.sleep(0.05)


async def test_a_definition_saved_and_started_over_http_runs_to_its_output(api_everywhere: Api) -> None:
    api = api_everywhere
    created = await api.client.post(f"{WS}/workflows", json=DEFINITION, headers=api.admin)
    assert created.status_code == 201, created.text
    workflow_id = created.json()["id"]
    started = await api.client.post(
        f"{WS}/workflows/{workflow_id}/executions", json={"input": {"name": "ada"}}, headers=api.admin
    )
    assert started.status_code == 201, started.text
    finished = await _finished(api, started.json()["id"])
    assert finished["status"] == "succeeded", finished["error"]
    assert finished["output"] == {"hello": {"greeting": "hello ada"}}


async def test_a_request_without_a_token_is_a_401_problem(api: Api) -> None:
    response = await api.client.get(f"{WS}/workflows")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 401
    assert body["correlation_id"] == response.headers["x-correlation-id"]


async def test_a_wrong_password_is_a_401_that_says_no_more(api: Api) -> None:
    wrong = await api.client.post("/api/v1/auth/token", json={"username": ADMIN[0], "password": "not it at all"})
    unknown = await api.client.post("/api/v1/auth/token", json={"username": "nobody", "password": "not it at all"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_another_workspace_answers_404_and_a_missing_permission_403(api: Api) -> None:
    viewer = await api.user("viewer")
    other = f"/api/v1/workspaces/{uuid.uuid4()}/workflows"
    assert (await api.client.get(other, headers=viewer)).status_code == 404
    assert (await api.client.get(f"{WS}/workflows", headers=viewer)).status_code == 200
    denied = await api.client.post(f"{WS}/workflows", json=DEFINITION, headers=viewer)
    assert denied.status_code == 403
    assert "workflow:write" in denied.json()["detail"]


async def test_an_invalid_definition_is_a_422_with_a_pointer_to_each_problem(api: Api) -> None:
    broken = {"name": "broken", "steps": [{"id": "a", "type": "core.nope"}]}
    response = await api.client.post(f"{WS}/workflows", json=broken, headers=api.admin)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid-definition"
    assert any(item["pointer"] == "/steps/0/type" for item in body["errors"]), body


async def test_an_unknown_field_in_a_body_is_a_400_naming_it(api: Api) -> None:
    created = await api.client.post(f"{WS}/workflows", json=DEFINITION, headers=api.admin)
    url = f"{WS}/workflows/{created.json()['id']}/executions"
    response = await api.client.post(url, json={"input": {}, "surprise": 1}, headers=api.admin)
    assert response.status_code == 400
    assert response.json()["errors"][0]["pointer"] == "/surprise", response.json()
