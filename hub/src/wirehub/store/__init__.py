"""The store: the hub's tables, its database connection, migrations and workflow versions.

Nothing here runs at import time. The rest of the hub imports from here:

- ``database_engine`` / ``session_factory``: SQLite (embedded) or PostgreSQL
  (asyncpg), JSON columns encoded by msgspec.
- ``upgrade_database`` / ``downgrade_database`` / ``current_revision``: the
  Alembic migrations of ``migrations/``.
- ``WorkflowVersionService`` and ``PlanCache``: immutable, pinned versions and
  their compiled plans by (workflow, version).
- The models (``Workflow``, ``WorkflowVersion``, ``Execution``, ``StepRun``,
  ``HistoryEntry``, ``Timer``, ``DispatchRecord``) and their ``metadata``.
"""

from wirehub.store.database import database_engine, database_url, session_factory
from wirehub.store.errors import InvalidDefinitionError, StoreError, WorkflowNotFoundError
from wirehub.store.migrate import current_revision, downgrade_database, head_revision, upgrade_database
from wirehub.store.models import (
    DispatchRecord,
    Execution,
    HistoryEntry,
    StepRun,
    Timer,
    Workflow,
    WorkflowVersion,
    metadata,
)
from wirehub.store.plans import PlanCache
from wirehub.store.versions import WorkflowVersionService, content_hash

__all__ = [
    # Connecting
    "database_engine",
    "database_url",
    "session_factory",
    # Migrations
    "upgrade_database",
    "downgrade_database",
    "current_revision",
    "head_revision",
    # Workflow versions and plans
    "WorkflowVersionService",
    "PlanCache",
    "content_hash",
    # Tables
    "metadata",
    "Workflow",
    "WorkflowVersion",
    "Execution",
    "StepRun",
    "HistoryEntry",
    "Timer",
    "DispatchRecord",
    # Errors
    "StoreError",
    "InvalidDefinitionError",
    "WorkflowNotFoundError",
]
