"""The declarative base of the hub's tables, built from advanced-alchemy's parts.

The hub's models get a registry and ``MetaData`` of their own (advanced-alchemy's
``create_registry``: its naming convention and its GUID, UTC datetime and JSON
types) rather than advanced-alchemy's shared default registry, so the metadata
Alembic compares against holds the hub's tables and nothing another library
or test happened to declare.
"""

from __future__ import annotations

import datetime
from typing import Any

from advanced_alchemy.base import CommonTableAttributes, create_registry
from advanced_alchemy.mixins import AuditColumns, UUIDv7PrimaryKey
from advanced_alchemy.types import DateTimeUTC, JsonB
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeEngine

hub_registry = create_registry()

JSON_VALUE: TypeEngine[Any] = JsonB
"""Any JSON value: ``JSON`` on SQLite, ``JSONB`` on PostgreSQL; encoded by msgspec (see ``database_engine``)."""


def utc_now() -> datetime.datetime:
    """The store process's clock, in UTC."""
    return datetime.datetime.now(datetime.UTC)


class Base(CommonTableAttributes, AsyncAttrs, DeclarativeBase):
    """Every hub table; ``Base.metadata`` is what the migrations must match."""

    registry = hub_registry
    metadata = hub_registry.metadata
    __abstract__ = True


class Entity(UUIDv7PrimaryKey, AuditColumns, Base):
    """A row with a time-ordered UUIDv7 key and ``created_at`` / ``updated_at``."""

    __abstract__ = True


class Record(UUIDv7PrimaryKey, Base):
    """A row written once: a UUIDv7 key and ``created_at``, no ``updated_at``."""

    __abstract__ = True

    created_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True), default=utc_now, sort_order=3002)
