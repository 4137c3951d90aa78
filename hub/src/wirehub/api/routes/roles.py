"""Roles (permission ``user:manage``): the built-in ones (fixed) and custom ones made of catalogue permissions."""

from __future__ import annotations

import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from wirehub.api import audit
from wirehub.api.problems import ApiError, ProblemItem, not_found
from wirehub.api.security import needs
from wirehub.api.services import HubServices
from wirehub.store import Membership, Role, role_named
from wirehub.store.access import unknown_permissions

BASE = "/api/v1/roles"
ROLE_NAME = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_-]{0,99}$")]
PERMISSION_LIST = Annotated[list[Annotated[str, msgspec.Meta(max_length=100)]], msgspec.Meta(max_length=100)]
DESCRIPTION = Annotated[str, msgspec.Meta(max_length=2000)]


class RoleOut(msgspec.Struct, frozen=True):
    """A role.

    Attributes:
        builtin: One of the hub's own roles: it cannot be changed or deleted.
        permissions: What it grants (``GET /schema`` and docs/api.md list them).
    """

    id: UUID
    name: str
    description: str | None
    permissions: list[str]
    builtin: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime


class RoleCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A custom role."""

    name: ROLE_NAME
    permissions: PERMISSION_LIST
    description: DESCRIPTION | None = None


class RoleUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What to change in a custom role; what is omitted stays."""

    permissions: PERMISSION_LIST | None = None
    description: DESCRIPTION | None = None


def _out(row: Role) -> RoleOut:
    return RoleOut(
        id=row.id,
        name=row.name,
        description=row.description,
        permissions=list(row.permissions),
        builtin=row.builtin,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _checked(permissions: list[str]) -> list[str]:
    unknown = unknown_permissions(permissions)
    if unknown:
        items = [
            ProblemItem(
                message=f"no permission is named {permissions[index]!r}",
                code="unknown-permission",
                pointer=f"/permissions/{index}",
            )
            for index, name in enumerate(permissions)
            if name in unknown
        ]
        raise ApiError(422, "unknown-permission", "the role names permissions that do not exist", errors=items)
    return sorted(set(permissions))


async def _custom_role(session: AsyncSession, role_id: UUID) -> Role:
    row = await session.get(Role, role_id)
    if row is None:
        raise not_found("the role")
    if row.builtin:
        raise ApiError(409, "builtin-role", f"{row.name} is a built-in role: it cannot be changed or deleted")
    return row


@get(BASE, opt=needs("user:manage"), tags=["roles"], summary="List roles")
async def list_roles(services: NamedDependency[HubServices]) -> list[RoleOut]:
    """Every role, built-in and custom, by name."""
    async with services.sessions() as session:
        return [_out(row) for row in (await session.scalars(select(Role).order_by(Role.name))).all()]


@post(BASE, opt=needs("user:manage"), tags=["roles"], summary="Create a role")
async def create_role(
    data: JSONBody[RoleCreate], services: NamedDependency[HubServices], request: Request[Any, Any, Any]
) -> RoleOut:
    """Creates a custom role from catalogue permissions."""
    permissions = _checked(data.permissions)
    async with services.sessions.begin() as session:
        if await role_named(session, data.name) is not None:
            raise ApiError(409, "role-exists", f"a role named {data.name!r} exists already")
        row = Role(name=data.name, description=data.description, permissions=permissions, builtin=False)
        session.add(row)
        await session.flush()
        await audit.record(
            request,
            "role.create",
            target=("role", row.id),
            details={"name": row.name, "permissions": permissions},
            session=session,
        )
        await session.refresh(row)
    return _out(row)


@patch(BASE + "/{role_id:uuid}", opt=needs("user:manage"), tags=["roles"], summary="Update a role")
async def update_role(
    role_id: FromPath[UUID],
    data: JSONBody[RoleUpdate],
    services: NamedDependency[HubServices],
    request: Request[Any, Any, Any],
) -> RoleOut:
    """Changes a custom role's permissions or description; its holders get the change within a second."""
    async with services.sessions.begin() as session:
        row = await _custom_role(session, role_id)
        if data.permissions is not None:
            row.permissions = _checked(data.permissions)
        if data.description is not None:
            row.description = data.description
        await audit.record(
            request,
            "role.update",
            target=("role", row.id),
            details={"name": row.name, "permissions": list(row.permissions)},
            session=session,
        )
        await session.flush()
        await session.refresh(row)
    services.principals.clear()  # every holder's permissions changed: at once on this replica
    return _out(row)


@delete(BASE + "/{role_id:uuid}", opt=needs("user:manage"), tags=["roles"], summary="Delete a role")
async def delete_role(
    role_id: FromPath[UUID], services: NamedDependency[HubServices], request: Request[Any, Any, Any]
) -> None:
    """Deletes a custom role nobody holds."""
    async with services.sessions.begin() as session:
        row = await _custom_role(session, role_id)
        holders = await session.scalar(select(func.count()).select_from(Membership).where(Membership.role_id == row.id))
        if holders:
            raise ApiError(409, "role-in-use", f"{holders} membership(s) grant this role; revoke them first")
        await audit.record(request, "role.delete", target=("role", row.id), details={"name": row.name}, session=session)
        await session.delete(row)
