"""The shared cache of saved versions: hits counted, an update started at once by every replica."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from redis.asyncio import Redis

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


async def test_an_update_is_started_at_once_by_every_replica_and_the_saved_versions_are_shared(
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
        # The second replica read the saved version from the database and kept it in the shared layer...
        assert (_stats(second).versions.hits, _stats(second).versions.misses) == (0, 1)
        # ...from which the first compiles its plan, without reading the version from the database.
        assert (await _start(first, workflow_id))["workflow_version_id"] == version_one
        assert (_stats(first).versions.hits, _stats(first).versions.misses) == (1, 0)
        assert (await _start(second, workflow_id))["workflow_version_id"] == version_one
        assert (_stats(second).plans.hits, _stats(second).plans.misses) == (1, 1)

        version_two = await _save_version(first, workflow_id, _definition("two"))
        # The next start on either replica runs the new version: a start reads the workflow's row.
        assert (await _start(second, workflow_id))["workflow_version_id"] == version_two
        assert (await _start(first, workflow_id))["workflow_version_id"] == version_two
        assert (_stats(second).versions.hits, _stats(second).versions.misses) == (0, 2)
        assert (_stats(first).versions.hits, _stats(first).versions.misses) == (2, 0)
        # A version asked for by number is started as before.
        pinned = await second.client.post(
            f"{WS}/workflows/{workflow_id}/executions", json={"input": {}, "version": 1}, headers=second.admin
        )
        assert pinned.json()["workflow_version_id"] == version_one

        # The saved versions are the only keys the replicas share of the workflow: none says which is the latest.
        async with Redis.from_url(redis_url) as redis:
            keys = sorted([key.decode() async for key in redis.scan_iter(match=f"{namespace}:*{workflow_id}*")])
        assert keys == [f"{namespace}:version:{workflow_id}:1", f"{namespace}:version:{workflow_id}:2"]


async def test_the_stats_count_plans_and_versions_and_estimate_the_time_saved(api: Api) -> None:
    created = await api.client.post(f"{WS}/workflows", json=_definition("one"), headers=api.admin)
    workflow_id = created.json()["id"]
    for _ in range(4):
        await _start(api, workflow_id)
    stats = _stats(api)
    assert (stats.plans.hits, stats.plans.misses) == (3, 1)
    assert (stats.versions.hits, stats.versions.misses) == (0, 1)  # the embedded hub's shared layer is in memory
    assert stats.plans.hit_rate == 0.75
    report = stats.as_dict()
    assert set(report) == {"plans", "versions"}
    assert report["plans"]["hits"] == 3
    assert report["plans"]["saved_seconds"] >= 0.0
