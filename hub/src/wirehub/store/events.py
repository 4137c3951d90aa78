"""Execution events: what the store publishes after each committed transition, and reads back from the history.

Every transition that appends to an execution's history hands the entries
it appended, as ``ExecutionEvent`` values, to the store's ``EventPublisher``
once its transaction has committed (a SQLAlchemy ``after_commit`` hook: a
transaction that rolls back publishes nothing). Publishing is best effort:
the history in the database is the record, and ``recorded_events`` reads
the same events back from it, which is what a subscriber replays from.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

import msgspec
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from wirehub.engine import Event, ExecutionStatus
from wirehub.store.errors import ExecutionNotFoundError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from wirehub.store.transition import StoreCore

_PENDING = "wirehub_events"
"""The ``Session.info`` key of the events a transaction published, waiting for its commit."""
_listening = False


class ExecutionEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One accepted transition of one execution: a history entry, with where the execution stands after it.

    It carries exactly the history entry's data (a step's output is in its
    ``step_succeeded`` event there too) and no credential. JSON-encoded with
    msgspec; ``msgspec.json.decode(data, type=ExecutionEvent)`` reads it back.

    Attributes:
        execution_id: The execution.
        workflow_id: Its workflow.
        sequence: The entry's position in the execution's history: from 1, without gaps.
        event_type: The event's type tag (``step_succeeded``...), as in the history.
        event: The event itself (``wirehub.engine.Event``), as in the history.
        status: The execution's status after the event.
        at: When the store recorded it (the store's clock).
    """

    execution_id: UUID
    workflow_id: UUID
    sequence: int
    event_type: str
    event: Event
    status: str
    at: datetime

    @property
    def terminal(self) -> bool:
        """Whether the execution is over after this event: nothing follows it."""
        return ExecutionStatus(self.status).terminal


class EventPublisher(Protocol):
    """Where the store hands the events of each committed transition.

    ``publish`` is called from the commit, in the event loop's thread: it
    must return at once (queue the events, send them later) and never raise.
    """

    def publish(self, events: Sequence[ExecutionEvent]) -> None:
        """Takes the events of one committed transaction, in sequence order."""


def publish_after_commit(
    session: AsyncSession,
    publisher: EventPublisher | None,
    workflow_id: UUID,
    history: Sequence[dict[str, Any]],
    status: str,
) -> None:
    """Hands ``history`` (the rows one transition appended) to ``publisher`` once ``session`` commits.

    Args:
        session: The transition's session; nothing is published if it rolls back.
        publisher: Where to publish; ``None`` publishes nothing.
        workflow_id: The execution's workflow.
        history: The ``execution_history`` rows the transition inserted.
        status: The execution's status after the transition (every entry of one
            transition shares it: the entries after the first are claims of attempts
            the first made ready, which leave the execution running).
    """
    if publisher is None:
        return
    _listen()
    events = [
        ExecutionEvent(
            execution_id=row["execution_id"],
            workflow_id=workflow_id,
            sequence=row["sequence"],
            event_type=row["event_type"],
            event=row["event"],
            status=status,
            at=row["recorded_at"],
        )
        for row in history
    ]
    pending: dict[EventPublisher, list[ExecutionEvent]] = session.info.setdefault(_PENDING, {})
    pending.setdefault(publisher, []).extend(events)


async def recorded_events(store: StoreCore, execution_id: UUID, *, after: int = 0) -> list[ExecutionEvent]:
    """The execution's history after sequence ``after`` as events, in order, read in one transaction.

    Raises:
        ExecutionNotFoundError: No such execution.
    """
    from wirehub.store.transition import EXECUTIONS, HISTORY, sql  # transition imports this module

    e, h = EXECUTIONS.c, HISTORY.c
    async with store.reads() as session, session.begin():
        row = (
            await sql(session, select(e.workflow_id, e.status, e.next_sequence).where(e.id == execution_id))
        ).one_or_none()
        if row is None:
            raise ExecutionNotFoundError(execution_id)
        # Bounded by the row just read, so the last entry read is the one that left the execution in ``row.status``.
        last = row.next_sequence - 1
        entries = (
            await sql(
                session,
                select(h.sequence, h.event_type, h.event, h.recorded_at)
                .where(h.execution_id == execution_id, h.sequence > after, h.sequence <= last)
                .order_by(h.sequence),
            )
        ).all()
    # A status other than running shows only after the last entry: ``pending`` is before the first
    # (``execution_started``), and a terminal status is final (the engine accepts nothing after it).
    return [
        ExecutionEvent(
            execution_id=execution_id,
            workflow_id=row.workflow_id,
            sequence=entry.sequence,
            event_type=entry.event_type,
            event=msgspec.convert(entry.event, Event),
            status=row.status if entry.sequence == last else str(ExecutionStatus.RUNNING),
            at=entry.recorded_at,
        )
        for entry in entries
    ]


def _listen() -> None:
    """Registers the commit and rollback hooks once per process (they do nothing for other sessions)."""
    global _listening
    if not _listening:
        sa_event.listen(Session, "after_commit", _after_commit)
        sa_event.listen(Session, "after_rollback", _after_rollback)
        _listening = True


def _after_commit(session: Session) -> None:
    pending: dict[EventPublisher, list[ExecutionEvent]] | None = session.info.pop(_PENDING, None)
    if pending:
        for publisher, events in pending.items():
            publisher.publish(events)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
