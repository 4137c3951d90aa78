"""Workspaces: those a caller may see, one of them; with `workspace:manage` held globally, create and change them."""

from __future__ import annotations

import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from sqlalchemy import select

from wirehub.api import audit
from wirehub.api.problems import ApiError, not_found
from wirehub.api.security import needs, principal_of
from wirehub.api.services import HubServices
from wirehub.store import Workspace

BASE = "/api/v1/workspaces"
WORKSPACE_NAME = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,99}$")]
NODE_TYPE_RULE = Annotated[
    str, msgspec.Meta(max_length=200, pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*|(\.[a-z][a-z0-9_]*))$")
]
NODE_TYPE_RULES = Annotated[list[NODE_TYPE_RULE], msgspec.Meta(max_length=500)]
DESCRIPTION = Annotated[str, msgspec.Meta(max_length=2000)]


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


class WorkspaceCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A new workspace.

    Attributes:
        name: Lowercase letters, digits and ``-``; unique.
        allowed_node_types: Node types (``core.http``) or namespaces (``core.*``) its workflows
            may use; ``null`` (the default) allows every installed type.
    """

    name: WORKSPACE_NAME
    description: DESCRIPTION | None = None
    allowed_node_types: NODE_TYPE_RULES | None = None


class WorkspaceUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What to change; what is omitted stays (``allowed_node_types: null`` allows every type).

    Attributes:
        archived: ``true`` archives the workspace (no new workflows or executions), ``false`` restores it.
    """

    name: WORKSPACE_NAME | msgspec.UnsetType = msgspec.UNSET
    description: DESCRIPTION | msgspec.UnsetType | None = msgspec.UNSET
    allowed_node_types: NODE_TYPE_RULES | msgspec.UnsetType | None = msgspec.UNSET
    archived: bool | msgspec.UnsetType = msgspec.UNSET


async def _name_taken(services: HubServices, name: str, but: UUID | None = None) -> bool:
    async with services.sessions() as session:
        found = await session.scalar(select(Workspace.id).where(Workspace.name == name))
    return found is not None and found != but


@post(BASE, opt=needs("workspace:manage"), tags=["workspaces"], summary="Create a workspace")
async def create_workspace(
    data: JSONBody[WorkspaceCreate], services: NamedDependency[HubServices], request: Request[Any, Any, Any]
) -> WorkspaceOut:
    """Creates a workspace; grant roles in it with ``POST /api/v1/memberships``."""
    if await _name_taken(services, data.name):
        raise ApiError(409, "workspace-exists", f"a workspace named {data.name!r} exists already")
    async with services.sessions.begin() as session:
        row = Workspace(name=data.name, description=data.description, allowed_node_types=data.allowed_node_types)
        session.add(row)
        await session.flush()
        await audit.record(
            request,
            "workspace.create",
            target=("workspace", row.id),
            workspace_id=row.id,
            details={"name": row.name, "allowed_node_types": row.allowed_node_types},
            session=session,
        )
        await session.refresh(row)
    return workspace_out(row)


@get(BASE + "/{workspace_id:uuid}", opt=needs("workspace:read"), tags=["workspaces"], summary="Get a workspace")
async def get_workspace(workspace_id: FromPath[UUID], services: NamedDependency[HubServices]) -> WorkspaceOut:
    """One workspace the caller is a member of."""
    async with services.sessions() as session:
        row = await session.get(Workspace, workspace_id)
    if row is None:
        raise not_found("the workspace")
    return workspace_out(row)


@patch(
    BASE + "/{workspace_id:uuid}",
    opt=needs("workspace:manage", globally=True),
    tags=["workspaces"],
    summary="Update or archive a workspace",
)
async def update_workspace(
    workspace_id: FromPath[UUID],
    data: JSONBody[WorkspaceUpdate],
    services: NamedDependency[HubServices],
    request: Request[Any, Any, Any],
) -> WorkspaceOut:
    """Renames, describes, restricts the node types of, archives or restores a workspace."""
    if isinstance(data.name, str) and await _name_taken(services, data.name, but=workspace_id):
        raise ApiError(409, "workspace-exists", f"a workspace named {data.name!r} exists already")
    changes = {name: value for name, value in msgspec.structs.asdict(data).items() if value is not msgspec.UNSET}
    async with services.sessions.begin() as session:
        row = await session.get(Workspace, workspace_id)
        if row is None:
            raise not_found("the workspace")
        for name, value in changes.items():
            setattr(row, name, value)
        archived = changes.get("archived")
        action = (
            "workspace.archive"
            if archived is True
            else "workspace.restore"
            if archived is False
            else "workspace.update"
        )
        await audit.record(request, action, target=("workspace", row.id), details=changes, session=session)
        await session.flush()
        await session.refresh(row)
    return workspace_out(row)
