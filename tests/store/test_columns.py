"""The rows the durable runtime writes keep what it puts in them, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime
import uuid

import msgspec
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from wirehub.plugins import Registry
from wirehub.store import (
    Execution,
    HistoryEntry,
    PlanCache,
    StepRun,
    Timer,
    WorkflowVersionService,
    session_factory,
)

DEFINITION = {"name": "one", "steps": [{"id": "a", "type": "core.transform", "config": {"expression": "input"}}]}


class EngineState(msgspec.Struct, tag=True):
    """Stands for the engine's state: the store takes any msgspec Struct as it is."""

    status: str
    open_steps: list[str]


async def _execution(session: AsyncSession, registry: Registry) -> Execution:
    version = await WorkflowVersionService(session, registry, PlanCache()).create(DEFINITION)
    execution = Execution(
        workflow_id=version.workflow_id,
        workflow_version_id=version.id,
        status="running",
        input={"n": 1},
        state=EngineState(status="running", open_steps=["a"]),
    )
    session.add(execution)
    await session.flush()
    return execution


async def test_a_step_output_of_one_mebibyte_round_trips(migrated: AsyncEngine, registry: Registry) -> None:
    output = {"text": "é" * (512 * 1024), "items": list(range(1000)), "nested": {"ok": True, "none": None}}
    assert len(msgspec.json.encode(output)) > 1024 * 1024
    sessions = session_factory(migrated)
    async with sessions.begin() as session:
        execution = await _execution(session, registry)
        run = StepRun(execution_id=execution.id, step_id="a", attempt=1, status="succeeded", output=output)
        session.add(run)
    async with sessions() as session:
        stored = await session.scalar(select(StepRun.output).where(StepRun.id == run.id))
    assert stored == output


async def test_the_engine_state_is_stored_as_msgspec_encodes_it(migrated: AsyncEngine, registry: Registry) -> None:
    sessions = session_factory(migrated)
    async with sessions.begin() as session:
        execution = await _execution(session, registry)
    async with sessions() as session:
        raw = await session.scalar(select(Execution.state).where(Execution.id == execution.id))
    assert msgspec.convert(raw, EngineState) == EngineState(status="running", open_steps=["a"])
    assert uuid.UUID(str(execution.id)).version == 7


async def test_an_execution_updated_from_a_stale_copy_is_refused(migrated: AsyncEngine, registry: Registry) -> None:
    sessions = session_factory(migrated)
    async with sessions.begin() as session:
        execution = await _execution(session, registry)
    async with sessions() as first, sessions() as second:
        mine = await first.get_one(Execution, execution.id)
        theirs = await second.get_one(Execution, execution.id)
        mine.status = "succeeded"
        await first.commit()
        theirs.status = "failed"
        # PostgreSQL finds the version counter moved; SQLite (WAL) refuses earlier, when a transaction that
        # read an older snapshot tries to write (SQLITE_BUSY_SNAPSHOT, "database is locked").
        refusal = OperationalError if migrated.dialect.name == "sqlite" else StaleDataError
        with pytest.raises(refusal):
            await second.commit()
    async with sessions() as session:
        assert (await session.get_one(Execution, execution.id)).status == "succeeded"


async def test_a_history_sequence_number_and_a_timer_are_taken_once(migrated: AsyncEngine, registry: Registry) -> None:
    sessions = session_factory(migrated)
    due = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    async with sessions.begin() as session:
        execution = await _execution(session, registry)
        session.add(HistoryEntry(execution_id=execution.id, sequence=1, event_type="ExecutionStarted", event={}))
        session.add(Timer(execution_id=execution.id, kind="retry", step_id="a", attempt=1, due_at=due))
    for duplicate in (
        HistoryEntry(execution_id=execution.id, sequence=1, event_type="StepStarted", event={}),
        Timer(execution_id=execution.id, kind="retry", step_id="a", attempt=1, due_at=due),
    ):
        async with sessions() as session:
            session.add(duplicate)
            with pytest.raises(IntegrityError):
                await session.commit()
    async with sessions() as session:
        timer = await session.scalar(select(Timer).where(Timer.execution_id == execution.id))
    assert timer is not None
    assert timer.due_at == due
