"""Reading failures: a workspace's recent failed executions by filters, and internal errors' tracebacks."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from wirehub.engine import ExecutionStatus
from wirehub.store.models import Execution, StepRun, Workflow

FAILED_STATUSES = (str(ExecutionStatus.FAILED), str(ExecutionStatus.TIMED_OUT))
"""The statuses the failures list shows: a cancelled execution did not fail."""


@dataclass(frozen=True)
class FailureFilter:
    """Which failures to list; each ``None`` matches everything.

    Attributes:
        workflow_id: Of this workflow.
        node_type: Whose failed step has this node type.
        error_kind: Whose error has this kind (``http.status``, ``node.unexpected``...).
        since: Finished at or after this time.
    """

    workflow_id: UUID | None = None
    node_type: str | None = None
    error_kind: str | None = None
    since: datetime.datetime | None = None


class FailureRow(msgspec.Struct, frozen=True):
    """A failed (or timed-out) execution and what its error says.

    Attributes:
        execution_id: The execution.
        workflow_id: Its workflow.
        workflow_name: The workflow's name.
        status: ``failed`` or ``timed_out``.
        step_id: The step that failed; ``null`` when no step did (the execution's own timeout).
        node_type: That step's node type.
        attempt: The attempt that failed.
        error_kind: The error's kind.
        error_message: The error's message.
        retryable: Whether another attempt might have succeeded.
        finished_at: When the execution ended.
    """

    execution_id: UUID
    workflow_id: UUID
    workflow_name: str
    status: str
    step_id: str | None
    node_type: str | None
    attempt: int | None
    error_kind: str | None
    error_message: str | None
    retryable: bool
    finished_at: datetime.datetime | None


_E = Execution


def _row(execution_id: UUID, workflow_id: UUID, name: str, status: str, error: Any, finished: Any) -> FailureRow:
    error = error if isinstance(error, dict) else {}
    return FailureRow(
        execution_id=execution_id,
        workflow_id=workflow_id,
        workflow_name=name,
        status=status,
        step_id=error.get("step_id"),
        node_type=error.get("node_type"),
        attempt=error.get("attempt"),
        error_kind=error.get("kind"),
        error_message=error.get("message"),
        retryable=bool(error.get("retryable", False)),
        finished_at=finished,
    )


async def failure_page(
    session: AsyncSession,
    workspace_id: UUID,
    filters: FailureFilter,
    *,
    before: tuple[datetime.datetime, UUID] | None = None,
    limit: int = 100,
) -> list[FailureRow]:
    """Up to ``limit`` failures of the workspace's workflows, the latest to finish first, older than ``before``."""
    query = (
        select(_E.id, _E.workflow_id, Workflow.name, _E.status, _E.error, _E.finished_at)
        .join(Workflow, Workflow.id == _E.workflow_id)
        .where(Workflow.workspace_id == workspace_id, _E.status.in_(FAILED_STATUSES))
    )
    if filters.workflow_id is not None:
        query = query.where(_E.workflow_id == filters.workflow_id)
    if filters.node_type is not None:
        query = query.where(_E.error_node_type == filters.node_type)
    if filters.error_kind is not None:
        query = query.where(_E.error_kind == filters.error_kind)
    if filters.since is not None:
        query = query.where(_E.finished_at >= filters.since)
    if before is not None:
        at, execution_id = before
        query = query.where(or_(_E.finished_at < at, and_(_E.finished_at == at, _E.id < execution_id)))
    query = query.order_by(_E.finished_at.desc(), _E.id.desc()).limit(limit)
    return [_row(*row) for row in (await session.execute(query)).all()]


async def attempt_tracebacks(session: AsyncSession, execution_id: UUID) -> dict[tuple[str, int], str]:
    """The tracebacks of the execution's internal errors, by ``(step_id, attempt)``: for admins only."""
    query = select(StepRun.step_id, StepRun.attempt, StepRun.traceback).where(
        StepRun.execution_id == execution_id, StepRun.traceback.is_not(None)
    )
    return {(step_id, attempt): text for step_id, attempt, text in (await session.execute(query)).all()}
