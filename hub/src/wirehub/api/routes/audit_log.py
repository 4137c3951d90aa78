"""Reading the audit log (permission ``audit:read``): filters and an opaque cursor, newest first."""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter

from wirehub.api.pagination import TIME_ID, CursorParameter, PageSize, next_cursor, time_id
from wirehub.api.problems import ApiError, ProblemItem
from wirehub.api.security import needs
from wirehub.api.services import HubServices
from wirehub.store import AuditEntry, AuditFilter, audit_page


class AuditEntryOut(msgspec.Struct, frozen=True):
    """One audited event.

    Attributes:
        at: When, by the store's clock.
        actor_id: The user or service account, when known.
        actor_name: Its name (or the name a failed login gave).
        action: ``<resource>.<verb>``, e.g. ``auth.login``, ``user.create``, ``access.denied``.
        outcome: ``success``, ``failure`` or ``denied``.
        client: The client's address.
        correlation_id: The request's correlation id (in the server's log too).
    """

    id: UUID
    at: datetime.datetime
    actor_id: UUID | None
    actor_name: str | None
    action: str
    target_type: str | None
    target_id: str | None
    workspace_id: UUID | None
    client: str | None
    outcome: str
    correlation_id: str | None
    details: Any


class AuditPage(msgspec.Struct, frozen=True):
    """A page of entries.

    Attributes:
        next_cursor: Pass it as ``cursor`` for the next (older) page; ``null`` on the last one.
    """

    items: list[AuditEntryOut]
    next_cursor: str | None


def _out(row: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        id=row.id,
        at=row.at,
        actor_id=row.actor_id,
        actor_name=row.actor_name,
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        workspace_id=row.workspace_id,
        client=row.client,
        outcome=row.outcome,
        correlation_id=row.correlation_id,
        details=row.details,
    )


@get("/api/v1/audit", opt=needs("audit:read"), tags=["audit"], summary="Read the audit log")
async def read_audit_log(
    services: NamedDependency[HubServices],
    actor: Annotated[str | None, QueryParameter(min_length=1, max_length=200)] = None,
    action: Annotated[str | None, QueryParameter(min_length=1, max_length=200)] = None,
    target_type: Annotated[str | None, QueryParameter(min_length=1, max_length=200)] = None,
    target_id: Annotated[str | None, QueryParameter(min_length=1, max_length=200)] = None,
    outcome: FromQuery[Literal["success", "failure", "denied"] | None] = None,
    workspace_id: Annotated[UUID | None, QueryParameter(name="workspace")] = None,
    since: FromQuery[datetime.datetime | None] = None,
    until: FromQuery[datetime.datetime | None] = None,
    cursor: CursorParameter = None,
    limit: PageSize = 100,
) -> AuditPage:
    """Entries newest first. ``actor`` is a name or an id; ``action`` an action or ``resource.*``;
    ``since`` (inclusive) and ``until`` (exclusive) are RFC 3339 times with a zone."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            problem = f"{name} needs a time zone (e.g. 2026-11-30T12:00:00Z)"
            raise ApiError(
                400,
                "invalid-request",
                problem,
                errors=[ProblemItem(message=problem, code="invalid-parameter", parameter=name)],
            )
    filters = AuditFilter(
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        outcome=outcome,
        workspace_id=workspace_id,
        since=since,
        until=until,
    )
    before = time_id(cursor) if cursor is not None else None
    async with services.sessions() as session:
        rows = await audit_page(session, filters, before=before, limit=limit + 1)
    return AuditPage(
        items=[_out(row) for row in rows[:limit]],
        next_cursor=next_cursor(rows, limit, lambda row: (row.at, row.id), TIME_ID),
    )
