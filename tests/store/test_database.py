"""Database URLs choose the async drivers; both databases enforce the foreign keys the models declare."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlalchemy import delete, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from wirehub.plugins import Registry
from wirehub.settings import DEFAULT_DATABASE_URL, Settings, SettingsError
from wirehub.store import (
    PlanCache,
    StoreError,
    Workflow,
    WorkflowVersionService,
    database,
    database_engine,
    database_url,
    service_engine,
    session_factory,
)


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://hub@db:5432/hub", "postgresql+asyncpg"),
        ("postgres://hub@db/hub", "postgresql+asyncpg"),
        ("postgresql+asyncpg://hub@db/hub", "postgresql+asyncpg"),
        ("sqlite:///data/hub.db", "sqlite+aiosqlite"),
        (DEFAULT_DATABASE_URL, "sqlite+aiosqlite"),
    ],
)
def test_a_url_without_an_async_driver_gets_one(given: str, driver: str) -> None:
    assert database_url(given).drivername == driver


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("mysql://hub:pw@db/hub", "unsupported database 'mysql'"),
        ("postgresql+psycopg2://hub@db/hub", "unsupported database 'postgresql+psycopg2'"),
        ("not a url", "not a database URL"),
        ("postgresql://hub:s3cret@db:port/hub", "not a database URL: postgresql://hub:***@db:port/hub"),
    ],
)
def test_an_unsupported_or_malformed_url_is_refused_without_its_password(given: str, message: str) -> None:
    with pytest.raises(StoreError, match="^" + message.replace("+", r"\+").replace("*", r"\*")) as caught:
        database_url(given)
    assert "s3cret" not in str(caught.value)


def test_the_default_database_is_a_sqlite_file_in_the_data_folder() -> None:
    assert Settings.from_env({}).database_url == DEFAULT_DATABASE_URL
    assert database_url(DEFAULT_DATABASE_URL).database == ".wirehub/wirehub.db"
    assert Settings.from_env({"WIREHUB_DATABASE_URL": " postgresql://hub@db/hub "}).database_url == (
        "postgresql://hub@db/hub"
    )


async def test_a_workflow_with_versions_cannot_be_deleted(migrated: AsyncEngine, registry: Registry) -> None:
    """Foreign keys hold on SQLite too (the store turns them on for every connection)."""
    sessions = session_factory(migrated)
    async with sessions.begin() as session:
        version = await WorkflowVersionService(session, registry, PlanCache()).create(
            {"name": "w", "steps": [{"id": "a", "type": "core.transform", "config": {"expression": "input"}}]}
        )
    async with sessions() as session:
        with pytest.raises(IntegrityError):
            await session.execute(delete(Workflow).where(Workflow.id == version.workflow_id))


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(postgresql_url: str, pid: int) -> None:
    admin = database_engine(postgresql_url)
    try:
        async with admin.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await admin.dispose()


async def test_an_idle_pooled_connection_the_database_dropped_is_replaced_before_use(
    postgresql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "IDLE_PING_SECONDS", 0.05)
    engine = database_engine(postgresql_url, ping_idle=True, pool_size=1, max_overflow=0)
    try:
        dropped = await _backend_pid(engine)
        await _terminate(postgresql_url, dropped)
        await asyncio.sleep(0.1)  # idle past the window: pinged, found dead, replaced
        assert await _backend_pid(engine) != dropped
    finally:
        await engine.dispose()


async def test_a_connection_in_steady_use_is_not_pinged(postgresql_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Within the window no ping runs: a transaction pays for its own round trips only."""
    monkeypatch.setattr(database, "IDLE_PING_SECONDS", 60.0)
    engine = database_engine(postgresql_url, ping_idle=True, pool_size=1, max_overflow=0)
    try:
        dropped = await _backend_pid(engine)
        await _terminate(postgresql_url, dropped)
        with pytest.raises(DBAPIError):  # handed out unpinged: the next statement meets the closed connection
            await _backend_pid(engine)
        assert await _backend_pid(engine) != dropped  # the pool then replaced it
    finally:
        await engine.dispose()


# --- the pool of a long-running process -----------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("WIREHUB_DATABASE_POOL_SIZE", "0", "WIREHUB_DATABASE_POOL_SIZE: expected `int` >= 1"),
        ("WIREHUB_DATABASE_POOL_SIZE", "1001", "WIREHUB_DATABASE_POOL_SIZE: expected `int` <= 1000"),
        ("WIREHUB_DATABASE_POOL_SIZE", "lots", "WIREHUB_DATABASE_POOL_SIZE: expected an integer"),
        ("WIREHUB_DATABASE_MAX_OVERFLOW", "-1", "WIREHUB_DATABASE_MAX_OVERFLOW: expected `int` >= 0"),
        ("WIREHUB_DATABASE_MAX_OVERFLOW", "1001", "WIREHUB_DATABASE_MAX_OVERFLOW: expected `int` <= 1000"),
    ],
)
def test_a_pool_size_out_of_bounds_is_refused_naming_the_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match="^" + re.escape(message)):
        Settings.from_env({variable: value})


def test_the_pool_settings_default_to_the_stores_pool() -> None:
    settings = Settings.from_env({})
    assert (settings.database_pool_size, settings.database_max_overflow) == (database.POOL_SIZE, database.POOL_OVERFLOW)
    sized = Settings.from_env({"WIREHUB_DATABASE_POOL_SIZE": "25", "WIREHUB_DATABASE_MAX_OVERFLOW": "0"})
    assert (sized.database_pool_size, sized.database_max_overflow) == (25, 0)


async def test_the_pool_settings_size_a_long_running_processs_postgresql_pool(postgresql_url: str) -> None:
    """Two connections at once (one kept, one in a burst), and a third waits: the pool holds what the settings say."""
    settings = Settings(database_url=postgresql_url, database_pool_size=1, database_max_overflow=1)
    engine = service_engine(settings)
    try:
        assert engine.pool.size() == 1  # type: ignore[attr-defined] # a QueuePool
        async with engine.connect() as first, engine.connect() as second:
            assert (await first.scalar(text("SELECT 1")), await second.scalar(text("SELECT 1"))) == (1, 1)
            assert engine.pool.overflow() == 1  # type: ignore[attr-defined]
            with pytest.raises(TimeoutError):  # the third waits for one of them (SQLAlchemy's pool timeout)
                await asyncio.wait_for(_select_one(engine), 0.5)
        assert await _select_one(engine) == 1  # returned: it gets one
    finally:
        await engine.dispose()


async def _select_one(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(text("SELECT 1")) or 0)


async def test_sqlite_ignores_the_pool_settings(sqlite_url: str) -> None:
    engine = service_engine(Settings(database_url=sqlite_url, database_pool_size=50, database_max_overflow=50))
    try:
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT 1")) == 1
        assert engine.pool.size() != 50  # type: ignore[attr-defined]
    finally:
        await engine.dispose()
