"""What the store owes the future: durable timers and the dispatch outbox."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from wirehub.store.models.base import JSON_VALUE, Record


class Timer(Record):
    """A durable timer: a retry's wait, a delay, a step or workflow timeout.

    One timer per ``(execution, kind, step, attempt)``: the same transition
    applied twice cannot set it twice. An execution-wide timer has the step
    ``""`` and attempt 0 (not NULL, which a unique constraint would not
    compare).

    Attributes:
        execution_id: The execution it belongs to.
        kind: What it is for (``retry``, ``delay``, ``step_timeout``,
            ``execution_timeout``).
        step_id: The step, or ``""`` for the execution.
        attempt: The step's attempt it belongs to, or 0.
        due_at: When it fires, by the store's clock.
        fired_at: When it fired; ``None`` while pending.
    """

    __tablename__ = "timers"
    __table_args__ = (UniqueConstraint("execution_id", "kind", "step_id", "attempt"),)

    execution_id: Mapped[UUID] = mapped_column(ForeignKey("executions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    step_id: Mapped[str] = mapped_column(String(200), default="")
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)
    fired_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class DispatchRecord(Record):
    """Work that must be handed to a worker once the transaction that made it commits.

    Written in the same transaction as the transition that needs it; after
    commit the dispatcher sends it, writing nothing back, and the claim
    deletes it. What stays unclaimed is sent again by the sweeper, so a crash
    between commit and send, or a message Redis lost, loses nothing.

    Attributes:
        execution_id: The execution.
        step_run_id: The attempt to run or cancel, when the record is about one.
        kind: What to do (``run_step``, ``cancel_step``...).
        payload: What the worker needs (opaque JSON).
        deliveries: How many times it was handed out.
        delivered_at: When the sweeper last sent it again; ``None`` until then
            (the dispatcher's send right after commit is not written down).
    """

    __tablename__ = "dispatch_outbox"
    __table_args__ = (Index(None, "delivered_at", "created_at"),)

    execution_id: Mapped[UUID] = mapped_column(ForeignKey("executions.id", ondelete="CASCADE"), index=True)
    step_run_id: Mapped[UUID | None] = mapped_column(ForeignKey("step_runs.id", ondelete="CASCADE"), default=None)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[Any] = mapped_column(JSON_VALUE)
    deliveries: Mapped[int] = mapped_column(Integer, default=0)
    delivered_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
