"""Users, roles and memberships as transactions: seeding the built-in roles, creating users."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wirehub.store.access import BUILTIN_ROLES, DEFAULT_WORKSPACE_ID, DEFAULT_WORKSPACE_NAME
from wirehub.store.errors import StoreError
from wirehub.store.models import Membership, Role, User, Workspace


class UserExistsError(StoreError):
    """A user with this name exists already."""

    def __init__(self, username: str) -> None:
        self.username = username
        super().__init__(f"a user named {username!r} exists already")


async def seed_access(session: AsyncSession) -> None:
    """Creates the built-in roles (or resets their permissions to the code's) and the default workspace."""
    existing = {role.name: role for role in (await session.scalars(select(Role).where(Role.builtin))).all()}
    for name, permissions in BUILTIN_ROLES.items():
        role = existing.get(name)
        if role is None:
            session.add(Role(name=name, permissions=list(permissions), builtin=True))
        elif list(role.permissions) != list(permissions):
            role.permissions = list(permissions)
    if await session.get(Workspace, DEFAULT_WORKSPACE_ID) is None:
        session.add(Workspace(id=DEFAULT_WORKSPACE_ID, name=DEFAULT_WORKSPACE_NAME))


async def role_named(session: AsyncSession, name: str) -> Role | None:
    """The role called ``name``, if any."""
    found: Role | None = await session.scalar(select(Role).where(Role.name == name))
    return found


async def user_named(session: AsyncSession, username: str) -> User | None:
    """The user called ``username``, if any."""
    found: User | None = await session.scalar(select(User).where(User.username == username))
    return found


async def create_user(
    session: AsyncSession,
    username: str,
    *,
    password_hash: str | None,
    role: str | None = None,
    workspace_id: UUID | None = None,
    is_service: bool = False,
) -> User:
    """Adds a user, with ``role`` in ``workspace_id`` (``None``: a global role) when given.

    Raises:
        UserExistsError: The name is taken.
        StoreError: No role has that name.
    """
    if await user_named(session, username) is not None:
        raise UserExistsError(username)
    user = User(username=username, password_hash=password_hash, is_service=is_service)
    session.add(user)
    await session.flush()
    if role is not None:
        found = await role_named(session, role)
        if found is None:
            raise StoreError(f"no role is named {role!r}")
        session.add(Membership(user_id=user.id, workspace_id=workspace_id, role_id=found.id))
    return user
