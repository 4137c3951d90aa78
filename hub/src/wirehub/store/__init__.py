"""The store: the hub's tables, its database connection, migrations and workflow versions.

Nothing here runs at import time. The rest of the hub imports from here:

- ``database_engine`` / ``session_factory``: SQLite (embedded) or PostgreSQL
  (asyncpg), JSON columns encoded by msgspec; ``WalCheckpoints``: a SQLite
  file's WAL checkpoints on a thread of their own.
- ``upgrade_database`` / ``downgrade_database`` / ``current_revision``: the
  Alembic migrations of ``migrations/``.
- ``WorkflowVersionService`` and ``PlanCache``: immutable, pinned versions and
  their compiled plans by (workflow, version).
- ``ExecutionStore``: executions as transactions (start, apply, cancel), fenced
  claims of attempts (claim, renew, finish, hand_back) and the sweeper's
  transactions (sweep); ``Dispatch``, ``Claim``, ``Applied``, ``SweepResult``
  and ``ExecutionView`` are what it hands out.
- ``ExecutionEvent``, ``EventPublisher`` and ``recorded_events``: what each
  committed transition publishes (``wirehub.store.events``) and the same
  events read back from the history.
- Access: ``PERMISSIONS``, ``BUILTIN_ROLES``, ``DEFAULT_WORKSPACE_ID``; ``seed_access``,
  ``create_user`` and the lookups of ``wirehub.store.identity``.
- The models (``Workspace``, ``User``, ``Role``, ``Membership``, ``Workflow``,
  ``WorkflowVersion``, ``Execution``, ``StepRun``, ``HistoryEntry``, ``Timer``,
  ``DispatchRecord``) and their ``metadata``.
"""

from wirehub.store.access import BUILTIN_ROLES, DEFAULT_WORKSPACE_ID, PERMISSIONS
from wirehub.store.checkpoints import WalCheckpoints
from wirehub.store.database import database_engine, database_url, session_factory
from wirehub.store.errors import (
    ConcurrentTransitionError,
    ExecutionNotFoundError,
    IdempotencyConflictError,
    InvalidDefinitionError,
    InvalidInputError,
    StoreError,
    WorkflowNotFoundError,
)
from wirehub.store.events import EventPublisher, ExecutionEvent, recorded_events
from wirehub.store.executions import ExecutionStore
from wirehub.store.identity import UserExistsError, create_user, role_named, seed_access, user_named
from wirehub.store.migrate import current_revision, downgrade_database, head_revision, upgrade_database
from wirehub.store.models import (
    DispatchRecord,
    Execution,
    HistoryEntry,
    Membership,
    Role,
    StaleEvent,
    StepRun,
    Timer,
    User,
    Workflow,
    WorkflowVersion,
    Workspace,
    metadata,
)
from wirehub.store.plans import CacheCounter, CacheStats, PlanCache, SharedVersions, VersionRecord, VersionRef
from wirehub.store.records import Applied, Claim, Dispatch, ExecutionView, StepRunView, SweepResult
from wirehub.store.versions import WorkflowVersionService, content_hash

__all__ = [
    # Connecting
    "database_engine",
    "database_url",
    "session_factory",
    "WalCheckpoints",
    # Migrations
    "upgrade_database",
    "downgrade_database",
    "current_revision",
    "head_revision",
    # Workflow versions and plans
    "WorkflowVersionService",
    "PlanCache",
    "CacheStats",
    "CacheCounter",
    "SharedVersions",
    "VersionRecord",
    "VersionRef",
    "content_hash",
    # Executions
    "ExecutionStore",
    "Dispatch",
    "Claim",
    "Applied",
    "SweepResult",
    "ExecutionView",
    "StepRunView",
    # Events
    "ExecutionEvent",
    "EventPublisher",
    "recorded_events",
    # Access
    "PERMISSIONS",
    "BUILTIN_ROLES",
    "DEFAULT_WORKSPACE_ID",
    "seed_access",
    "create_user",
    "user_named",
    "role_named",
    "UserExistsError",
    # Tables
    "metadata",
    "Workspace",
    "User",
    "Role",
    "Membership",
    "Workflow",
    "WorkflowVersion",
    "Execution",
    "StepRun",
    "HistoryEntry",
    "Timer",
    "DispatchRecord",
    "StaleEvent",
    # Errors
    "StoreError",
    "InvalidDefinitionError",
    "WorkflowNotFoundError",
    "ExecutionNotFoundError",
    "InvalidInputError",
    "IdempotencyConflictError",
    "ConcurrentTransitionError",
]
