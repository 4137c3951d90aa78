"""Error reporting: failures listed by error kind and node type; internal errors' tracebacks

Revision ID: 0006_error_reporting
Revises: 0005_auth
Create Date: 2026-12-01

``executions.error_kind`` and ``executions.error_node_type`` repeat what the
failures list filters on; the kind of an execution that failed before is
copied from its ``error`` record (its node type stays NULL: the record did not
name it). ``step_runs.traceback`` keeps an internal error's traceback apart
from the error record and the history.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_error_reporting"
down_revision = "0005_auth"
branch_labels = None
depends_on = None

_BACKFILL = {
    "postgresql": "UPDATE executions SET error_kind = left(error ->> 'kind', 100) WHERE error IS NOT NULL",
    "sqlite": "UPDATE executions SET error_kind = substr(json_extract(error, '$.kind'), 1, 100)"
    " WHERE error IS NOT NULL AND json_type(error) = 'object'",
}


def upgrade() -> None:
    op.add_column("executions", sa.Column("error_kind", sa.String(length=100), nullable=True))
    op.add_column("executions", sa.Column("error_node_type", sa.String(length=200), nullable=True))
    op.create_index("ix_executions_status_finished_at", "executions", ["status", "finished_at"])
    op.add_column("step_runs", sa.Column("traceback", sa.Text(), nullable=True))
    backfill = _BACKFILL.get(op.get_bind().dialect.name)
    if backfill is not None:
        op.execute(backfill)


def downgrade() -> None:
    with op.batch_alter_table("step_runs") as batch:
        batch.drop_column("traceback")
    op.drop_index("ix_executions_status_finished_at", table_name="executions")
    with op.batch_alter_table("executions") as batch:
        batch.drop_column("error_node_type")
        batch.drop_column("error_kind")
