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


class HistoryEntry(msgspec.Struct, frozen=True):
    """One entry of an execution's history: the event, and the execution's status after it."""

    sequence: int
    event_type: str = ""
    event: dict[str, Any] = msgspec.field(default_factory=dict)
    status: str = ""
    at: datetime | None = None


class HistoryPage(msgspec.Struct, frozen=True):
    """One page of history; ``next`` (when given) continues it."""

    items: list[HistoryEntry]
    next: str | None = None


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
