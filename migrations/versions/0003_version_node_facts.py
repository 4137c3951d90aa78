"""What a saved version's plan takes from its node types, recorded beside its pinned definition

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30

Versions saved before have none (NULL); their plans are compiled against the
installed node types, as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# A migration is frozen: it names the types it creates and never imports the hub's models.
JSON_VALUE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("workflow_versions", sa.Column("node_facts", JSON_VALUE, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workflow_versions") as batch:
        batch.drop_column("node_facts")
