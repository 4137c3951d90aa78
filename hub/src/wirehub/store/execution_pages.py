"""Reading executions a page at a time: a workspace's executions by filters, and one execution's history."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import Select, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from wirehub.store.models import Execution, HistoryEntry, Workflow


@dataclass(frozen=True)
class ExecutionFilter:
    """Which executions to list; each ``None`` matches everything.

    Attributes:
        workflow_id: Of this workflow.
        status: In this status (``running``, ``failed``...).
        started_after: Started (created) at or after this time.
        started_before: Started (created) before this time.
    """

    workflow_id: UUID | None = None
    status: str | None = None
    started_after: datetime.datetime | None = None
    started_before: datetime.datetime | None = None


class ExecutionRow(msgspec.Struct, frozen=True):
    """An execution as a list shows it: no input, output or steps."""

    id: UUID
    workflow_id: UUID
    workflow_version_id: UUID
    status: str
    error: Any
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None


class HistoryRow(msgspec.Struct, frozen=True):
    """One entry of an execution's history.

    Attributes:
        sequence: 1, 2, 3... without gaps.
        event_type: The event's type tag (``step_succeeded``...).
        event: The engine event as JSON.
        recorded_at: When the store recorded it (its clock).
    """

    sequence: int
    event_type: str
    event: Any
    recorded_at: datetime.datetime


_E = Execution
_LISTED = (
    _E.id,
    _E.workflow_id,
    _E.workflow_version_id,
    _E.status,
    _E.error,
    _E.created_at,
    _E.started_at,
    _E.finished_at,
)


async def execution_page(
    session: AsyncSession,
    workspace_id: UUID,
    filters: ExecutionFilter,
    *,
    before: tuple[datetime.datetime, UUID] | None = None,
    limit: int = 100,
) -> list[ExecutionRow]:
    """Up to ``limit`` executions of the workspace's workflows, newest first, older than ``before``."""
    query = execution_page_query(workspace_id, filters, before=before, limit=limit)
    return [ExecutionRow(*row) for row in (await session.execute(query)).all()]


def execution_page_query(
    workspace_id: UUID,
    filters: ExecutionFilter,
    *,
    before: tuple[datetime.datetime, UUID] | None = None,
    limit: int = 100,
) -> Select[Any]:
    """The statement of :func:`execution_page`.

    It walks an index on ``(created_at, id)`` backwards (alone, after ``workflow_id`` or after
    ``status``); the cursor is one row comparison, so a later page starts where the last ended
    instead of skipping the rows before it.
    """
    query = select(*_LISTED).join(Workflow, Workflow.id == _E.workflow_id).where(Workflow.workspace_id == workspace_id)
    if filters.workflow_id is not None:
        query = query.where(_E.workflow_id == filters.workflow_id)
    if filters.status is not None:
        query = query.where(_E.status == filters.status)
    if filters.started_after is not None:
        query = query.where(_E.created_at >= filters.started_after)
    if filters.started_before is not None:
        query = query.where(_E.created_at < filters.started_before)
    if before is not None:
        query = query.where(tuple_(_E.created_at, _E.id) < before)  # bound with the columns' types
    return query.order_by(_E.created_at.desc(), _E.id.desc()).limit(limit)


async def execution_workspace(session: AsyncSession, execution_id: UUID) -> UUID | None:
    """The workspace of an execution's workflow; ``None`` when there is no such execution."""
    query = select(Workflow.workspace_id).join(_E, _E.workflow_id == Workflow.id).where(_E.id == execution_id)
    found: UUID | None = await session.scalar(query)
    return found


async def history_page(
    session: AsyncSession, execution_id: UUID, *, after: int = 0, limit: int = 100
) -> list[HistoryRow]:
    """Up to ``limit`` history entries of the execution with a sequence number above ``after``, in order."""
    h = HistoryEntry
    query = (
        select(h.sequence, h.event_type, h.event, h.recorded_at)
        .where(h.execution_id == execution_id, h.sequence > after)
        .order_by(h.sequence)
        .limit(limit)
    )
    return [HistoryRow(*row) for row in (await session.execute(query)).all()]
