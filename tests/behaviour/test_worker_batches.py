"""A distributed worker claims the branches that reach it while it claims one together, in one transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from tests.behaviour.conftest import RUN_WITHIN, SETTINGS, distributed_hub
from tests.runtime.testing_plugin import Calls
from wirehub.runtime.registry import NodeRegistry
from wirehub.store import Claim, Dispatch

BRANCHES = 8

FAN_OUT: dict[str, Any] = {
    "name": "fan-out",
    "steps": [
        {"id": "root", "type": "test.flaky", "config": {"failures": 0}},
        *({"id": f"b{i}", "type": "test.flaky", "config": {"failures": 0}, "needs": ["root"]} for i in range(BRANCHES)),
    ],
}


async def test_branches_read_while_one_is_claimed_are_claimed_together(
    registry: NodeRegistry, calls: Calls, postgresql_url: str, redis_url: str
) -> None:
    async with distributed_hub(SETTINGS, registry, postgresql_url, redis_url) as hub:
        runner = hub.worker.runner
        runner.eager = 1  # the root's result claims no branch: all eight go through the stream
        batches: list[int] = []
        claim_many = hub.store.claim_many

        async def counted(dispatches: Sequence[Dispatch], worker: str) -> list[Claim | None]:
            batches.append(len(dispatches))
            return await claim_many(dispatches, worker)

        hub.store.claim_many = counted  # type: ignore[method-assign]
        execution_id = await hub.start(await hub.save(FAN_OUT))
        async with asyncio.timeout(RUN_WITHIN):
            view = await hub.wait(execution_id)
    assert view.status == "succeeded"
    assert sorted(calls.attempts) == sorted(["root", *(f"b{i}" for i in range(BRANCHES))])
    assert all(attempts == [1] for attempts in calls.attempts.values())  # each branch ran once
    assert batches
    assert sum(batches) < BRANCHES
    assert max(batches) >= 2
