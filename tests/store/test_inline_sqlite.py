"""The embedded hub's SQLite engine: statements in the event loop's thread, transactions queued for one connection."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from wirehub.store import database_engine, session_factory


@pytest.fixture
async def inline(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = database_engine(f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}", inline=True)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE items (n INTEGER PRIMARY KEY)"))
    yield engine
    await engine.dispose()


async def test_statements_run_in_the_event_loops_thread(inline: AsyncEngine) -> None:
    threads: list[int] = []
    async with inline.connect() as connection:
        raw = await connection.get_raw_connection()
        sqlite = raw.driver_connection._conn  # type: ignore[union-attr]  # aiosqlite's sqlite3 connection
        sqlite.set_trace_callback(lambda _statement: threads.append(threading.get_ident()))
        await connection.execute(text("SELECT count(*) FROM items"))
        sqlite.set_trace_callback(None)
    assert threads
    assert set(threads) == {threading.get_ident()}


async def test_write_transactions_that_suspend_queue_for_the_one_connection(inline: AsyncEngine) -> None:
    sessions = session_factory(inline, writes=True)

    async def write(n: int) -> None:
        async with sessions.begin() as session:
            await session.execute(text("INSERT INTO items (n) VALUES (:n)"), {"n": n})
            await asyncio.sleep(0.02)  # holds the write lock across a real suspension

    async with asyncio.timeout(10):
        await asyncio.gather(*(write(n) for n in range(5)))
    async with inline.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM items"))).scalar_one() == 5
    assert inline.pool.size() == 1  # type: ignore[attr-defined]  # a QueuePool


async def test_a_failed_statement_raises_and_the_connection_goes_on(inline: AsyncEngine) -> None:
    async with inline.connect() as connection:
        with pytest.raises(OperationalError, match="no such table"):
            await connection.execute(text("SELECT * FROM missing"))
        await connection.rollback()
        assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1


@pytest.mark.parametrize("inline", [True, False], ids=["inline", "aiosqlite-thread"])
async def test_a_write_transaction_that_cannot_take_the_lock_fails_with_sqlalchemys_error(
    tmp_path: Path, inline: bool
) -> None:
    path = tmp_path / "locked.db"
    engine = database_engine(f"sqlite+aiosqlite:///{path}", inline=inline)

    @event.listens_for(engine.sync_engine, "connect")
    def _impatient(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=50")  # after the store's own pragmas: fail fast here
        cursor.close()

    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("PRAGMA journal_mode=WAL")
        holder.execute("BEGIN IMMEDIATE")  # another process's writer, as far as the engine can tell
        with pytest.raises(OperationalError, match="database is locked"):
            async with session_factory(engine, writes=True).begin() as session:
                await session.execute(text("SELECT 1"))
        holder.execute("ROLLBACK")
        async with session_factory(engine, writes=True).begin() as session:  # the connection is usable again
            assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        holder.close()
        await engine.dispose()
