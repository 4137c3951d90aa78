"""Memberships (permission ``user:manage``): grant a role to a user in a workspace or globally, list, revoke.

A user holds at most one role per workspace and one global role; granting
another replaces it. Changes apply from the user's next request.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy import select

from wirehub.api import audit
from wirehub.api.problems import ApiError, ProblemItem, not_found
from wirehub.api.routes.users import MembershipOut, user_or_404
from wirehub.api.security import needs
from wirehub.api.services import HubServices
from wirehub.store import Membership, Role, Workspace, role_named

BASE = "/api/v1/memberships"


class MembershipGrant(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A role to grant.

    Attributes:
        user_id: The user or service account.
        role: The role's name.
        workspace_id: The workspace; ``null`` grants the role globally (in every workspace,
            and over what belongs to none: users, roles, the audit log). Required, so a
            global grant is never an accident.
    """

    user_id: UUID
    role: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    workspace_id: UUID | None


@post(BASE, opt=needs("user:manage"), tags=["memberships"], summary="Grant a role", status_code=201)
async def grant_role(
    data: JSONBody[MembershipGrant], services: NamedDependency[HubServices], request: Request[Any, Any, Any]
) -> Response[MembershipOut]:
    """Grants a role (201), or replaces the role the user held there (200)."""
    async with services.sessions.begin() as session:
        await user_or_404(session, data.user_id)
        role = await role_named(session, data.role)
        if role is None:
            problem = f"no role is named {data.role!r}"
            raise ApiError(
                422,
                "unknown-role",
                problem,
                errors=[ProblemItem(message=problem, code="unknown-role", pointer="/role")],
            )
        if data.workspace_id is not None and await session.get(Workspace, data.workspace_id) is None:
            raise not_found("the workspace")
        where = (
            Membership.workspace_id.is_(None)
            if data.workspace_id is None
            else Membership.workspace_id == data.workspace_id
        )
        row = await session.scalar(select(Membership).where(Membership.user_id == data.user_id, where))
        created = row is None
        if row is None:
            row = Membership(user_id=data.user_id, workspace_id=data.workspace_id, role_id=role.id)
            session.add(row)
        else:
            row.role_id = role.id
        await session.flush()
        await audit.record(
            request,
            "membership.grant",
            target=("membership", row.id),
            workspace_id=data.workspace_id,
            details={"user_id": str(data.user_id), "role": role.name, "global": data.workspace_id is None},
            session=session,
        )
    services.principals.forget_user(data.user_id)  # the user's permissions changed: at once on this replica
    out = MembershipOut(row.id, row.user_id, row.workspace_id, role.name)
    return Response(out, status_code=201 if created else 200)


@get(BASE, opt=needs("user:manage"), tags=["memberships"], summary="List memberships")
async def list_memberships(
    services: NamedDependency[HubServices],
    user_id: FromQuery[UUID | None] = None,
    workspace_id: FromQuery[UUID | None] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 500,
) -> list[MembershipOut]:
    """Memberships, of one user or in one workspace when asked, oldest first."""
    query = (
        select(Membership.id, Membership.user_id, Membership.workspace_id, Role.name)
        .join(Role, Role.id == Membership.role_id)
        .order_by(Membership.created_at, Membership.id)
        .limit(limit)
    )
    if user_id is not None:
        query = query.where(Membership.user_id == user_id)
    if workspace_id is not None:
        query = query.where(Membership.workspace_id == workspace_id)
    async with services.sessions() as session:
        return [MembershipOut(*row) for row in await session.execute(query)]


@delete(BASE + "/{membership_id:uuid}", opt=needs("user:manage"), tags=["memberships"], summary="Revoke a role")
async def revoke_role(
    membership_id: FromPath[UUID], services: NamedDependency[HubServices], request: Request[Any, Any, Any]
) -> None:
    """Takes the role away; the user's next request no longer has its permissions."""
    async with services.sessions.begin() as session:
        row = await session.get(Membership, membership_id)
        if row is None:
            raise not_found("the membership")
        await audit.record(
            request,
            "membership.revoke",
            target=("membership", row.id),
            workspace_id=row.workspace_id,
            details={"user_id": str(row.user_id)},
            session=session,
        )
        await session.delete(row)
    services.principals.forget_user(row.user_id)
