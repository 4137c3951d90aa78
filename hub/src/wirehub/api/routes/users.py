"""Users and service accounts (permission ``user:manage``): create, list, read, disable, reset a password, delete.

A password is only ever received: no response, log line or audit entry carries it.
Disabling a user, resetting its password or deleting it ends its logins at once:
its refresh tokens are revoked and so are the access tokens issued with them.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wirehub.api import audit
from wirehub.api.problems import ApiError, ProblemItem, not_found
from wirehub.api.security import hash_password, needs, password_problem, principal_of, revoke_access_tokens
from wirehub.api.security.logins import end_sessions_of
from wirehub.api.services import HubServices
from wirehub.store import Membership, Role, User, UserExistsError, create_user

BASE = "/api/v1/users"
USERNAME = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")]
PASSWORD = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


class MembershipOut(msgspec.Struct, frozen=True):
    """A role a user holds in a workspace, or globally (``workspace_id`` is ``null``)."""

    id: UUID
    user_id: UUID
    workspace_id: UUID | None
    role: str


class UserOut(msgspec.Struct, frozen=True):
    """A user or service account (never its password).

    Attributes:
        service: A service account: it authenticates with API keys, never a password.
        disabled: Its tokens and keys are refused.
        memberships: The roles it holds.
    """

    id: UUID
    username: str
    service: bool
    disabled: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime
    memberships: list[MembershipOut]


class UserCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A new user: a person with a password, or a service account without one.

    Attributes:
        username: Letters, digits and ``. _ @ + -``, 100 at most.
        password: 12 to 1024 characters; required for a person, refused for a service account.
        service: A service account (API keys only).
    """

    username: USERNAME
    password: PASSWORD | None = None
    service: bool = False


class UserUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What to change; what is omitted stays.

    Attributes:
        disabled: Disable (every token and key refused at once) or enable the user.
        password: A new password (its logins end).
    """

    disabled: bool | None = None
    password: PASSWORD | None = None


async def memberships_of(session: AsyncSession, user_ids: list[UUID]) -> dict[UUID, list[MembershipOut]]:
    """The memberships of each user, with role names."""
    rows = await session.execute(
        select(Membership.id, Membership.user_id, Membership.workspace_id, Role.name)
        .join(Role, Role.id == Membership.role_id)
        .where(Membership.user_id.in_(user_ids))
        .order_by(Membership.created_at, Membership.id)
    )
    found: dict[UUID, list[MembershipOut]] = {user_id: [] for user_id in user_ids}
    for membership_id, user_id, workspace_id, role in rows:
        found[user_id].append(MembershipOut(membership_id, user_id, workspace_id, role))
    return found


def user_out(row: User, memberships: list[MembershipOut]) -> UserOut:
    """The API's view of a user row."""
    return UserOut(
        id=row.id,
        username=row.username,
        service=row.is_service,
        disabled=row.disabled,
        created_at=row.created_at,
        updated_at=row.updated_at,
        memberships=memberships,
    )


async def user_or_404(session: AsyncSession, user_id: UUID) -> User:
    """The user, or a 404."""
    row = await session.get(User, user_id)
    if row is None:
        raise not_found("the user")
    return row


def _check_password(password: str) -> None:
    problem = password_problem(password)
    if problem is not None:
        raise ApiError(
            422, "invalid-password", problem, errors=[ProblemItem(message=problem, code="invalid", pointer="/password")]
        )


@post(BASE, opt=needs("user:manage"), tags=["users"], summary="Create a user or service account")
async def create_user_route(
    data: JSONBody[UserCreate], services: NamedDependency[HubServices], request: Request[Any, Any, Any]
) -> UserOut:
    """Creates a person (with a password) or a service account (without); roles come with memberships."""
    if data.service and data.password is not None:
        raise ApiError(422, "invalid-user", "a service account has no password; it authenticates with API keys")
    if not data.service:
        if data.password is None:
            raise ApiError(422, "invalid-user", "a person needs a password (12 characters or more)")
        _check_password(data.password)
    password_hash = hash_password(data.password) if data.password is not None else None
    async with services.sessions.begin() as session:
        try:
            row = await create_user(session, data.username, password_hash=password_hash, is_service=data.service)
        except UserExistsError as exc:
            raise ApiError(409, "user-exists", f"a user named {data.username!r} exists already") from exc
        await audit.record(
            request, "user.create", target=("user", row.id), details={"service": data.service}, session=session
        )
        await session.refresh(row)
    return user_out(row, [])


@get(BASE, opt=needs("user:manage"), tags=["users"], summary="List users")
async def list_users(
    services: NamedDependency[HubServices],
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    service: FromQuery[bool | None] = None,
) -> list[UserOut]:
    """Users and service accounts by name, ``limit`` at a time from ``offset``; ``service`` filters the kind."""
    query = select(User).order_by(User.username).limit(limit).offset(offset)
    if service is not None:
        query = query.where(User.is_service.is_(service))
    async with services.sessions() as session:
        rows = (await session.scalars(query)).all()
        memberships = await memberships_of(session, [row.id for row in rows])
    return [user_out(row, memberships[row.id]) for row in rows]


@get(BASE + "/{user_id:uuid}", opt=needs("user:manage"), tags=["users"], summary="Get a user")
async def get_user(user_id: FromPath[UUID], services: NamedDependency[HubServices]) -> UserOut:
    """One user with its memberships."""
    async with services.sessions() as session:
        row = await user_or_404(session, user_id)
        memberships = await memberships_of(session, [row.id])
    return user_out(row, memberships[row.id])


@patch(BASE + "/{user_id:uuid}", opt=needs("user:manage"), tags=["users"], summary="Disable, enable or reset")
async def update_user(
    user_id: FromPath[UUID],
    data: JSONBody[UserUpdate],
    services: NamedDependency[HubServices],
    request: Request[Any, Any, Any],
) -> UserOut:
    """Disables or enables a user, or sets a new password; either ends its logins."""
    if data.disabled and user_id == principal_of(request).user_id:
        raise ApiError(409, "self-disable", "you cannot disable your own account")
    if data.password is not None:
        _check_password(data.password)
    password_hash = hash_password(data.password) if data.password is not None else None
    async with services.sessions.begin() as session:
        row = await user_or_404(session, user_id)
        changes: dict[str, Any] = {}
        if password_hash is not None:
            if row.is_service:
                raise ApiError(422, "invalid-user", "a service account has no password")
            row.password_hash = password_hash
            changes["password_reset"] = True
        if data.disabled is not None and data.disabled != row.disabled:
            row.disabled = data.disabled
            changes["disabled"] = data.disabled
        ended = await end_sessions_of(services, session, row.id) if changes.get("disabled") or password_hash else ()
        await audit.record(request, "user.update", target=("user", row.id), details=changes, session=session)
        await session.flush()
        await session.refresh(row)
        memberships = await memberships_of(session, [row.id])
    services.principals.forget_user(user_id)
    await revoke_access_tokens(request.app, ended, services.store.now())
    return user_out(row, memberships[row.id])


@delete(BASE + "/{user_id:uuid}", opt=needs("user:manage"), tags=["users"], summary="Delete a user")
async def delete_user(
    user_id: FromPath[UUID], services: NamedDependency[HubServices], request: Request[Any, Any, Any]
) -> None:
    """Deletes a user with its memberships, logins and API keys; its audit entries stay."""
    if user_id == principal_of(request).user_id:
        raise ApiError(409, "self-delete", "you cannot delete your own account")
    async with services.sessions.begin() as session:
        row = await user_or_404(session, user_id)
        ended = await end_sessions_of(services, session, row.id)
        await audit.record(
            request, "user.delete", target=("user", row.id), details={"username": row.username}, session=session
        )
        await session.delete(row)
    services.principals.forget_user(user_id)
    await revoke_access_tokens(request.app, ended, services.store.now())
