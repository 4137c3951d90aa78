"""Workflows over HTTP: updates as new immutable versions, archive, versions, validation, node-type rules."""

from __future__ import annotations

import uuid
from typing import Any

from tests.api.conftest import DEFAULT_WORKSPACE, Api

WS = f"/api/v1/workspaces/{DEFAULT_WORKSPACE}"


def greet(greeting: str = "hello", **extra: Any) -> dict[str, Any]:
    expression = f"{{greeting: join(' ', ['{greeting}', name])}}"
    return {
        "name": "greet",
        "steps": [{"id": "hello", "type": "core.transform", "config": {"expression": expression}}],
        **extra,
    }


async def _create(api: Api, definition: dict[str, Any], workspace: str = WS) -> dict[str, Any]:
    created = await api.client.post(f"{workspace}/workflows", json=definition, headers=api.admin)
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


async def _workspace(api: Api, name: str, allowed: list[str] | None = None) -> str:
    made = await api.client.post(
        "/api/v1/workspaces", json={"name": name, "allowed_node_types": allowed}, headers=api.admin
    )
    assert made.status_code == 201, made.text
    return f"/api/v1/workspaces/{made.json()['id']}"


async def test_an_update_saves_a_new_version_and_running_executions_keep_theirs(api_everywhere: Api) -> None:
    api = api_everywhere
    workflow = await _create(api, greet())
    url = f"{WS}/workflows/{workflow['id']}"
    first = await api.client.post(f"{url}/executions", json={"input": {"name": "ada"}}, headers=api.admin)

    replaced = await api.client.put(url, json=greet("hi"), headers=api.admin)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["latest_version"] == 2
    same = await api.client.put(url, json=greet("hi"), headers=api.admin)
    assert same.json()["latest_version"] == 2  # nothing changed: no new version
    patched = await api.client.patch(url, json={"description": "says hi"}, headers=api.admin)
    assert patched.status_code == 200, patched.text
    assert (patched.json()["latest_version"], patched.json()["description"]) == (3, "says hi")

    versions = await api.client.get(f"{url}/versions", headers=api.admin)
    assert [v["version"] for v in versions.json()["items"]] == [3, 2, 1]
    one = await api.client.get(f"{url}/versions/1", headers=api.admin)
    assert "'hello'" in one.json()["definition"]["steps"][0]["config"]["expression"]
    assert one.json()["definition"]["steps"][0]["type_version"] == 1  # pinned
    assert one.json()["id"] == first.json()["workflow_version_id"]
    assert (await api.client.get(f"{url}/versions/9", headers=api.admin)).status_code == 404

    second = await api.client.post(f"{url}/executions", json={"input": {"name": "ada"}}, headers=api.admin)
    assert second.json()["workflow_version_id"] == versions.json()["items"][0]["id"]


async def test_versions_come_a_page_at_a_time(api: Api) -> None:
    workflow = await _create(api, greet())
    url = f"{WS}/workflows/{workflow['id']}"
    for word in ("a", "b", "c"):
        assert (await api.client.put(url, json=greet(word), headers=api.admin)).status_code == 200
    page = await api.client.get(f"{url}/versions", params={"limit": 3}, headers=api.admin)
    assert [v["version"] for v in page.json()["items"]] == [4, 3, 2]
    rest = await api.client.get(f"{url}/versions", params={"cursor": page.json()["next"]}, headers=api.admin)
    assert [v["version"] for v in rest.json()["items"]] == [1]
    assert rest.json()["next"] is None


async def test_an_update_is_checked_like_a_create(api: Api) -> None:
    workflow = await _create(api, greet())
    url = f"{WS}/workflows/{workflow['id']}"
    broken = await api.client.put(
        url, json={"name": "x", "steps": [{"id": "a", "type": "core.nope"}]}, headers=api.admin
    )
    assert broken.status_code == 422
    assert any(item["pointer"] == "/steps/0/type" for item in broken.json()["errors"])
    with_credential = greet()
    with_credential["steps"][0]["credential"] = "nobody-has-it"
    refused = await api.client.put(url, json=with_credential, headers=api.admin)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["pointer"] == "/steps/0/credential"
    assert refused.json()["errors"][0]["code"] == "unknown-credential"
    assert (await api.client.get(url, headers=api.admin)).json()["latest_version"] == 1  # nothing was saved
    not_an_object = await api.client.patch(url, content=b"[1]", headers=api.admin)
    assert not_an_object.status_code == 422


async def test_an_archived_workflow_starts_nothing_and_is_listed_only_when_asked(api: Api) -> None:
    workflow = await _create(api, greet())
    url = f"{WS}/workflows/{workflow['id']}"
    archived = await api.client.post(f"{url}/archive", headers=api.admin)
    assert (archived.status_code, archived.json()["archived"]) == (200, True)

    start = await api.client.post(f"{url}/executions", json={"input": {"name": "x"}}, headers=api.admin)
    assert (start.status_code, start.json()["code"]) == (409, "workflow-archived")
    assert (await api.client.put(url, json=greet("hi"), headers=api.admin)).status_code == 409
    listed = await api.client.get(f"{WS}/workflows", headers=api.admin)
    assert workflow["id"] not in [w["id"] for w in listed.json()["items"]]
    everything = await api.client.get(f"{WS}/workflows", params={"archived": "true"}, headers=api.admin)
    assert workflow["id"] in [w["id"] for w in everything.json()["items"]]

    assert (await api.client.post(f"{url}/restore", headers=api.admin)).json()["archived"] is False
    again = await api.client.post(f"{url}/executions", json={"input": {"name": "x"}}, headers=api.admin)
    assert again.status_code == 201, again.text
    audit = await api.client.get("/api/v1/audit", params={"action": "workflow.*"}, headers=api.admin)
    actions = [entry["action"] for entry in audit.json()["items"] if entry["target_id"] == workflow["id"]]
    assert actions == ["workflow.restore", "workflow.archive", "workflow.create"]


async def test_workflows_are_listed_by_name_a_page_at_a_time(api: Api) -> None:
    for name in ("c", "a", "b"):
        await _create(api, {**greet(), "name": name})
    first = await api.client.get(f"{WS}/workflows", params={"limit": 2}, headers=api.admin)
    assert [w["name"] for w in first.json()["items"]] == ["a", "b"]
    rest = await api.client.get(f"{WS}/workflows", params={"cursor": first.json()["next"]}, headers=api.admin)
    assert [w["name"] for w in rest.json()["items"]] == ["c"]
    assert rest.json()["next"] is None
    forged = await api.client.get(f"{WS}/workflows", params={"cursor": "bm90IGEgY3Vyc29y"}, headers=api.admin)
    assert (forged.status_code, forged.json()["code"]) == (400, "invalid-cursor")


async def test_validate_checks_without_saving(api: Api) -> None:
    valid = await api.client.post(f"{WS}/workflows/validate", json=greet(), headers=api.admin)
    assert valid.status_code == 200, valid.text
    assert valid.json()["valid"] is True
    assert valid.json()["definition"]["steps"][0]["type_version"] == 1
    broken = {"name": "x", "steps": [{"id": "a", "type": "core.transform", "needs": ["ghost"], "config": {}}]}
    invalid = await api.client.post(f"{WS}/workflows/validate", json=broken, headers=api.admin)
    assert invalid.status_code == 422
    assert invalid.headers["content-type"].startswith("application/problem+json")
    assert all(item["pointer"].startswith("/steps/0") for item in invalid.json()["errors"]), invalid.json()
    listed = await api.client.get(f"{WS}/workflows", headers=api.admin)
    assert listed.json()["items"] == []
    viewer = await api.user("viewer")
    assert (await api.client.post(f"{WS}/workflows/validate", json=greet(), headers=viewer)).status_code == 200


async def test_a_workspace_restricts_the_node_types_of_its_workflows(api_everywhere: Api) -> None:
    api = api_everywhere
    restricted = await _workspace(api, f"core-only-{uuid.uuid4().hex[:6]}", ["core.*"])
    flaky = {
        "name": "f",
        "steps": [
            {"id": "a", "type": "core.transform", "config": {"expression": "input"}},
            {"id": "b", "type": "test.flaky", "needs": ["a"], "config": {"failures": 0}},
        ],
    }
    for route in ("/workflows", "/workflows/validate"):
        refused = await api.client.post(restricted + route, json=flaky, headers=api.admin)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"] == [
            {
                "pointer": "/steps/1/type",
                "code": "node-type-not-allowed",
                "message": "this workspace does not allow the node type 'test.flaky' (allowed: core.*)",
            }
        ]
    workflow = await _create(api, greet(), restricted)
    refused = await api.client.put(f"{restricted}/workflows/{workflow['id']}", json=flaky, headers=api.admin)
    assert refused.status_code == 422

    # Saved while allowed, then the workspace's rules change: starting it is refused.
    open_ws = await _workspace(api, f"open-{uuid.uuid4().hex[:6]}")
    saved = await _create(api, flaky, open_ws)
    changed = await api.client.patch(open_ws, json={"allowed_node_types": ["core.transform"]}, headers=api.admin)
    assert changed.status_code == 200
    start = await api.client.post(f"{open_ws}/workflows/{saved['id']}/executions", json={}, headers=api.admin)
    assert (start.status_code, start.json()["code"]) == (409, "node-type-not-allowed")
    assert start.json()["errors"][0]["pointer"] == "/steps/1/type"


async def test_another_workspaces_workflow_answers_404(api: Api) -> None:
    other = await _workspace(api, "elsewhere")
    workflow = await _create(api, greet(), other)
    url = f"{WS}/workflows/{workflow['id']}"
    for method, path in (("GET", ""), ("PUT", ""), ("PATCH", ""), ("POST", "/archive"), ("GET", "/versions")):
        body = greet() if method in ("PUT", "PATCH") else None
        response = await api.client.request(method, url + path, json=body, headers=api.admin)
        assert response.status_code == 404, (method, path, response.text)


async def test_updating_and_archiving_need_workflow_write(api: Api) -> None:
    workflow = await _create(api, greet())
    url = f"{WS}/workflows/{workflow['id']}"
    viewer = await api.user("viewer")
    assert (await api.client.get(f"{url}/versions", headers=viewer)).status_code == 200
    for method, path in (("PUT", ""), ("PATCH", ""), ("POST", "/archive"), ("POST", "/restore")):
        body = greet() if method in ("PUT", "PATCH") else None
        response = await api.client.request(method, url + path, json=body, headers=viewer)
        assert response.status_code == 403, (method, path)
