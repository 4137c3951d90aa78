"""Credentials of a workspace: secret fields encrypted with AES-256-GCM, the rest in clear

Revision ID: 0005_credentials
Revises: 0004
Create Date: 2026-11-30

The keys are not in the database: they come from ``WIREHUB_CREDENTIAL_KEYS`` (or the
embedded hub's ``.wirehub/credential.key``).
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op
from sqlalchemy.dialects import postgresql

# A migration is frozen: it names the types it creates and never imports the hub's models.
JSON_VALUE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0005_credentials"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credentials",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("workspace_id", GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=200), nullable=False),
        sa.Column("fields", JSON_VALUE, nullable=False),
        sa.Column("secret_names", JSON_VALUE, nullable=False),
        sa.Column("allowed_hosts", JSON_VALUE, nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("nonce", sa.LargeBinary(length=12), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_credentials_workspace_id_workspaces"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials")),
        sa.UniqueConstraint("workspace_id", "name", name=op.f("uq_credentials_workspace_id")),
    )
    op.create_index(op.f("ix_credentials_key_id"), "credentials", ["key_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_credentials_key_id"), table_name="credentials")
    op.drop_table("credentials")
