"""Who is calling: a user's permissions, globally and per workspace."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wirehub.store.models import Membership, Role, User


@dataclass(frozen=True)
class Principal:
    """An authenticated user or service account.

    Attributes:
        user_id: The user's id.
        username: The user's name.
        is_service: A service account (authenticated by an API key).
        global_permissions: Permissions that hold in every workspace and for what belongs to none.
        workspaces: The permissions held in each workspace the user is a member of.
        token_id: The ``jti`` of the access token, when authenticated by one.
        api_key_id: The API key's id, when authenticated by one.
    """

    user_id: UUID
    username: str
    is_service: bool = False
    global_permissions: frozenset[str] = frozenset()
    workspaces: Mapping[UUID, frozenset[str]] = field(default_factory=dict)
    token_id: str | None = None
    api_key_id: UUID | None = None

    def sees(self, workspace_id: UUID) -> bool:
        """Whether the workspace exists for this user: a member, or holding a global role."""
        return workspace_id in self.workspaces or bool(self.global_permissions)

    def permissions_in(self, workspace_id: UUID | None) -> frozenset[str]:
        """What the user may do in ``workspace_id`` (``None``: outside any workspace)."""
        if workspace_id is None:
            return self.global_permissions
        return self.global_permissions | self.workspaces.get(workspace_id, frozenset())

    def can(self, permission: str, workspace_id: UUID | None = None) -> bool:
        """Whether the user holds ``permission`` in ``workspace_id`` (or globally)."""
        return permission in self.permissions_in(workspace_id)

    def visible_workspaces(self, permission: str) -> frozenset[UUID] | None:
        """The workspaces where the user holds ``permission``; ``None`` means all of them (a global grant)."""
        if permission in self.global_permissions:
            return None
        return frozenset(ws for ws, granted in self.workspaces.items() if permission in granted)


async def load_principal(
    session: AsyncSession, user_id: UUID, *, token_id: str | None = None, api_key_id: UUID | None = None
) -> Principal | None:
    """The user's principal, or ``None`` when the user is unknown or disabled.

    Loaded from the database for each new access token or API key, then kept for under a
    second (``PrincipalCache``): a disabled user or a changed role takes effect
    within a second on every replica, at once on the one that changed it.
    """
    user = await session.get(User, user_id)
    if user is None or user.disabled:
        return None
    rows = await session.execute(
        select(Membership.workspace_id, Role.permissions)
        .join(Role, Role.id == Membership.role_id)
        .where(Membership.user_id == user_id)
    )
    global_permissions: frozenset[str] = frozenset()
    workspaces: dict[UUID, frozenset[str]] = {}
    for workspace_id, permissions in rows:
        granted = frozenset(permissions or ())
        if workspace_id is None:
            global_permissions |= granted
        else:
            workspaces[workspace_id] = workspaces.get(workspace_id, frozenset()) | granted
    return Principal(
        user_id=user.id,
        username=user.username,
        is_service=user.is_service,
        global_permissions=global_permissions,
        workspaces=workspaces,
        token_id=token_id,
        api_key_id=api_key_id,
    )
