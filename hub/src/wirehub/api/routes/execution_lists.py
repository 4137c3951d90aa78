"""Reading executions a page at a time: a workspace's executions by filters, and one execution's history."""

from __future__ import annotations

import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from wirehub.api.pagination import TIME_ID, CursorParameter, PageSize, next_cursor, time_id
from wirehub.api.problems import ApiError, ProblemItem
from wirehub.api.routes.executions import BASE, ONE, TAGS, execution_in
from wirehub.api.security import needs
from wirehub.api.services import HubServices
from wirehub.engine import ExecutionStatus
from wirehub.store import ExecutionFilter, ExecutionRow, HistoryRow, execution_page, history_page

Status = Annotated[
    ExecutionStatus | None,
    QueryParameter(description="Only executions in this status."),
]
Time = Annotated[
    datetime.datetime | None,
    QueryParameter(description="An RFC 3339 time with a zone (e.g. 2026-11-30T12:00:00Z)."),
]


class ExecutionPage(msgspec.Struct, frozen=True):
    """A page of executions, newest first.

    Attributes:
        next: Pass it as ``cursor`` for the next (older) page; ``null`` on the last one.
    """

    items: list[ExecutionRow]
    next: str | None


class HistoryPage(msgspec.Struct, frozen=True):
    """A page of an execution's history, in sequence order.

    Attributes:
        next_after: Pass it as ``after`` for the next page; ``null`` when this page reaches the end
            (so far: a running execution's history grows).
    """

    items: list[HistoryRow]
    next_after: int | None


def zoned(name: str, value: datetime.datetime | None) -> None:
    """A 400 with the parameter's name when ``value`` has no time zone."""
    if value is not None and value.tzinfo is None:
        problem = f"{name} needs a time zone (e.g. 2026-11-30T12:00:00Z)"
        raise ApiError(
            400,
            "invalid-request",
            problem,
            errors=[ProblemItem(message=problem, code="invalid-parameter", parameter=name)],
        )


@get(BASE + "/executions", opt=needs("execution:read"), tags=TAGS, summary="List executions")
async def list_executions(
    workspace_id: FromPath[UUID],
    services: NamedDependency[HubServices],
    workflow: Annotated[UUID | None, QueryParameter(description="Only executions of this workflow.")] = None,
    status: Status = None,
    started_after: Time = None,
    started_before: Time = None,
    cursor: CursorParameter = None,
    limit: PageSize = 100,
) -> ExecutionPage:
    """The workspace's executions, newest first, without their input, output and steps (get one for those).

    ``started_after`` is inclusive and ``started_before`` exclusive; both compare the time the
    execution was started (accepted), and need a time zone.
    """
    zoned("started_after", started_after)
    zoned("started_before", started_before)
    filters = ExecutionFilter(
        workflow_id=workflow,
        status=None if status is None else str(status),
        started_after=started_after,
        started_before=started_before,
    )
    before = time_id(cursor) if cursor is not None else None
    async with services.sessions() as session:
        rows = await execution_page(session, workspace_id, filters, before=before, limit=limit + 1)
    return ExecutionPage(
        items=rows[:limit], next=next_cursor(rows, limit, lambda row: (row.created_at, row.id), TIME_ID)
    )


@get(ONE + "/history", opt=needs("execution:read"), tags=TAGS, summary="Read an execution's history")
async def execution_history(
    workspace_id: FromPath[UUID],
    execution_id: FromPath[UUID],
    services: NamedDependency[HubServices],
    after: Annotated[
        int, QueryParameter(ge=0, le=2**31 - 1, description="Only entries with a sequence number above this.")
    ] = 0,
    limit: PageSize = 100,
) -> HistoryPage:
    """The execution's transitions, append-only, with their sequence numbers (the numbers the live
    WebSocket's events carry): each engine event, its type and when the store recorded it."""
    await execution_in(services, workspace_id, execution_id)
    async with services.sessions() as session:
        rows = await history_page(session, execution_id, after=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return HistoryPage(items=rows, next_after=rows[-1].sequence if more else None)


__all__ = ["ExecutionPage", "HistoryPage", "execution_history", "list_executions"]
