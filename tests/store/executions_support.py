"""What the execution store's tests share: a clock the test moves, definitions, a store and a hand-driver."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from wirehub.engine import StepSucceeded
from wirehub.plugins import Registry
from wirehub.store import (
    Dispatch,
    ExecutionStore,
    PlanCache,
    WorkflowVersionService,
    session_factory,
)

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class Clock:
    """The store's clock in a test: it moves only when the test moves it."""

    def __init__(self, at: datetime = T0) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


def chain(length: int, **step: Any) -> dict[str, Any]:
    """A workflow of ``length`` steps, each needing the one before."""
    steps = []
    for index in range(length):
        item: dict[str, Any] = {"id": f"s{index}", "type": "core.transform", "config": {"expression": "input"}}
        if index:
            item["needs"] = [f"s{index - 1}"]
        steps.append({**item, **step})
    return {"name": f"chain-{length}", "steps": steps}


RETRY = {"retry": {"max_attempts": 3, "interval_seconds": 5, "retry_on": ["http", "timeout"]}}


@dataclass
class Harness:
    store: ExecutionStore
    clock: Clock
    engine: AsyncEngine
    registry: Registry

    async def workflow(self, definition: dict[str, Any]) -> UUID:
        async with session_factory(self.engine, writes=True).begin() as session:
            version = await WorkflowVersionService(session, self.registry, self.store.plans).create(definition)
        return version.workflow_id

    async def count(self, table: Any, **where: Any) -> int:
        query = select(func.count()).select_from(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        async with session_factory(self.engine)() as session:
            return int((await session.execute(query)).scalar_one())

    async def run_by_hand(self, dispatches: list[Dispatch], worker: str = "w1") -> int:
        """Claims and finishes every dispatch and what follows, until none is left; returns how many ran."""
        ran = 0
        pending = list(dispatches)
        while pending:
            dispatch = pending.pop(0)
            claim = await self.store.claim(dispatch, worker)
            assert claim is not None
            applied = await self.store.finish(
                claim, StepSucceeded(dispatch.step_id, dispatch.attempt, claim.claimed_at, output={"n": ran})
            )
            assert applied.accepted
            pending += applied.dispatches
            ran += 1
        return ran


def make_harness(engine: AsyncEngine, registry: Registry, **options: Any) -> Harness:
    clock = Clock()
    options.setdefault("lease_seconds", 30.0)
    options.setdefault("redelivery_seconds", 10.0)
    store = ExecutionStore(session_factory(engine, writes=True), PlanCache(), clock, catalog=registry, **options)
    return Harness(store, clock, engine, registry)
