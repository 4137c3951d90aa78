"""The embedded hub's WAL checkpoints run on a thread of their own, never in a commit on the event loop."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy import text

from wirehub.store import WalCheckpoints, database_engine


async def test_the_thread_checkpoints_what_the_engines_connections_leave_in_the_wal(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    engine = database_engine(f"sqlite+aiosqlite:///{path}", inline=True)
    checkpoints = WalCheckpoints.of(engine)
    assert checkpoints is not None
    checkpoints.attach(engine)
    try:
        async with engine.begin() as connection:
            assert (await connection.execute(text("PRAGMA wal_autocheckpoint"))).scalar_one() == 0
            await connection.execute(text("CREATE TABLE items (n INTEGER PRIMARY KEY, body TEXT)"))
            for n in range(2_000):  # well past the 1,000 pages an automatic checkpoint would have waited for
                await connection.execute(text("INSERT INTO items VALUES (:n, :body)"), {"n": n, "body": "x" * 2_000})
        copy = tmp_path / "copy.db"
        shutil.copy(path, copy)  # the database file alone, without its WAL
        assert _tables(copy) == []  # nothing was checkpointed by the engine's own commits
        checkpoints.start()
        await asyncio.to_thread(checkpoints.close)  # the last checkpoint
        assert checkpoints.checkpoints >= 1
        shutil.copy(path, copy)
        assert _tables(copy) == ["items"]
        with sqlite3.connect(copy) as reader:
            assert reader.execute("SELECT count(*) FROM items").fetchone() == (2_000,)
    finally:
        await engine.dispose()


def _tables(path: Path) -> list[str]:
    reader = sqlite3.connect(path)
    try:
        return [name for (name,) in reader.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    finally:
        reader.close()


def test_only_a_sqlite_file_gets_checkpoints(tmp_path: Path) -> None:
    assert WalCheckpoints.of(database_engine("sqlite+aiosqlite:///:memory:")) is None
    assert WalCheckpoints.of(database_engine("postgresql+asyncpg://hub@db/hub")) is None
    checkpoints = WalCheckpoints.of(database_engine(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"))
    assert checkpoints is not None
    assert checkpoints.path == str(tmp_path / "hub.db")
