"""Applying the Alembic migrations of ``migrations/`` to a database, from async code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from advanced_alchemy.types import GUID
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import NUMERIC
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import TypeEngine

from wirehub.store.errors import StoreError

_PACKAGED = Path(__file__).resolve().parent / "_migrations"
"""Where a wheel carries ``migrations/`` (see ``force-include`` in pyproject.toml)."""
_CHECKOUT = Path(__file__).resolve().parents[4] / "migrations"


def migrations_path() -> Path:
    """The folder of the hub's Alembic environment and versions.

    Raises:
        StoreError: Neither the installed package nor the checkout has it.
    """
    for folder in (_PACKAGED, _CHECKOUT):
        if (folder / "env.py").is_file():
            return folder
    raise StoreError(f"the migrations are missing (looked in {_PACKAGED} and {_CHECKOUT})")


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for the hub's migrations, on ``connection`` if given."""
    config = Config()
    config.set_main_option("script_location", str(migrations_path()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def compare_type(
    context: MigrationContext,
    inspected_column: Any,
    metadata_column: Any,
    inspected_type: TypeEngine[Any],
    metadata_type: TypeEngine[Any],
) -> bool | None:
    """Alembic's type comparison, knowing that SQLite reads a UUID's ``BINARY(16)`` back as ``NUMERIC(16)``.

    SQLite keeps the declared type name but has no BINARY type of its own, so
    SQLAlchemy reflects the column by its affinity. Returns ``False`` (same
    type) for that case and ``None`` (Alembic decides) for every other.
    """
    if (
        context.dialect.name == "sqlite"
        and isinstance(metadata_type, GUID)
        and isinstance(inspected_type, NUMERIC)
        and inspected_type.precision == 16  # the 16 bytes of a UUID
    ):
        return False
    return None


def head_revision() -> str | None:
    """The newest migration's revision."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade_database(engine: AsyncEngine, revision: str = "head") -> None:
    """Applies every migration up to ``revision``, all in one transaction."""
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade_database(engine: AsyncEngine, revision: str) -> None:
    """Reverts migrations down to ``revision`` (``base`` reverts them all), in one transaction."""
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at; ``None`` before the first migration."""
    async with engine.connect() as connection:
        return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
