"""Tracing: an execution's attempts share one trace (its id), spans are named by route template, requests link."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import msgspec
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.api.conftest import running_api
from tests.api.test_foundation import WS, _finished
from wirehub import tracing
from wirehub.runtime.registry import NodeRegistry
from wirehub.settings import Settings

TWO_STEPS = {
    "name": "two",
    "steps": [
        {"id": "first", "type": "core.transform", "config": {"expression": "{n: `1`}"}},
        {"id": "second", "type": "core.transform", "needs": ["first"], "config": {"expression": "{n: `2`}"}},
    ],
}
_EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Every span this process records, from here on (the provider is global: installed once)."""
    if not tracing._configured:
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        tracing.install_provider(provider)
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


async def test_an_execution_is_one_trace_and_the_request_that_started_it_links_to_it(
    spans: InMemorySpanExporter, api_settings: Settings, registry: NodeRegistry
) -> None:
    settings = msgspec.structs.replace(api_settings, tracing="console")
    async with running_api(settings, registry) as api:
        created = await api.client.post(f"{WS}/workflows", json=TWO_STEPS, headers=api.admin)
        url = f"{WS}/workflows/{created.json()['id']}/executions"
        started = await api.client.post(url, json={"input": {}}, headers=api.admin)
        execution_id = UUID(started.json()["id"])
        assert (await api.client.get(f"{WS}/workflows")).status_code == 401  # refused before routing
        assert (await _finished(api, str(execution_id)))["status"] == "succeeded"

    recorded = spans.get_finished_spans()
    steps = [span for span in recorded if span.name.startswith("step ")]
    assert sorted(span.name for span in steps) == ["step first", "step second"]
    assert {span.context.trace_id for span in steps} == {execution_id.int}
    assert {(span.attributes or {}).get("wirehub.outcome") for span in steps} == {"succeeded"}

    template = "POST /api/v1/workspaces/{workspace_id}/workflows/{workflow_id}/executions"
    (request,) = [span for span in recorded if span.name == template]
    assert [link.context.trace_id for link in request.links] == [execution_id.int]
    # No span is named by a raw path: ids never become span names.
    assert not [span.name for span in recorded if str(execution_id) in span.name or created.json()["id"] in span.name]
