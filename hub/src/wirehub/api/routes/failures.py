"""A workspace's recent failures: failed and timed-out executions, with what failed and why."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from wirehub.api.pagination import TIME_ID, CursorParameter, PageSize, next_cursor, time_id
from wirehub.api.routes.execution_lists import Time, zoned
from wirehub.api.routes.executions import BASE, TAGS
from wirehub.api.security import needs
from wirehub.api.services import HubServices
from wirehub.store import FailureFilter, FailureRow, failure_page

_NAME = r"^[A-Za-z0-9_.:\-]+$"


class FailurePage(msgspec.Struct, frozen=True):
    """A page of failures, the latest to finish first.

    Attributes:
        next: Pass it as ``cursor`` for the next (older) page; ``null`` on the last one.
    """

    items: list[FailureRow]
    next: str | None


@get(BASE + "/failures", opt=needs("execution:read"), tags=TAGS, summary="List recent failures")
async def list_failures(
    workspace_id: FromPath[UUID],
    services: NamedDependency[HubServices],
    workflow: Annotated[UUID | None, QueryParameter(description="Only failures of this workflow.")] = None,
    node_type: Annotated[
        str | None,
        QueryParameter(
            min_length=1, max_length=200, pattern=_NAME, description="Only where a step of this node type failed."
        ),
    ] = None,
    error_kind: Annotated[
        str | None,
        QueryParameter(
            min_length=1, max_length=100, pattern=_NAME, description="Only errors of this kind (`http.status`...)."
        ),
    ] = None,
    since: Time = None,
    cursor: CursorParameter = None,
    limit: PageSize = 100,
) -> FailurePage:
    """The workspace's failed and timed-out executions, the latest to finish first: each with its
    workflow, the step that failed, its node type and attempt, the error's kind and message, and
    when it finished. ``since`` (inclusive, with a time zone) compares the finish time. A failure's
    details and an internal error's traceback are on the execution (`GET .../executions/{id}`)."""
    zoned("since", since)
    filters = FailureFilter(workflow_id=workflow, node_type=node_type, error_kind=error_kind, since=since)
    before = time_id(cursor) if cursor is not None else None
    async with services.sessions() as session:
        rows = await failure_page(session, workspace_id, filters, before=before, limit=limit + 1)
    return FailurePage(
        items=rows[:limit],
        next=next_cursor(rows, limit, lambda row: (row.finished_at, row.execution_id), TIME_ID),
    )


__all__ = ["FailurePage", "list_failures"]
