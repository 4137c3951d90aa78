"""SQLite for one process that owns its database: aiosqlite's connection, its calls run in the caller's thread.

aiosqlite runs every call (a cursor, an execute, a fetch, a close: three or
four per statement) on a thread of its own and wakes the event loop with the
result. On a local SQLite file in WAL mode a statement takes microseconds and
a commit does not wait for the disk (``synchronous=NORMAL``), so those thread
hops are most of a statement's cost. The connection here keeps aiosqlite's
interface, which SQLAlchemy's ``sqlite+aiosqlite`` dialect drives, and runs
each call at once in the event loop's thread.

The catch: a statement that waits for a lock blocks the event loop while it
waits. The embedded hub is its database's only process and its engine keeps a
single connection (``pool_size=1``), so its transactions queue for that
connection without blocking anything, and no statement in the process waits
for a lock held by another of its statements.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Generator
from functools import partial
from typing import Any

import aiosqlite

Call = tuple[asyncio.Future[Any] | None, Callable[[], Any]]


class _AtOnce:
    """Stands in for aiosqlite's queue to its thread: runs each call when it is put, and settles its future."""

    def put_nowait(self, item: Call) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # handed to the waiter, as aiosqlite's thread does
            if future is not None and not future.done():
                future.set_exception(exc)
        else:
            if future is not None and not future.done():
                future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An ``aiosqlite.Connection`` without its thread: each call runs in the caller's thread."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _AtOnce()  # type: ignore[assignment]

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    def __await__(self) -> Generator[Any, None, aiosqlite.Connection]:
        return self._connect().__await__()  # no thread to start


def inline_connector(*args: Any, **options: Any) -> Callable[[], Awaitable[InlineConnection]]:
    """A connection factory for ``create_async_engine(async_creator=...)``.

    Args:
        *args: ``sqlite3.connect``'s arguments (the database first).
        **options: ``sqlite3.connect``'s options.
    """

    async def create() -> InlineConnection:
        connection = InlineConnection(partial(sqlite3.connect, *args, **options))
        await connection
        return connection

    return create
