"""The executions list's indexes: newest first by (created_at, id), by workflow and by status

Revision ID: 0007_execution_list_indexes
Revises: 0006_error_reporting
Create Date: 2026-12-01

The list pages by ``(created_at, id)`` descending. Without an index on it, listing a
workspace's executions read every execution and sorted them. ``(created_at, id)`` serves a
workspace's list (walked backwards, each row's workflow checked for the workspace);
``(workflow_id, created_at, id)`` replaces ``(workflow_id, created_at)`` and serves a workflow's
list and a small workspace's (one short walk per workflow); ``(status, created_at, id)``
replaces ``(status)`` and serves the status filter. Building them locks writes to
``executions`` while it runs (a few seconds per million rows).
"""

from __future__ import annotations

from alembic import op

revision = "0007_execution_list_indexes"
down_revision = "0006_error_reporting"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_executions_created_at", "executions", ["created_at", "id"])
    op.drop_index("ix_executions_workflow_id", table_name="executions")
    op.create_index("ix_executions_workflow_id_created_at", "executions", ["workflow_id", "created_at", "id"])
    op.drop_index("ix_executions_status", table_name="executions")
    op.create_index("ix_executions_status_created_at", "executions", ["status", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_executions_status_created_at", table_name="executions")
    op.create_index("ix_executions_status", "executions", ["status"])
    op.drop_index("ix_executions_workflow_id_created_at", table_name="executions")
    op.create_index("ix_executions_workflow_id", "executions", ["workflow_id", "created_at"])
    op.drop_index("ix_executions_created_at", table_name="executions")
