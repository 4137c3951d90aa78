"""Idempotent starts and the record of stale events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op
from sqlalchemy.dialects import postgresql

# A migration is frozen: it names the types it creates and never imports the hub's models.
JSON_VALUE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("executions", sa.Column("idempotency_key", sa.String(length=200), nullable=True))
    op.create_index(
        "ix_executions_idempotency_key", "executions", ["workflow_id", "idempotency_key"], unique=True
    )
    op.create_table(
        "stale_events",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("execution_id", GUID(length=16), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("event", JSON_VALUE, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["execution_id"], ["executions.id"], name=op.f("fk_stale_events_execution_id_executions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stale_events")),
    )
    op.create_index(op.f("ix_stale_events_execution_id"), "stale_events", ["execution_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_stale_events_execution_id"), table_name="stale_events")
    op.drop_table("stale_events")
    op.drop_index("ix_executions_idempotency_key", table_name="executions")
    with op.batch_alter_table("executions") as batch:
        batch.drop_column("idempotency_key")
