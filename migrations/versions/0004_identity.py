"""Workspaces, users, roles and memberships; every workflow belongs to a workspace

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30

Workflows saved before belong to the ``default`` workspace this migration creates.
Built-in roles are seeded (and kept in step with the code) at startup, not here.
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op
from sqlalchemy.dialects import postgresql

# A migration is frozen: it names the types it creates and never imports the hub's models.
JSON_VALUE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
DEFAULT_WORKSPACE_ID = "00000000-0000-7000-8000-000000000001"

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _entity(name: str, *columns: sa.SchemaItem) -> None:
    op.create_table(
        name,
        sa.Column("id", GUID(length=16), nullable=False),
        *columns,
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
    )


def upgrade() -> None:
    _entity(
        "roles",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("permissions", JSON_VALUE, nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("name", name=op.f("uq_roles_name")),
    )
    _entity(
        "users",
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("is_service", sa.Boolean(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    _entity(
        "workspaces",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("allowed_node_types", JSON_VALUE, nullable=True),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("name", name=op.f("uq_workspaces_name")),
    )
    _entity(
        "memberships",
        sa.Column("user_id", GUID(length=16), nullable=False),
        sa.Column("workspace_id", GUID(length=16), nullable=True),
        sa.Column("role_id", GUID(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["role_id"], ["roles.id"], name=op.f("fk_memberships_role_id_roles"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memberships_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_memberships_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("user_id", "workspace_id", name=op.f("uq_memberships_user_id")),
    )
    op.create_index(
        "ix_memberships_global_user",
        "memberships",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("workspace_id IS NULL"),
        sqlite_where=sa.text("workspace_id IS NULL"),
    )
    op.create_index(op.f("ix_memberships_user_id"), "memberships", ["user_id"])

    now = datetime.datetime.now(datetime.UTC)
    workspaces = sa.table(
        "workspaces",
        sa.column("id", GUID(length=16)),
        sa.column("name", sa.String()),
        sa.column("archived", sa.Boolean()),
        sa.column("created_at", DateTimeUTC(timezone=True)),
        sa.column("updated_at", DateTimeUTC(timezone=True)),
    )
    op.bulk_insert(
        workspaces,
        [{"id": DEFAULT_WORKSPACE_ID, "name": "default", "archived": False, "created_at": now, "updated_at": now}],
    )

    with op.batch_alter_table("workflows") as batch:
        batch.add_column(
            sa.Column("workspace_id", GUID(length=16), nullable=False, server_default=DEFAULT_WORKSPACE_ID)
        )
        batch.add_column(sa.Column("archived", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("workflows") as batch:  # the defaults only filled the rows there were
        batch.alter_column("workspace_id", server_default=None)
        batch.alter_column("archived", server_default=None)
        batch.create_index(op.f("ix_workflows_workspace_id"), ["workspace_id", "name"])
        batch.create_foreign_key(
            op.f("fk_workflows_workspace_id_workspaces"), "workspaces", ["workspace_id"], ["id"], ondelete="RESTRICT"
        )


def downgrade() -> None:
    with op.batch_alter_table("workflows") as batch:
        batch.drop_constraint(op.f("fk_workflows_workspace_id_workspaces"), type_="foreignkey")
        batch.drop_index(op.f("ix_workflows_workspace_id"))
        batch.drop_column("archived")
        batch.drop_column("workspace_id")
    op.drop_index(op.f("ix_memberships_user_id"), table_name="memberships")
    op.drop_index("ix_memberships_global_user", table_name="memberships")
    op.drop_table("memberships")
    op.drop_table("workspaces")
    op.drop_table("users")
    op.drop_table("roles")
