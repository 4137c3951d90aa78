"""Alembic's entry point for the hub's migrations (async: asyncpg or aiosqlite).

``wirehub migrate`` hands in an open connection (``config.attributes["connection"]``)
and the whole run is one transaction. Run by the ``alembic`` command instead
(``alembic -c migrations/alembic.ini ...``), it connects to
``sqlalchemy.url`` when set, else to ``WIREHUB_DATABASE_URL``.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from wirehub.settings import Settings
from wirehub.store.database import database_engine, database_url
from wirehub.store.migrate import compare_type
from wirehub.store.models import metadata

config = context.config


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things: batch mode recreates the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=compare_type,
    )


def _run(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url


async def _run_online() -> None:
    engine = database_engine(_url(), poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


def _run_offline() -> None:
    url = database_url(_url())
    context.configure(
        url=url,
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=url.get_backend_name() == "sqlite",
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
elif isinstance(given := config.attributes.get("connection"), Connection):
    _run(given)
else:
    asyncio.run(_run_online())
