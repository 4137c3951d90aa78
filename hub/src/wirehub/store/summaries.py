"""What the API shows of an execution: its columns, its workflow's workspace and its attempts (``ExecutionSummary``)."""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from wirehub.store.models import Workflow
from wirehub.store.records import ExecutionSummary, StepRunView
from wirehub.store.transition import EXECUTIONS, STEP_RUNS, sql

WORKFLOWS = cast(Table, Workflow.__table__)


def _step_runs(execution: Any) -> Any:
    s = STEP_RUNS.c
    columns = (s.step_id, s.attempt, s.status, s.input, s.output, s.error, s.scheduled_at, s.started_at, s.finished_at)
    return select(*columns, s.worker).where(s.execution_id == execution).order_by(s.created_at, s.step_id, s.attempt)


def step_runs_of(execution_id: UUID) -> Any:
    """Every attempt of the execution's steps, in the order they were made (``StepRunView``'s columns)."""
    return _step_runs(execution_id)


_e, _w = EXECUTIONS.c, WORKFLOWS.c
_SELECT_SUMMARY = (
    select(_e.workflow_id, _w.workspace_id, _e.workflow_version_id, _e.status, _e.input, _e.output, _e.error)
    .add_columns(_e.next_sequence, _e.created_at, _e.started_at, _e.finished_at)
    .join(WORKFLOWS, _w.id == _e.workflow_id)
    .where(_e.id == bindparam("b_execution"))
)
_SELECT_STEP_RUNS = _step_runs(bindparam("b_execution"))
"""Built once: read on every get of an execution, with its id as a parameter."""


async def read_summary(session: AsyncSession, execution_id: UUID) -> ExecutionSummary | None:
    """The execution's summary read in ``session`` (two statements), or ``None`` when there is no such execution."""
    parameters = {"b_execution": execution_id}
    row = (await sql(session, _SELECT_SUMMARY, parameters)).one_or_none()
    if row is None:
        return None
    runs = (await sql(session, _SELECT_STEP_RUNS, parameters)).all()
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
