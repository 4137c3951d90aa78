"""Executions over HTTP: lists with filters and cursors, history, cancel, retry from the failed step."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

from tests.api.conftest import DEFAULT_WORKSPACE, Api

WS = f"/api/v1/workspaces/{DEFAULT_WORKSPACE}"
TERMINAL = ("succeeded", "failed", "cancelled", "timed_out")
TRANSFORM = {"id": "a", "type": "core.transform", "config": {"expression": "{got: n}"}}
BROKEN_ONCE = {
    "name": "broken-once",
    "steps": [
        TRANSFORM,
        {"id": "b", "type": "test.flaky", "needs": ["a"], "config": {"failures": 1, "retryable": False}},
        {"id": "c", "type": "core.transform", "needs": ["b"], "config": {"expression": "{after: attempt}"}},
    ],
}
SLOW_ONCE = {
    "name": "slow-once",
    "steps": [{"id": "s", "type": "test.sleep", "config": {"seconds": 5, "only_first_attempt": True}}],
}


async def _workflow(api: Api, definition: dict[str, Any]) -> str:
    created = await api.client.post(f"{WS}/workflows", json=definition, headers=api.admin)
    assert created.status_code == 201, created.text
    workflow_id: str = created.json()["id"]
    return workflow_id


async def _start(api: Api, workflow_id: str, input: Any = None) -> str:
    started = await api.client.post(
        f"{WS}/workflows/{workflow_id}/executions", json={"input": input}, headers=api.admin
    )
    assert started.status_code == 201, started.text
    execution_id: str = started.json()["id"]
    return execution_id


async def _until(api: Api, execution_id: str, statuses: tuple[str, ...]) -> dict[str, Any]:
    async with asyncio.timeout(20):
        while True:
            body: dict[str, Any] = (await api.client.get(f"{WS}/executions/{execution_id}", headers=api.admin)).json()
            if body["status"] in statuses:
                return body
            await asyncio.sleep(0.05)


async def test_a_failed_execution_retries_from_the_failed_step_keeping_what_succeeded(api_everywhere: Api) -> None:
    api = api_everywhere
    execution_id = await _start(api, await _workflow(api, BROKEN_ONCE), {"n": 1})
    failed = await _until(api, execution_id, TERMINAL)
    assert failed["status"] == "failed"
    assert failed["created_at"] <= failed["started_at"] <= failed["finished_at"]  # ISO 8601 in UTC: ordered as text

    retried = await api.client.post(f"{WS}/executions/{execution_id}/retry", headers=api.admin)
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "running"
    done = await _until(api, execution_id, TERMINAL)
    assert done["status"] == "succeeded", done["error"]
    attempts = [(run["step_id"], run["attempt"], run["status"]) for run in done["steps"]]
    assert attempts.count(("a", 1, "succeeded")) == 1  # kept, never run again
    assert ("b", 1, "failed") in attempts
    assert ("b", 2, "succeeded") in attempts
    assert done["output"]["a"] == {"got": 1}
    assert done["output"]["c"] == {"after": 2}

    history = await api.client.get(f"{WS}/executions/{execution_id}/history", params={"limit": 500}, headers=api.admin)
    types = [entry["event_type"] for entry in history.json()["items"]]
    assert "retry_requested" in types
    assert types.index("retry_requested") > types.index("step_failed")

    again = await api.client.post(f"{WS}/executions/{execution_id}/retry", headers=api.admin)
    assert (again.status_code, again.json()["code"]) == (409, "not-retryable")


async def test_cancel_stops_a_running_execution_and_retry_runs_it_again(api_everywhere: Api) -> None:
    api = api_everywhere
    execution_id = await _start(api, await _workflow(api, SLOW_ONCE))
    await _until(api, execution_id, ("running",))
    operator = await api.user("operator")

    cancelled = await api.client.post(f"{WS}/executions/{execution_id}/cancel", headers=operator)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["error"]["message"].startswith("cancelled by user-")
    twice = await api.client.post(f"{WS}/executions/{execution_id}/cancel", headers=operator)
    assert (twice.status_code, twice.json()["code"]) == (409, "execution-over")

    retried = await api.client.post(f"{WS}/executions/{execution_id}/retry", headers=operator)
    assert retried.status_code == 200, retried.text
    done = await _until(api, execution_id, TERMINAL)
    assert done["status"] == "succeeded"
    assert done["output"] == {"s": {"slept": 2}}
    audit = await api.client.get("/api/v1/audit", params={"target_id": execution_id}, headers=api.admin)
    assert [entry["action"] for entry in audit.json()["items"]] == [
        "execution.retry",
        "execution.cancel",
        "execution.start",
    ]


async def test_a_viewer_may_not_cancel_or_retry(api: Api) -> None:
    execution_id = await _start(api, await _workflow(api, BROKEN_ONCE))
    await _until(api, execution_id, TERMINAL)
    viewer = await api.user("viewer")
    for action in ("cancel", "retry"):
        response = await api.client.post(f"{WS}/executions/{execution_id}/{action}", headers=viewer)
        assert response.status_code == 403


async def test_executions_are_listed_newest_first_with_filters_and_a_cursor(api: Api) -> None:
    greet = await _workflow(api, {"name": "greet", "steps": [TRANSFORM]})
    broken = await _workflow(api, BROKEN_ONCE | {"name": "broken"})
    ids = [await _start(api, greet), await _start(api, greet), await _start(api, broken)]
    for execution_id in ids:
        await _until(api, execution_id, TERMINAL)

    first = await api.client.get(f"{WS}/executions", params={"limit": 2}, headers=api.admin)
    assert first.status_code == 200, first.text
    assert [item["id"] for item in first.json()["items"]] == [ids[2], ids[1]]
    assert "input" not in first.json()["items"][0]
    rest = await api.client.get(
        f"{WS}/executions", params={"limit": 2, "cursor": first.json()["next"]}, headers=api.admin
    )
    assert [item["id"] for item in rest.json()["items"]] == [ids[0]]
    assert rest.json()["next"] is None

    by_workflow = await api.client.get(f"{WS}/executions", params={"workflow": greet}, headers=api.admin)
    assert [item["id"] for item in by_workflow.json()["items"]] == [ids[1], ids[0]]
    failed = await api.client.get(f"{WS}/executions", params={"status": "failed"}, headers=api.admin)
    assert [item["id"] for item in failed.json()["items"]] == [ids[2]]
    assert failed.json()["items"][0]["error"]["step_id"] == "b"
    later = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)).isoformat()
    none = await api.client.get(f"{WS}/executions", params={"started_after": later}, headers=api.admin)
    assert none.json()["items"] == []
    before = await api.client.get(f"{WS}/executions", params={"started_before": later}, headers=api.admin)
    assert len(before.json()["items"]) == 3

    naive = await api.client.get(f"{WS}/executions", params={"started_after": "2026-01-01T00:00:00"}, headers=api.admin)
    assert (naive.status_code, naive.json()["errors"][0]["parameter"]) == (400, "started_after")
    bad_status = await api.client.get(f"{WS}/executions", params={"status": "sleeping"}, headers=api.admin)
    assert bad_status.status_code == 400
    forged = await api.client.get(f"{WS}/executions", params={"cursor": "WyJ4Il0"}, headers=api.admin)
    assert (forged.status_code, forged.json()["code"]) == (400, "invalid-cursor")
    too_many = await api.client.get(f"{WS}/executions", params={"limit": 501}, headers=api.admin)
    assert too_many.status_code == 400


async def test_the_history_comes_in_sequence_order_a_page_at_a_time(api_everywhere: Api) -> None:
    api = api_everywhere
    execution_id = await _start(api, await _workflow(api, {"name": "one", "steps": [TRANSFORM]}))
    done = await _until(api, execution_id, TERMINAL)
    url = f"{WS}/executions/{execution_id}/history"
    page = await api.client.get(url, params={"limit": 2}, headers=api.admin)
    assert page.status_code == 200, page.text
    assert [entry["sequence"] for entry in page.json()["items"]] == [1, 2]
    assert page.json()["items"][0]["event_type"] == "execution_started"
    assert page.json()["next_after"] == 2
    rest = await api.client.get(url, params={"after": 2}, headers=api.admin)
    sequences = [entry["sequence"] for entry in rest.json()["items"]]
    assert sequences == list(range(3, done["sequence"] + 1))
    assert rest.json()["next_after"] is None
    assert rest.json()["items"][-1]["event"]["type"] == "step_succeeded"


async def test_another_workspaces_execution_answers_404(api: Api) -> None:
    made = await api.client.post("/api/v1/workspaces", json={"name": "other"}, headers=api.admin)
    other = f"/api/v1/workspaces/{made.json()['id']}"
    created = await api.client.post(f"{other}/workflows", json={"name": "x", "steps": [TRANSFORM]}, headers=api.admin)
    started = await api.client.post(f"{other}/workflows/{created.json()['id']}/executions", json={}, headers=api.admin)
    execution_id = started.json()["id"]
    for method, path in (("GET", ""), ("GET", "/history"), ("POST", "/cancel"), ("POST", "/retry")):
        response = await api.client.request(method, f"{WS}/executions/{execution_id}{path}", headers=api.admin)
        assert response.status_code == 404, (method, path)
    listed = await api.client.get(f"{WS}/executions", headers=api.admin)
    assert execution_id not in [item["id"] for item in listed.json()["items"]]


async def test_a_repeated_start_through_another_workspace_or_of_an_archived_workflow_is_refused(api: Api) -> None:
    workflow_id = await _workflow(api, {"name": "keyed", "steps": [TRANSFORM]})
    start = f"{WS}/workflows/{workflow_id}/executions"
    key = {**api.admin, "Idempotency-Key": "order-1"}
    first = await api.client.post(start, json={"input": {"n": 1}}, headers=key)
    assert first.status_code == 201, first.text
    again = await api.client.post(start, json={"input": {"n": 1}}, headers=key)
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
    assert again.json()["workflow_id"] == workflow_id

    made = await api.client.post("/api/v1/workspaces", json={"name": "elsewhere"}, headers=api.admin)
    elsewhere = f"/api/v1/workspaces/{made.json()['id']}/workflows/{workflow_id}/executions"
    through_other = await api.client.post(elsewhere, json={"input": {"n": 1}}, headers=key)
    assert through_other.status_code == 404  # the key does not reveal the execution to another workspace
    assert first.json()["id"] not in through_other.text

    archived = await api.client.post(f"{WS}/workflows/{workflow_id}/archive", headers=api.admin)
    assert archived.status_code == 200
    after = await api.client.post(start, json={"input": {"n": 1}}, headers=key)
    assert (after.status_code, after.json()["code"]) == (409, "workflow-archived")
