"""A worker's claims and results of several executions share one transaction (``claim_many``, ``finish_many``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import uuid4

import msgspec
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.store.executions_support import Harness, chain, make_harness
from wirehub.engine import StepSucceeded
from wirehub.plugins import Registry
from wirehub.store import Claim, Dispatch, FinishGroup
from wirehub.store.models import DispatchRecord, StaleEvent

OUTBOX: Any = DispatchRecord.__table__
STALE: Any = StaleEvent.__table__
EXECUTIONS = 3


@pytest.fixture
async def hub(migrated: AsyncEngine, registry: Registry) -> Harness:
    return make_harness(migrated, registry)


@contextmanager
def counting_commits(engine: AsyncEngine) -> Iterator[list[object]]:
    commits: list[object] = []

    def committed(connection: object) -> None:
        commits.append(connection)

    event.listen(engine.sync_engine, "commit", committed)
    try:
        yield commits
    finally:
        event.remove(engine.sync_engine, "commit", committed)


async def _first_dispatches(hub: Harness, count: int, length: int = 1) -> list[Dispatch]:
    workflow_id = await hub.workflow(chain(length))
    dispatches = []
    for number in range(count):
        _, started = await hub.store.start(workflow_id, None, {"n": number})
        dispatches.extend(started.dispatches)
    return dispatches


def _succeeded(claim: Claim) -> StepSucceeded:
    return StepSucceeded(claim.step_id, claim.attempt, claim.claimed_at, output={"done": claim.step_id})


async def test_claim_many_claims_the_dispatches_of_several_executions_in_one_commit(
    hub: Harness, migrated: AsyncEngine
) -> None:
    dispatches = await _first_dispatches(hub, EXECUTIONS)
    duplicate = dispatches[1]
    with counting_commits(migrated) as commits:
        claims = await hub.store.claim_many([*reversed(dispatches), duplicate], "w1")
    assert len(commits) == 1
    claimed = claims[:EXECUTIONS]
    assert [claim.execution_id if claim else None for claim in claimed] == [
        dispatch.execution_id for dispatch in reversed(dispatches)
    ]
    assert len({claim.lease_token for claim in claimed if claim}) == EXECUTIONS
    assert claims[EXECUTIONS] is None  # the duplicate of a dispatch claimed in the same batch: stale
    assert await hub.count(OUTBOX) == 0
    assert await hub.count(STALE) == 1


async def test_finish_many_records_results_of_several_executions_in_one_commit_a_stale_one_changing_nothing(
    hub: Harness, migrated: AsyncEngine
) -> None:
    dispatches = await _first_dispatches(hub, EXECUTIONS, length=2)
    claims = [claim for claim in await hub.store.claim_many(dispatches, "w1") if claim is not None]
    assert len(claims) == EXECUTIONS
    late = replace_token(claims[2])
    groups = [
        FinishGroup([(claims[0], _succeeded(claims[0]))], eager=1),
        FinishGroup([(claims[1], _succeeded(claims[1]))], eager=0),
        FinishGroup([(late, _succeeded(late))], eager=1),
    ]
    with counting_commits(migrated) as commits:
        recorded = await hub.store.finish_many(groups, worker="w1")
    assert len(commits) == 1
    first, second, stale = (group[0] for group in recorded)
    assert first.accepted
    assert [claim.step_id for claim in first.claims] == ["s1"]
    assert second.accepted
    assert [dispatch.step_id for dispatch in second.dispatches] == ["s1"]
    assert not stale.accepted
    assert await hub.count(STALE) == 1
    assert (await hub.store.get(claims[2].execution_id)).steps[0].status == "running"  # still the real claim's


async def test_finish_many_refuses_two_groups_of_one_execution(hub: Harness) -> None:
    [dispatch] = await _first_dispatches(hub, 1)
    claim = await hub.store.claim(dispatch, "w1")
    assert claim is not None
    group = FinishGroup([(claim, _succeeded(claim))])
    with pytest.raises(ValueError, match="two groups"):
        await hub.store.finish_many([group, group], worker="w1")


def replace_token(claim: Claim) -> Claim:
    """The claim with another lease token: a result that comes too late."""
    return msgspec.structs.replace(claim, lease_token=uuid4())


@contextmanager
def counting_reads(engine: AsyncEngine) -> Iterator[dict[str, int]]:
    """How many statements read each table (``SELECT ... FROM <table>``), by table."""
    reads: dict[str, int] = {}

    def executed(_connection: object, _cursor: object, statement: str, *_: object) -> None:
        text = " ".join(statement.split()).lower()
        if text.startswith("select"):
            table = text.split(" from ", 1)[1].split()[0]
            reads[table] = reads.get(table, 0) + 1

    event.listen(engine.sync_engine, "before_cursor_execute", executed)
    try:
        yield reads
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", executed)


async def test_a_batch_locks_its_executions_and_reads_their_attempts_and_outputs_in_one_statement_each(
    hub: Harness, migrated: AsyncEngine
) -> None:
    dispatches = await _first_dispatches(hub, EXECUTIONS, length=2)
    with counting_reads(migrated) as reads:
        claims = [claim for claim in await hub.store.claim_many(dispatches, "w1") if claim is not None]
    assert reads == {"executions": 1, "step_runs": 1}  # the locks, then the attempts' rows
    assert len(claims) == EXECUTIONS
    groups = [FinishGroup([(claim, _succeeded(claim))], eager=1) for claim in claims]
    recorded = await hub.store.finish_many(groups, worker="w1")
    last = [group[0].claims[0] for group in recorded]
    assert [claim.input for claim in last] == [{"done": "s0"}] * EXECUTIONS  # s0's output, s1's input
    # The last steps complete their executions, whose output reads every step's: one read for the three.
    with counting_reads(migrated) as reads:
        ended = await hub.store.finish_many([FinishGroup([(claim, _succeeded(claim))]) for claim in last])
    assert reads == {"executions": 1, "step_runs": 2}  # the locks, the attempts' lease tokens, the outputs
    assert [group[0].status for group in ended] == ["succeeded"] * EXECUTIONS
    for claim in last:
        view = await hub.store.get(claim.execution_id)
        assert view.output == {"s0": {"done": "s0"}, "s1": {"done": "s1"}}
