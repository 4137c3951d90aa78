"""What the hub answers, as typed values. Unknown fields are ignored, so a newer hub does not break the client."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled", "timed_out"})
"""The statuses of an execution that is over."""


@dataclass(frozen=True)
class Tokens:
    """A login: an access token and the refresh token that renews it (neither is shown by ``repr``).

    Attributes:
        access_token: Sent as ``Authorization: Bearer ...``.
        refresh_token: Exchanged once for the next pair.
        expires_at: When the access token expires (seconds since the epoch).
        refresh_expires_at: When the refresh token expires.
    """

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float
    refresh_expires_at: float

    @classmethod
    def from_response(cls, body: dict[str, Any], now: float | None = None) -> Tokens:
        """The tokens of a ``/auth/token`` or ``/auth/refresh`` answer."""
        now = time.time() if now is None else now
        return cls(
            access_token=str(body["access_token"]),
            refresh_token=str(body["refresh_token"]),
            expires_at=now + float(body["expires_in"]),
            refresh_expires_at=now + float(body["refresh_expires_in"]),
        )

    def expired(self, margin: float = 10.0) -> bool:
        """Whether the access token expires within ``margin`` seconds."""
        return time.time() + margin >= self.expires_at

    def to_dict(self) -> dict[str, Any]:
        """The tokens as JSON-ready values (to store them)."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at,
            "refresh_expires_at": self.refresh_expires_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tokens:
        """Tokens stored by ``to_dict``."""
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=str(data["refresh_token"]),
            expires_at=float(data["expires_at"]),
            refresh_expires_at=float(data["refresh_expires_at"]),
        )


class Workspace(msgspec.Struct, frozen=True):
    """A workspace: workflows, executions and credentials live in one."""

    id: UUID
    name: str
    description: str | None = None
    archived: bool = False


class Workflow(msgspec.Struct, frozen=True):
    """A workflow; what it does is in its versions.

    Attributes:
        latest_version: The number of its newest version.
    """

    id: UUID
    name: str
    workspace_id: UUID | None = None
    description: str | None = None
    latest_version: int = 1
    archived: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None


class WorkflowPage(msgspec.Struct, frozen=True):
    """One page of workflows, by name; pass ``next`` as ``cursor`` for the following one (``None`` on the last)."""

    items: list[Workflow]
    next: str | None = None


class WorkflowVersion(msgspec.Struct, frozen=True):
    """One saved, immutable version of a workflow.

    Attributes:
        id: What an execution's ``workflow_version_id`` names.
        content_hash: SHA-256 of its pinned definition: equal hashes, equal definitions.
        definition: The definition as saved, every step's ``type_version`` pinned (``None`` in a
            list of versions, which leaves it out).
    """

    id: UUID
    workflow_id: UUID
    version: int
    content_hash: str = ""
    created_at: datetime | None = None
    definition: dict[str, Any] | None = None


class VersionPage(msgspec.Struct, frozen=True):
    """One page of a workflow's versions, newest first; ``next`` continues it (``None`` on the last)."""

    items: list[WorkflowVersion]
    next: str | None = None


class Validation(msgspec.Struct, frozen=True):
    """A definition the hub would save as it is (an invalid one is an ``InvalidRequestError``).

    Attributes:
        definition: The definition as it would be saved, pinned.
    """

    valid: bool
    definition: dict[str, Any]


class StepRun(msgspec.Struct, frozen=True):
    """One attempt of one step."""

    step_id: str
    attempt: int = 0
    status: str = ""
    input: Any = None
    output: Any = None
    error: Any = None
    scheduled_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    worker: str | None = None


class Execution(msgspec.Struct, frozen=True):
    """An execution of a workflow version.

    Attributes:
        status: ``pending``, ``running``, or (over) ``succeeded``, ``failed``, ``cancelled``, ``timed_out``.
        error: Why it failed: ``kind``, ``message``, the step and attempt, the node's details.
        sequence: The sequence number of its latest history entry: stream ``after`` it for what is new.
        steps: Every attempt of every step (empty in list pages that leave them out).
    """

    id: UUID
    workflow_id: UUID | None = None
    workflow_version_id: UUID | None = None
    status: str = ""
    input: Any = None
    output: Any = None
    error: Any = None
    sequence: int = 0
    steps: list[StepRun] = msgspec.field(default_factory=list)
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def finished(self) -> bool:
        """Whether the execution is over."""
        return self.status in TERMINAL_STATUSES

    @property
    def succeeded(self) -> bool:
        """Whether it ended successfully."""
        return self.status == "succeeded"


class ExecutionPage(msgspec.Struct, frozen=True):
    """One page of executions; ``next`` fetches the following one (``None`` on the last)."""

    items: list[Execution]
    next: str | None = None


class Failure(msgspec.Struct, frozen=True):
    """A failed or timed-out execution, flat: what failed and why (``GET .../failures``).

    Attributes:
        execution_id: The execution (``Client.execution`` has its details, the traceback for admins).
        workflow_id: Its workflow.
        workflow_name: The workflow's name.
        status: ``failed`` or ``timed_out``.
        step_id: The step that failed; ``None`` when no step did (the execution's own timeout).
        node_type: That step's node type.
        attempt: The attempt that failed.
        error_kind: The error's kind (``http.status``, ``timeout``...).
        error_message: The error's message.
        retryable: Whether another attempt might have succeeded.
        finished_at: When the execution ended.
    """

    execution_id: UUID
    workflow_id: UUID | None = None
    workflow_name: str | None = None
    status: str = ""
    step_id: str | None = None
    node_type: str | None = None
    attempt: int | None = None
    error_kind: str | None = None
    error_message: str | None = None
    retryable: bool = False
    finished_at: datetime | None = None


class FailurePage(msgspec.Struct, frozen=True):
    """One page of failures, the latest to finish first; ``next`` fetches the older ones (``None`` on the last)."""

    items: list[Failure]
    next: str | None = None


class HistoryEntry(msgspec.Struct, frozen=True):
    """One entry of an execution's append-only history.

    Attributes:
        sequence: 1, 2, 3... without gaps: the numbers live events carry.
        event_type: ``execution_started``, ``step_succeeded``, ``retry_requested``...
        event: The event itself (``step_id``, ``attempt``, ``output``, ``error``...).
        recorded_at: When the hub recorded it, on its clock.
    """

    sequence: int
    event_type: str = ""
    event: dict[str, Any] = msgspec.field(default_factory=dict)
    recorded_at: datetime | None = None

    @property
    def step_id(self) -> str | None:
        """The step the entry concerns, if one."""
        value = self.event.get("step_id")
        return value if isinstance(value, str) else None


class HistoryPage(msgspec.Struct, frozen=True):
    """One page of history, in sequence order.

    Attributes:
        next_after: Pass it as ``after`` for the next page; ``None`` when this page reaches the last
            entry so far (a running execution's history grows: ask again later with the last ``sequence``).
    """

    items: list[HistoryEntry]
    next_after: int | None = None


class LiveEvent(msgspec.Struct, frozen=True):
    """One event of an execution, streamed as it happened.

    Attributes:
        sequence: Its position in the execution's history (1, 2, ...); resume after it.
        event_type: ``execution_started``, ``step_started``, ``step_succeeded``, ``step_failed``...
        event: The event itself (``step_id``, ``attempt``, ``output``, ``error``...).
        status: The execution's status after the event.
        at: When it happened, on the hub's clock.
    """

    execution_id: UUID
    workflow_id: UUID
    sequence: int
    event_type: str
    event: dict[str, Any]
    status: str
    at: datetime
    subscription: str = ""

    @property
    def step_id(self) -> str | None:
        """The step the event concerns, if one."""
        value = self.event.get("step_id")
        return value if isinstance(value, str) else None


class NodePlugin(msgspec.Struct, frozen=True):
    """The plugin that provides a node type, as the hub loaded it.

    Attributes:
        state: ``ok``, or ``failed`` (``errors`` says why).
    """

    name: str
    distribution: str | None = None
    version: str | None = None
    state: str = "ok"
    healthy: bool = True
    errors: list[str] = msgspec.field(default_factory=list)


class NodeTypeVersion(msgspec.Struct, frozen=True):
    """One version of a node type with its JSON Schemas.

    Attributes:
        credential_types: The credential types a step of this version may use.
    """

    version: int
    title: str = ""
    description: str = ""
    credential_types: list[str] = msgspec.field(default_factory=list)
    config_schema: dict[str, Any] = msgspec.field(default_factory=dict)
    input_schema: dict[str, Any] = msgspec.field(default_factory=dict)
    output_schema: dict[str, Any] = msgspec.field(default_factory=dict)


class NodeType(msgspec.Struct, frozen=True):
    """A node type installed on the hub: every version (newest last) and its plugin.

    Attributes:
        latest_version: What a step without ``type_version`` is pinned to when saved.
    """

    name: str
    title: str = ""
    latest_version: int = 1
    plugin: NodePlugin | None = None
    versions: list[NodeTypeVersion] = msgspec.field(default_factory=list)
