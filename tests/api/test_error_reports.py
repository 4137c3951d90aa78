"""Error reporting over HTTP: a failure's structured error, tracebacks for admins only, and the failures list."""

from __future__ import annotations

import asyncio
import datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tests.api.conftest import DEFAULT_WORKSPACE, SETTINGS, Api
from tests.support.local_http import LocalServer
from wirehub.settings import Network, Settings

WS = f"/api/v1/workspaces/{DEFAULT_WORKSPACE}"
TERMINAL = ("succeeded", "failed", "cancelled", "timed_out")
CRASH = {"name": "crashing", "steps": [{"id": "divide", "type": "test.crash"}]}
BROKEN = {
    "name": "broken",
    "steps": [{"id": "flaky", "type": "test.flaky", "config": {"failures": 5, "retryable": False}}],
}
FINE = {"name": "fine", "steps": [{"id": "a", "type": "core.transform", "config": {"expression": "`1`"}}]}
TRACEBACK_HEAD = "Traceback (most recent call last)"


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    """The API's test settings, with the egress rules letting steps reach the local server."""
    return msgspec.structs.replace(
        SETTINGS,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
        egress_allow_networks=(Network("127.0.0.0/8"),),
    )


async def _run(api: Api, definition: dict[str, Any], input: Any = None) -> tuple[str, str]:
    """Creates the workflow, runs one execution to its end; its workflow id and execution id."""
    created = await api.client.post(f"{WS}/workflows", json=definition, headers=api.admin)
    assert created.status_code == 201, created.text
    workflow_id: str = created.json()["id"]
    started = await api.client.post(
        f"{WS}/workflows/{workflow_id}/executions", json={"input": input}, headers=api.admin
    )
    assert started.status_code == 201, started.text
    execution_id: str = started.json()["id"]
    async with asyncio.timeout(20):
        while True:
            if (await _get(api, execution_id, api.admin))["status"] in TERMINAL:
                break
            await asyncio.sleep(0.05)
    return workflow_id, execution_id


async def _get(api: Api, execution_id: str, headers: dict[str, str]) -> dict[str, Any]:
    response = await api.client.get(f"{WS}/executions/{execution_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_an_internal_error_shows_its_traceback_to_admins_and_its_kind_and_message_to_others(
    api_everywhere: Api,
) -> None:
    api = api_everywhere
    _, execution_id = await _run(api, CRASH)

    seen = await _get(api, execution_id, api.admin)
    assert seen["status"] == "failed"
    error = seen["error"]
    assert error["kind"] == "node.unexpected"
    assert error["message"] == "step 'divide' failed: ZeroDivisionError: division by zero"
    assert (error["step_id"], error["node_type"], error["attempt"], error["retryable"]) == (
        "divide",
        "test.crash",
        1,
        False,
    )
    assert error["traceback"].startswith(TRACEBACK_HEAD)
    assert "ZeroDivisionError: division by zero" in error["traceback"]
    assert seen["steps"][0]["error"]["traceback"] == error["traceback"]

    for role in ("viewer", "operator", "editor"):
        other = await _get(api, execution_id, await api.user(role))
        assert other["error"] == {
            "kind": "node.unexpected",
            "message": "step 'divide' failed: ZeroDivisionError: division by zero",
            "step_id": "divide",
            "node_type": "test.crash",
            "attempt": 1,
        }, role
        assert other["steps"][0]["error"] == {
            "kind": "node.unexpected",
            "message": "ZeroDivisionError: division by zero",
        }, role
        assert TRACEBACK_HEAD not in str(other)

    viewer = await api.user("viewer")
    history = await api.client.get(f"{WS}/executions/{execution_id}/history", headers=viewer)
    assert history.status_code == 200
    assert "ZeroDivisionError" in history.text
    assert TRACEBACK_HEAD not in history.text, "the history never holds a traceback"


async def test_an_http_failure_carries_its_status_and_a_bounded_excerpt_of_the_body(
    api: Api, server: LocalServer
) -> None:
    long_body = "x" * 5000  # echoed back inside the 404's JSON body
    step = {
        "id": "call",
        "type": "core.http",
        "config": {"url": server.url("/echo?status=404"), "method": "POST", "body": long_body, "body_type": "raw"},
    }
    _, execution_id = await _run(api, {"name": "calls-out", "steps": [step]})

    error = (await _get(api, execution_id, await api.user("viewer")))["error"]
    assert (error["kind"], error["step_id"], error["node_type"], error["attempt"]) == (
        "http.status",
        "call",
        "core.http",
        1,
    )
    assert error["retryable"] is False
    assert error["details"]["status"] == 404
    assert error["details"]["body"].startswith('{"method": "POST"')
    assert len(error["details"]["body"]) == 1024, "a bounded excerpt, not the whole body"
    assert "traceback" not in error


async def test_failures_are_listed_latest_first_with_filters_and_a_cursor(api: Api) -> None:
    crash_workflow, crashed = await _run(api, CRASH)
    broken_workflow, broken = await _run(api, BROKEN)
    await _run(api, FINE)
    viewer = await api.user("viewer")

    async def failures(**query: Any) -> dict[str, Any]:
        response = await api.client.get(f"{WS}/failures", params=query, headers=viewer)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    page = await failures()
    assert [item["execution_id"] for item in page["items"]] == [broken, crashed]
    assert page["next"] is None
    latest = page["items"][0]
    assert latest == {
        "execution_id": broken,
        "workflow_id": broken_workflow,
        "workflow_name": "broken",
        "status": "failed",
        "step_id": "flaky",
        "node_type": "test.flaky",
        "attempt": 1,
        "error_kind": "test.broken",
        "error_message": "step 'flaky' failed: this never works",
        "retryable": False,
        "finished_at": latest["finished_at"],
    }
    assert [item["execution_id"] for item in (await failures(workflow=crash_workflow))["items"]] == [crashed]
    assert [item["execution_id"] for item in (await failures(node_type="test.crash"))["items"]] == [crashed]
    assert [item["execution_id"] for item in (await failures(error_kind="test.broken"))["items"]] == [broken]
    assert (await failures(error_kind="http.status"))["items"] == []
    assert [item["execution_id"] for item in (await failures(since=latest["finished_at"]))["items"]] == [broken]
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    assert (await failures(since=later.isoformat()))["items"] == []

    first = await failures(limit=1)
    assert [item["execution_id"] for item in first["items"]] == [broken]
    second = await failures(limit=1, cursor=first["next"])
    assert [item["execution_id"] for item in second["items"]] == [crashed]
    assert second["next"] is None


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"since": "2026-11-30T12:00:00"}, "since"),
        ({"node_type": "core http"}, "node_type"),
        ({"error_kind": "k" * 101}, "error_kind"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"limit": "0"}, "limit"),
    ],
)
async def test_a_bad_filter_of_the_failures_list_is_a_400_naming_it(
    api: Api, query: dict[str, str], parameter: str
) -> None:
    response = await api.client.get(f"{WS}/failures", params=query, headers=api.admin)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert parameter in response.text


async def test_the_failures_list_needs_execution_read_in_the_workspace(api: Api) -> None:
    assert (await api.client.get(f"{WS}/failures")).status_code == 401
    outsider = await api.user(None)
    assert (await api.client.get(f"{WS}/failures", headers=outsider)).status_code == 404
