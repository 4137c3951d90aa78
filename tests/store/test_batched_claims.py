"""A fan-out's dispatched branches that reach one worker together are claimed in one transaction."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.store.executions_support import Harness, make_harness
from wirehub.engine import StepSucceeded
from wirehub.plugins import Registry
from wirehub.store import Dispatch
from wirehub.store.models import DispatchRecord, HistoryEntry, StaleEvent

BRANCHES = 4
OUTBOX: Any = DispatchRecord.__table__
HISTORY: Any = HistoryEntry.__table__
STALE: Any = StaleEvent.__table__


@pytest.fixture
async def hub(migrated: AsyncEngine, registry: Registry) -> Harness:
    return make_harness(migrated, registry)


def _fan_out() -> dict[str, Any]:
    branches = [{"id": f"b{i}", "type": "core.transform", "needs": ["root"]} for i in range(BRANCHES)]
    return {"name": "fan", "steps": [{"id": "root", "type": "core.transform"}, *branches]}


async def _dispatched_branches(hub: Harness) -> list[Dispatch]:
    workflow_id = await hub.workflow(_fan_out())
    _, started = await hub.store.start(workflow_id, None, {})
    root = await hub.store.claim(started.dispatches[0], "w1")
    assert root is not None
    applied = await hub.store.finish(root, StepSucceeded("root", 1, root.claimed_at, output={}), worker="w1")
    assert len(applied.dispatches) == BRANCHES
    return applied.dispatches


async def test_claim_all_claims_each_branch_with_its_own_lease_in_one_commit(
    hub: Harness, migrated: AsyncEngine
) -> None:
    dispatches = await _dispatched_branches(hub)
    commits: list[object] = []

    def committed(connection: object) -> None:
        commits.append(connection)

    event.listen(migrated.sync_engine, "commit", committed)
    try:
        claims = await hub.store.claim_all(dispatches, "w2")
    finally:
        event.remove(migrated.sync_engine, "commit", committed)
    assert len(commits) == 1
    assert [claim.step_id if claim else None for claim in claims] == [d.step_id for d in dispatches]
    assert len({claim.lease_token for claim in claims if claim}) == BRANCHES
    assert await hub.count(OUTBOX) == 0  # each claim deleted its dispatch record
    execution_id = dispatches[0].execution_id
    started = await hub.count(HISTORY, execution_id=execution_id, event_type="step_started")
    assert started == 1 + BRANCHES  # the root's and one per branch
    for claim in claims:  # each claim is fenced by its own lease: its result is accepted
        assert claim is not None
        outcome = StepSucceeded(claim.step_id, 1, claim.claimed_at, output={})
        assert (await hub.store.finish(claim, outcome, worker="w2")).accepted


async def test_a_duplicate_or_claimed_dispatch_in_a_batch_is_refused_and_recorded_stale(hub: Harness) -> None:
    dispatches = await _dispatched_branches(hub)
    first = await hub.store.claim(dispatches[0], "w1")
    assert first is not None
    claims = await hub.store.claim_all([dispatches[0], dispatches[1], dispatches[1], dispatches[2]], "w2")
    assert claims[0] is None  # already held by w1
    assert claims[1] is not None
    assert claims[1].step_id == dispatches[1].step_id
    assert claims[2] is None  # the same attempt, delivered twice
    assert claims[3] is not None
    assert await hub.count(STALE) == 2


async def test_claim_all_refuses_dispatches_of_several_executions(hub: Harness) -> None:
    first = await _dispatched_branches(hub)
    second = await _dispatched_branches(hub)
    with pytest.raises(ValueError, match="one execution"):
        await hub.store.claim_all([first[0], second[0]], "w2")
