"""``/metrics``: HTTP requests by route template, executions and step durations, behind ``metrics:read``."""

from __future__ import annotations

import asyncio
import re

from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import DEFAULT_WORKSPACE, Api
from tests.api.test_foundation import DEFINITION, WS, _finished


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(value for (metric, found), value in samples.items() if metric == name and wanted <= set(found))


async def test_metrics_count_executions_steps_and_requests_by_route_template(api: Api) -> None:
    before = _samples((await api.client.get("/metrics", headers=api.admin)).text)
    created = await api.client.post(f"{WS}/workflows", json=DEFINITION, headers=api.admin)
    workflow_id = created.json()["id"]
    started = await api.client.post(
        f"{WS}/workflows/{workflow_id}/executions", json={"input": {"name": "ada"}}, headers=api.admin
    )
    assert (await _finished(api, started.json()["id"]))["status"] == "succeeded"
    await asyncio.sleep(0)
    response = await api.client.get("/metrics", headers=api.admin)
    assert response.status_code == 200
    after = _samples(response.text)

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert grew("wirehub_executions_started_total", workflow=workflow_id) == 1
    assert grew("wirehub_executions_finished_total", workflow=workflow_id, status="succeeded") == 1
    assert grew("wirehub_step_duration_seconds_count", node_type="core.transform", outcome="succeeded") == 1
    template = "/api/v1/workspaces/{workspace_id}/workflows/{workflow_id}/executions"
    assert grew("wirehub_http_requests_total", path=template, method="POST") == 1
    # Raw paths never become labels: no execution or workflow id in any path label.
    paths = {dict(labels).get("path", "") for _, labels in after}
    assert not any(re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", path) for path in paths), paths
    assert str(DEFAULT_WORKSPACE) not in response.text


async def test_metrics_need_the_metrics_permission(api: Api) -> None:
    assert (await api.client.get("/metrics")).status_code == 401
    viewer = await api.user("viewer")
    assert (await api.client.get("/metrics", headers=viewer)).status_code == 403
