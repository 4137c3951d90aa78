"""The store: the hub's tables, its database connection, migrations and workflow versions.

Nothing here runs at import time. The rest of the hub imports from here:

- ``database_engine`` / ``service_engine`` / ``session_factory``: SQLite (embedded) or PostgreSQL
  (asyncpg), JSON columns encoded by msgspec; ``WalCheckpoints``: a SQLite
  file's WAL checkpoints on a thread of their own.
- ``upgrade_database`` / ``downgrade_database`` / ``current_revision``: the
  Alembic migrations of ``migrations/``.
- ``WorkflowVersionService`` and ``PlanCache``: immutable, pinned versions and
  their compiled plans by (workflow, version).
- ``ExecutionStore``: executions as transactions (start, apply, cancel, retry), fenced
  claims of attempts (claim, renew, finish, hand_back) and the sweeper's
  transactions (sweep); ``Dispatch``, ``Claim``, ``Applied``, ``SweepResult``
  ``ExecutionView`` and ``ExecutionSummary`` are what it hands out; ``execution_page`` and ``history_page``
  read a workspace's executions and an execution's history a page at a time.
- ``ExecutionEvent``, ``EventPublisher`` and ``recorded_events``: what each
  committed transition publishes (``wirehub.store.events``) and the same
  events read back from the history.
- Access: ``PERMISSIONS``, ``BUILTIN_ROLES``, ``DEFAULT_WORKSPACE_ID``; ``seed_access``,
  ``create_user`` and the lookups of ``wirehub.store.identity``.
- Credentials: ``CredentialRows`` (a workspace's credentials, secrets sealed with
  AES-256-GCM), ``credential_for_execution``, ``rotate_credentials``, and the keys
  (``CredentialKeyring``, ``credential_keyring``).
- Authentication and audit: refresh tokens (``wirehub.store.refresh_tokens``: rotation,
  family revocation), API keys (``wirehub.store.api_keys``) and the audit log's pages
  (``wirehub.store.audit``).
- The models (``Credential``, ``ApiKey``, ``AuditEntry``, ``RefreshToken``, ``Workspace``, ``User``,
  ``Role``, ``Membership``, ``Workflow``,
  ``WorkflowVersion``, ``Execution``, ``StepRun``, ``HistoryEntry``, ``Timer``,
  ``DispatchRecord``) and their ``metadata``.
"""

from wirehub.store.access import BUILTIN_ROLES, DEFAULT_WORKSPACE_ID, PERMISSIONS
from wirehub.store.api_keys import API_KEY_PREFIX, api_key_digest, api_keys_of, create_api_key, usable_api_key
from wirehub.store.audit import AuditFilter, audit_page
from wirehub.store.checkpoints import WalCheckpoints
from wirehub.store.claims import FinishGroup
from wirehub.store.credential_keys import CredentialKeyring, credential_keyring
from wirehub.store.credentials import (
    CredentialExistsError,
    CredentialRows,
    CredentialSealError,
    credential_for_execution,
    rotate_credentials,
)
from wirehub.store.database import database_engine, database_url, service_engine, session_factory
from wirehub.store.errors import (
    ConcurrentTransitionError,
    ExecutionNotFoundError,
    IdempotencyConflictError,
    InvalidDefinitionError,
    InvalidInputError,
    NotRetryableError,
    StoreError,
    WorkflowNotFoundError,
)
from wirehub.store.events import EventPublisher, ExecutionEvent, recorded_events
from wirehub.store.execution_pages import (
    ExecutionFilter,
    ExecutionRow,
    HistoryRow,
    execution_page,
    execution_workspace,
    history_page,
)
from wirehub.store.executions import ExecutionStore, StartCheck, WorkflowFacts, workflow_facts
from wirehub.store.failures import FailureFilter, FailureRow, attempt_tracebacks, failure_page
from wirehub.store.identity import UserExistsError, create_user, role_named, seed_access, user_named
from wirehub.store.migrate import current_revision, downgrade_database, head_revision, upgrade_database
from wirehub.store.models import (
    ApiKey,
    AuditEntry,
    Credential,
    DispatchRecord,
    Execution,
    HistoryEntry,
    Membership,
    RefreshToken,
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
from wirehub.store.plans import CacheCounter, CacheStats, PlanCache, SharedVersions, VersionRecord
from wirehub.store.records import (
    Applied,
    Claim,
    Dispatch,
    ExecutionSummary,
    ExecutionView,
    StepRunView,
    SweepResult,
)
from wirehub.store.refresh_tokens import (
    REFRESH_TOKEN_PREFIX,
    LiveAccessToken,
    RefreshOutcome,
    RefreshUse,
    add_refresh_token,
    find_refresh_token,
    revoke_family,
    revoke_user_tokens,
    use_refresh_token,
)
from wirehub.store.transition import QUEUED_START_SECONDS
from wirehub.store.versions import WorkflowVersionService, content_hash

__all__ = [
    # Connecting
    "database_engine",
    "service_engine",
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
    "content_hash",
    # Executions
    "ExecutionStore",
    "FinishGroup",
    "StartCheck",
    "WorkflowFacts",
    "workflow_facts",
    "QUEUED_START_SECONDS",
    "Dispatch",
    "Claim",
    "Applied",
    "SweepResult",
    "ExecutionView",
    "ExecutionSummary",
    "StepRunView",
    "ExecutionFilter",
    "ExecutionRow",
    "HistoryRow",
    "execution_page",
    "execution_workspace",
    "history_page",
    "FailureFilter",
    "FailureRow",
    "attempt_tracebacks",
    "failure_page",
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
    # Credentials
    "CredentialKeyring",
    "credential_keyring",
    "CredentialRows",
    "CredentialExistsError",
    "CredentialSealError",
    "credential_for_execution",
    "rotate_credentials",
    # Authentication and audit
    "REFRESH_TOKEN_PREFIX",
    "LiveAccessToken",
    "RefreshOutcome",
    "RefreshUse",
    "add_refresh_token",
    "use_refresh_token",
    "find_refresh_token",
    "revoke_family",
    "revoke_user_tokens",
    "API_KEY_PREFIX",
    "create_api_key",
    "usable_api_key",
    "api_key_digest",
    "api_keys_of",
    "AuditFilter",
    "audit_page",
    # Tables
    "metadata",
    "Credential",
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
    "RefreshToken",
    "ApiKey",
    "AuditEntry",
    # Errors
    "StoreError",
    "InvalidDefinitionError",
    "WorkflowNotFoundError",
    "ExecutionNotFoundError",
    "InvalidInputError",
    "IdempotencyConflictError",
    "ConcurrentTransitionError",
    "NotRetryableError",
]
