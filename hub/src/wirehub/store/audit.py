"""Reading the audit log: filters and keyset pages, newest first, on ``(at, id)``."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from wirehub.store.models import AuditEntry


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to read; each ``None`` matches everything.

    Attributes:
        actor: An actor's name, or its id as text.
        action: An action (``user.create``), or every action of a resource with ``user.*``.
        target_type: The kind of object acted on.
        target_id: Its id.
        outcome: ``success``, ``failure`` or ``denied``.
        workspace_id: The workspace.
        since: At or after this time.
        until: Before this time.
    """

    actor: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    outcome: str | None = None
    workspace_id: UUID | None = None
    since: datetime.datetime | None = None
    until: datetime.datetime | None = None


def _conditions(filters: AuditFilter) -> list[Any]:
    conditions: list[Any] = []
    if filters.actor is not None:
        try:
            conditions.append(AuditEntry.actor_id == UUID(filters.actor))
        except ValueError:
            conditions.append(AuditEntry.actor_name == filters.actor)
    if filters.action is not None:
        if filters.action.endswith(".*"):
            conditions.append(AuditEntry.action.startswith(filters.action[:-1], autoescape=True))
        else:
            conditions.append(AuditEntry.action == filters.action)
    for column, value in (
        (AuditEntry.target_type, filters.target_type),
        (AuditEntry.target_id, filters.target_id),
        (AuditEntry.outcome, filters.outcome),
        (AuditEntry.workspace_id, filters.workspace_id),
    ):
        if value is not None:
            conditions.append(column == value)
    if filters.since is not None:
        conditions.append(AuditEntry.at >= filters.since)
    if filters.until is not None:
        conditions.append(AuditEntry.at < filters.until)
    return conditions


async def audit_page(
    session: AsyncSession,
    filters: AuditFilter,
    *,
    before: tuple[datetime.datetime, UUID] | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Up to ``limit`` entries matching ``filters``, newest first, older than ``before`` (a page's last key)."""
    conditions = _conditions(filters)
    if before is not None:
        at, entry_id = before
        conditions.append(or_(AuditEntry.at < at, and_(AuditEntry.at == at, AuditEntry.id < entry_id)))
    query = select(AuditEntry).where(*conditions).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())
