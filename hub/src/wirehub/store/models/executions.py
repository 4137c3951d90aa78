"""Executions, the runs of their steps, and their append-only history."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from wirehub.store.models.base import JSON_VALUE, Base, Entity, Record, utc_now


class Execution(Entity):
    """One run of a pinned workflow version.

    ``state`` is the engine's execution state, encoded by msgspec and opaque
    to the store; the columns beside it repeat what queries filter on.
    Step outputs live in ``step_runs`` (written once), not in ``state``.

    Attributes:
        workflow_id: The workflow, for listing its executions.
        workflow_version_id: The version it started on and keeps to its end.
        status: The engine's execution status (``pending``, ``running``...).
        input: The execution input.
        output: The workflow's output, once it succeeded.
        error: Why it failed, as the engine's error record.
        error_kind: The error's kind, repeated for the failures list's filter.
        error_node_type: The node type of the step that failed, repeated for the same.
        state: The engine's state after the last transition (opaque JSON).
        lock_version: Incremented by every update; an update that finds
            another number was overtaken (optimistic locking).
        next_sequence: The sequence number the next history entry takes.
        started_at: When it started running.
        finished_at: When it reached a terminal status.
        idempotency_key: The caller's key for starting it; a second start of
            the workflow with the same key gets this execution back.
    """

    __tablename__ = "executions"
    # The executions list pages newest first by (created_at, id), in a workspace (through its
    # workflows), by workflow or by status: each of its queries walks one of the first three backwards.
    __table_args__ = (
        Index("ix_executions_created_at", "created_at", "id"),
        Index("ix_executions_workflow_id_created_at", "workflow_id", "created_at", "id"),
        Index("ix_executions_status_created_at", "status", "created_at", "id"),
        Index("ix_executions_status_finished_at", "status", "finished_at"),
        Index("ix_executions_idempotency_key", "workflow_id", "idempotency_key", unique=True),
    )

    workflow_id: Mapped[UUID] = mapped_column(ForeignKey("workflows.id", ondelete="RESTRICT"))
    workflow_version_id: Mapped[UUID] = mapped_column(ForeignKey("workflow_versions.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(16))
    input: Mapped[Any] = mapped_column(JSON_VALUE, nullable=True)
    output: Mapped[Any] = mapped_column(JSON_VALUE, nullable=True)
    error: Mapped[Any] = mapped_column(JSON_VALUE, nullable=True)
    error_kind: Mapped[str | None] = mapped_column(String(100), default=None)
    error_node_type: Mapped[str | None] = mapped_column(String(200), default=None)
    state: Mapped[Any] = mapped_column(JSON_VALUE)
    lock_version: Mapped[int] = mapped_column(Integer)
    next_sequence: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    finished_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), default=None)

    __mapper_args__ = {"version_id_col": lock_version}  # noqa: RUF012 - SQLAlchemy reads it once, at mapping


class StepRun(Entity):
    """One attempt of one step of an execution.

    Attributes:
        execution_id: The execution.
        step_id: The step's id in the definition.
        attempt: 1 for the first attempt; unique with the execution and step.
        status: The engine's step status for this attempt.
        input: The evaluated input the attempt was given.
        output: What the node returned; written once, when the attempt succeeds.
        error: Why the attempt failed, as the engine's error record.
        traceback: The traceback of an internal error (an unexpected exception in the node or
            the runtime), kept apart from ``error`` and the history: the API shows it to admins only.
        scheduled_at: When the attempt was handed out for dispatch.
        started_at: When a worker claimed it (its run deadline starts here).
        finished_at: When its result was recorded.
        worker: The worker that claimed it.
        lease_token: The claim's fencing token; a result that does not carry
            it is stale.
        lease_expires_at: When the claim lapses unless renewed.
    """

    __tablename__ = "step_runs"
    __table_args__ = (UniqueConstraint("execution_id", "step_id", "attempt"),)

    execution_id: Mapped[UUID] = mapped_column(ForeignKey("executions.id", ondelete="CASCADE"))
    step_id: Mapped[str] = mapped_column(String(200))
    attempt: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    input: Mapped[Any] = mapped_column(JSON_VALUE, nullable=True)
    output: Mapped[Any] = mapped_column(JSON_VALUE, nullable=True)
    error: Mapped[Any] = mapped_column(JSON_VALUE, nullable=True)
    traceback: Mapped[str | None] = mapped_column(Text, default=None)
    scheduled_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    started_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    finished_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    worker: Mapped[str | None] = mapped_column(String(200), default=None)
    lease_token: Mapped[UUID | None] = mapped_column(default=None)
    lease_expires_at: Mapped[datetime.datetime | None] = mapped_column(
        DateTimeUTC(timezone=True), default=None, index=True
    )


class HistoryEntry(Base):
    """One transition of an execution, appended and never changed.

    Keyed by ``(execution_id, sequence)``: the key is the replay order, and a
    second writer of the same sequence number fails on it.

    Attributes:
        execution_id: The execution.
        sequence: 1, 2, 3... without gaps within the execution.
        event_type: The engine event's type tag (``StepSucceeded``...).
        event: The engine event, encoded by msgspec (opaque JSON).
        recorded_at: When the store recorded it, by the store's clock.
    """

    __tablename__ = "execution_history"

    execution_id: Mapped[UUID] = mapped_column(ForeignKey("executions.id", ondelete="CASCADE"), primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    event_type: Mapped[str] = mapped_column(String(64))
    event: Mapped[Any] = mapped_column(JSON_VALUE)
    recorded_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True), default=utc_now)


class StaleEvent(Record):
    """An event the store refused because it changed nothing: a duplicate delivery, a late result.

    Kept for operators (how often do workers deliver late?); never replayed.

    Attributes:
        execution_id: The execution it was about.
        event_type: The engine event's type tag, or what was refused (``claim``).
        event: The refused event (opaque JSON), or the refused claim.
        reason: Why it was refused.
    """

    __tablename__ = "stale_events"

    execution_id: Mapped[UUID] = mapped_column(ForeignKey("executions.id", ondelete="CASCADE"), index=True)
    event_type: Mapped[str] = mapped_column(String(64))
    event: Mapped[Any] = mapped_column(JSON_VALUE)
    reason: Mapped[str] = mapped_column(Text)
