"""The audit log: who did what to what, when, from where, and how it ended."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.mixins import UUIDv7PrimaryKey
from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from wirehub.store.models.base import JSON_VALUE, Base


class AuditEntry(UUIDv7PrimaryKey, Base):
    """One audited event. Append-only: on PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE.

    There are no foreign keys: an entry outlives the user, workspace or object it names.

    Attributes:
        at: When it happened, by the store's clock.
        actor_id: The user or service account, when known.
        actor_name: Its name then (or the name a failed login gave).
        action: What was done, ``<resource>.<verb>`` (``auth.login``, ``user.create``...).
        target_type: The kind of object acted on (``user``, ``workflow``...).
        target_id: Its id, as text.
        workspace_id: The workspace it happened in, if any.
        client: The client's address.
        outcome: ``success``, ``failure`` or ``denied``.
        correlation_id: The request's correlation id.
        details: More facts, never a secret.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "at", "id"), Index(None, "actor_id", "at"), Index(None, "action", "at"))

    at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True))
    actor_id: Mapped[UUID | None] = mapped_column(GUID(length=16), default=None)
    actor_name: Mapped[str | None] = mapped_column(String(100), default=None)
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(64), default=None)
    target_id: Mapped[str | None] = mapped_column(String(200), default=None)
    workspace_id: Mapped[UUID | None] = mapped_column(GUID(length=16), default=None)
    client: Mapped[str | None] = mapped_column(String(100), default=None)
    outcome: Mapped[str] = mapped_column(String(16))
    correlation_id: Mapped[str | None] = mapped_column(String(64), default=None)
    details: Mapped[Any] = mapped_column(JSON_VALUE, default=None, nullable=True)
