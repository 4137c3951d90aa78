"""The hub's tables as SQLAlchemy models; ``metadata`` is what the migrations must match."""

from wirehub.store.models.audit import AuditEntry
from wirehub.store.models.auth import ApiKey, RefreshToken
from wirehub.store.models.base import Base, Entity, Record
from wirehub.store.models.credentials import Credential
from wirehub.store.models.executions import Execution, HistoryEntry, StaleEvent, StepRun
from wirehub.store.models.identity import Membership, Role, User, Workspace
from wirehub.store.models.scheduling import DispatchRecord, Timer
from wirehub.store.models.workflows import Workflow, WorkflowVersion

metadata = Base.metadata

__all__ = [
    "Base",
    "Entity",
    "Record",
    "metadata",
    "Workspace",
    "User",
    "Role",
    "Membership",
    "Credential",
    "RefreshToken",
    "ApiKey",
    "AuditEntry",
    "Workflow",
    "WorkflowVersion",
    "Execution",
    "StepRun",
    "HistoryEntry",
    "StaleEvent",
    "Timer",
    "DispatchRecord",
]
