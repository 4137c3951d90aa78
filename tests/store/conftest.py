"""A fresh database per test: a SQLite file, and a throwaway PostgreSQL database when one is reachable."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.postgres import admin, url_of
from wirehub.plugins import Registry, build_registry
from wirehub.store import database_engine, upgrade_database
from wirehub_core import core


def _run(coroutine: Coroutine[Any, Any, None]) -> None:
    """Runs ``coroutine`` on a loop of its own, leaving pytest-asyncio's loop alone."""
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(coroutine)
    finally:
        loop.close()


@pytest.fixture
def postgresql_url(database_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the test server, dropped after the test."""
    name = f"wirehub_test_{uuid.uuid4().hex[:16]}"
    _run(admin(database_url, f'CREATE DATABASE "{name}"'))
    try:
        yield url_of(database_url, name)
    finally:
        _run(admin(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'data' / 'hub.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest) -> str:
    """An empty database of each kind the hub runs on."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
async def engine(store_url: str) -> AsyncIterator[AsyncEngine]:
    engine = database_engine(store_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The built-in node types and nothing else that happens to be installed."""
    return build_registry(extra_plugins=[core], load_entry_points=False)


@pytest.fixture
async def migrated(engine: AsyncEngine) -> AsyncEngine:
    """``engine`` with every migration applied."""
    await upgrade_database(engine)
    return engine
