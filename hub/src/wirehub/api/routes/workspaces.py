"""The workspaces a caller may see."""

from __future__ import annotations

import datetime
from uuid import UUID

import msgspec
from litestar import Request, get
from litestar.di import NamedDependency
from sqlalchemy import select

from wirehub.api.security import needs, principal_of
from wirehub.api.services import HubServices
from wirehub.store import Workspace


class WorkspaceOut(msgspec.Struct, frozen=True):
    """A workspace.

    Attributes:
        allowed_node_types: Node types (or ``namespace.*``) its workflows may use; ``null``: all.
    """

    id: UUID
    name: str
    description: str | None
    allowed_node_types: list[str] | None
    archived: bool
    created_at: datetime.datetime


def workspace_out(row: Workspace) -> WorkspaceOut:
    """The API's view of a workspace row."""
    return WorkspaceOut(
        id=row.id,
        name=row.name,
        description=row.description,
        allowed_node_types=row.allowed_node_types,
        archived=row.archived,
        created_at=row.created_at,
    )


@get("/api/v1/workspaces", opt=needs("workspace:read", anywhere=True), tags=["workspaces"], summary="List workspaces")
async def list_workspaces(services: NamedDependency[HubServices], request: Request) -> list[WorkspaceOut]:  # type: ignore[type-arg]
    """The workspaces the caller is a member of (all of them for a global role)."""
    visible = principal_of(request).visible_workspaces("workspace:read")
    query = select(Workspace).order_by(Workspace.name)
    if visible is not None:
        query = query.where(Workspace.id.in_(visible))
    async with services.sessions() as session:
        rows = (await session.scalars(query)).all()
    return [workspace_out(row) for row in rows]
