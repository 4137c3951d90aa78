"""The shared cache of versions and latest-version pointers: hits counted, an update seen by every replica."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from tests.api.conftest import DEFAULT_WORKSPACE, Api, running_api
from tests.api.livews import in_app
from wirehub.runtime.registry import NodeRegistry
from wirehub.settings import Settings
from wirehub.store import CacheStats, WorkflowVersionService

WS = f"/api/v1/workspaces/{DEFAULT_WORKSPACE}"


def _definition(greeting: str) -> dict[str, Any]:
    return {
        "name": "greet",
        "steps": [{"id": "hello", "type": "core.transform", "config": {"expression": f"{{greeting: '{greeting}'}}"}}],
    }


async def _start(api: Api, workflow_id: str) -> dict[str, Any]:
    started = await api.client.post(f"{WS}/workflows/{workflow_id}/executions", json={"input": {}}, headers=api.admin)
    assert started.status_code == 201, started.text
    body: dict[str, Any] = started.json()
    return body


def _stats(api: Api) -> CacheStats:
    stats: CacheStats = api.client.app.state.services.cache_stats
    return stats


async def _save_version(api: Api, workflow_id: str, definition: dict[str, Any]) -> str:
    """Saves the workflow's next version as an update route does: in its transaction, through the service."""
    services = api.client.app.state.services

    async def save() -> str:
        async with services.sessions.begin() as session:
            saved = await WorkflowVersionService(session, services.registry, services.plans).save_version(
                uuid.UUID(workflow_id), msgspec.json.encode(definition)
            )
            return str(saved.id)

    return await in_app(api, save)


async def test_an_update_moves_the_latest_pointer_of_every_replica(
    api_settings: Settings, registry: NodeRegistry, postgresql_url: str, redis_url: str
) -> None:
    settings = msgspec.structs.replace(api_settings, database_url=postgresql_url)
    namespace = f"test-{uuid.uuid4().hex[:12]}"
    async with (
        running_api(settings, registry, redis_url=redis_url, namespace=namespace) as first,
        running_api(settings, registry, redis_url=redis_url, namespace=namespace) as second,
    ):
        created = await first.client.post(f"{WS}/workflows", json=_definition("one"), headers=first.admin)
        workflow_id = created.json()["id"]
        version_one = (await _start(second, workflow_id))["workflow_version_id"]
        assert (_stats(second).latest.misses, _stats(second).latest.hits) == (1, 0)
        assert (await _start(first, workflow_id))["workflow_version_id"] == version_one
        assert (await _start(second, workflow_id))["workflow_version_id"] == version_one
        assert _stats(first).latest.hits == 1  # the pointer the other replica read from the database
        assert _stats(second).latest.hits == 1

        version_two = await _save_version(first, workflow_id, _definition("two"))
        # The other replica starts the new version at once, still from the cache.
        assert (await _start(second, workflow_id))["workflow_version_id"] == version_two
        assert _stats(second).latest.hits == 2
        assert _stats(second).latest.misses == 1
        # A version asked for by number is not a latest lookup.
        pinned = await second.client.post(
            f"{WS}/workflows/{workflow_id}/executions", json={"input": {}, "version": 1}, headers=second.admin
        )
        assert pinned.json()["workflow_version_id"] == version_one
        assert _stats(second).latest.hits + _stats(second).latest.misses == 3


async def test_the_stats_count_plans_and_versions_and_estimate_the_time_saved(api: Api) -> None:
    created = await api.client.post(f"{WS}/workflows", json=_definition("one"), headers=api.admin)
    workflow_id = created.json()["id"]
    for _ in range(4):
        await _start(api, workflow_id)
    stats = _stats(api)
    assert stats.latest.misses == 1
    assert stats.latest.hits == 3
    assert stats.plans.hits >= 3
    assert 0.0 < stats.latest.hit_rate < 1.0
    report = stats.as_dict()
    assert set(report) == {"plans", "versions", "latest"}
    assert report["latest"]["hits"] == 3
    assert report["latest"]["saved_seconds"] >= 0.0
