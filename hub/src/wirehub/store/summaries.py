"""What the API shows of an execution: its columns, its workflow's workspace and its attempts (``ExecutionSummary``)."""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from wirehub.store.models import Workflow
from wirehub.store.records import ExecutionSummary, StepRunView
from wirehub.store.transition import EXECUTIONS, STEP_RUNS, sql

WORKFLOWS = cast(Table, Workflow.__table__)


def step_runs_of(execution_id: UUID) -> Any:
    """Every attempt of the execution's steps, in the order they were made (``StepRunView``'s columns)."""
    s = STEP_RUNS.c
    columns = (s.step_id, s.attempt, s.status, s.input, s.output, s.error, s.scheduled_at, s.started_at, s.finished_at)
    return select(*columns, s.worker).where(s.execution_id == execution_id).order_by(s.created_at, s.step_id, s.attempt)


async def read_summary(session: AsyncSession, execution_id: UUID) -> ExecutionSummary | None:
    """The execution's summary read in ``session`` (two statements), or ``None`` when there is no such execution."""
    e, w = EXECUTIONS.c, WORKFLOWS.c
    columns = (e.workflow_id, w.workspace_id, e.workflow_version_id, e.status, e.input, e.output, e.error)
    times = (e.next_sequence, e.created_at, e.started_at, e.finished_at)
    query = select(*columns, *times).join(WORKFLOWS, w.id == e.workflow_id).where(e.id == execution_id)
    row = (await sql(session, query)).one_or_none()
    if row is None:
        return None
    runs = (await sql(session, step_runs_of(execution_id))).all()
    return ExecutionSummary(
        execution_id,
        row.workflow_id,
        row.workspace_id,
        row.workflow_version_id,
        row.status,
        row.input,
        row.output,
        row.error,
        [StepRunView(*run) for run in runs],
        row.next_sequence,
        row.created_at,
        row.started_at,
        row.finished_at,
    )
