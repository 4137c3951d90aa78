"""A distributed worker runs at most ``worker_concurrency`` attempts, those claimed with results included."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec

from tests.behaviour.conftest import RUN_WITHIN, SETTINGS, distributed_hub
from tests.runtime.testing_plugin import Calls
from wirehub.runtime.registry import NodeRegistry

CONCURRENCY = 2
BRANCHES = 4


def _sleep(step_id: str, *needs: str) -> dict[str, Any]:
    return {"id": step_id, "type": "test.sleep", "config": {"seconds": 0.2}, "needs": list(needs)}


FAN_OUT: dict[str, Any] = {
    "name": "fan-out",
    "steps": [_sleep("root"), *(_sleep(f"b{i}", "root") for i in range(BRANCHES))],
}


async def test_eager_claims_and_messages_share_the_worker_s_slots(
    registry: NodeRegistry, calls: Calls, postgresql_url: str, redis_url: str
) -> None:
    settings = msgspec.structs.replace(SETTINGS, worker_concurrency=CONCURRENCY)
    async with distributed_hub(settings, registry, postgresql_url, redis_url) as hub:
        workflow_id = await hub.save(FAN_OUT)
        # Alone, the root's result claims as many branches as there are free slots; the
        # consumer must not read the remaining branches' messages into slots those took.
        alone = await hub.start(workflow_id)
        async with asyncio.timeout(RUN_WITHIN):
            views = [await hub.wait(alone)]
        together = [await hub.start(workflow_id) for _ in range(2)]
        async with asyncio.timeout(RUN_WITHIN):
            views += [await hub.wait(execution_id) for execution_id in together]
    assert [view.status for view in views] == ["succeeded"] * 3
    assert sum(len(attempts) for attempts in calls.attempts.values()) == 3 * (1 + BRANCHES)
    assert calls.most_sleeping == CONCURRENCY  # every slot used, never more
