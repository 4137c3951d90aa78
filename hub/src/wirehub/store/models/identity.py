"""Workspaces, users, roles and who holds which role where."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from wirehub.store.models.base import JSON_VALUE, Entity


class Workspace(Entity):
    """A tenant: every workflow, execution and credential belongs to one.

    Attributes:
        name: Unique, URL-safe name.
        allowed_node_types: Node-type names (or ``namespace.*`` prefixes) its
            workflows may use; ``None`` allows every installed type.
        archived: An archived workspace accepts no new workflows or executions.
    """

    __tablename__ = "workspaces"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    allowed_node_types: Mapped[list[str] | None] = mapped_column(JSON_VALUE, default=None, nullable=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)


class User(Entity):
    """A person or a service account.

    Attributes:
        username: Unique login name.
        password_hash: argon2id hash; ``None`` for service accounts, which
            authenticate with API keys only.
        is_service: A service account (a machine client).
        disabled: A disabled user's tokens and keys are refused.
    """

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None, nullable=True)
    is_service: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class Role(Entity):
    """A named set of permissions (``wirehub.store.access.PERMISSIONS``).

    Attributes:
        name: Unique name.
        permissions: The permission names it grants.
        builtin: Seeded by the hub; its permissions are reset at startup and it cannot be deleted.
    """

    __tablename__ = "roles"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    permissions: Mapped[list[str]] = mapped_column(JSON_VALUE)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)


class Membership(Entity):
    """A user holds a role in one workspace, or everywhere (``workspace_id`` is ``None``).

    A global membership's permissions apply in every workspace and to what
    belongs to none (users, roles, the audit log).
    """

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("user_id", "workspace_id"),
        # One global role per user (NULLs are distinct to the constraint above).
        Index(
            "ix_memberships_global_user",
            "user_id",
            unique=True,
            postgresql_where=text("workspace_id IS NULL"),
            sqlite_where=text("workspace_id IS NULL"),
        ),
    )

    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    workspace_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=True, default=None
    )
    role_id: Mapped[UUID] = mapped_column(ForeignKey("roles.id", ondelete="RESTRICT"))
