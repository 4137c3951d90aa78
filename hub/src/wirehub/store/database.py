"""Connecting to the hub's database: SQLite (embedded) or PostgreSQL (distributed)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from wirehub.store.errors import StoreError
from wirehub.store.inline_sqlite import inline_connector

if TYPE_CHECKING:
    from wirehub.settings import Settings

_DRIVERS = {"postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}
_SUPPORTED = frozenset({"postgresql+asyncpg", "sqlite+aiosqlite"})
_WRITES = "wirehub_writes"
"""The execution option that makes a SQLite transaction begin with the write lock."""
SQLITE_BUSY_TIMEOUT_MS = 5_000
"""How long a SQLite writer waits for another's transaction before failing."""
POOL_SIZE = 20
"""PostgreSQL connections a process keeps open once it needed them (opened on demand, not up front);
``WIREHUB_DATABASE_POOL_SIZE`` for the API and the workers."""
POOL_OVERFLOW = 0
"""PostgreSQL connections it may open beyond ``POOL_SIZE`` in a burst, closed again when returned (none: under a
steady load a connection opened and closed per transaction costs more, in both processes, than a wait for one);
``WIREHUB_DATABASE_MAX_OVERFLOW`` for the API and the workers."""
IDLE_PING_SECONDS = 1.0
"""A pooled connection idle longer than this is pinged before it is handed out (``ping_idle``)."""
_RETURNED_AT = "wirehub_returned_at"


def database_url(url: str) -> URL:
    """Parses a database URL, choosing the async driver when none is named.

    ``postgresql://...`` becomes ``postgresql+asyncpg://...`` and
    ``sqlite:///...`` becomes ``sqlite+aiosqlite:///...``.

    Raises:
        StoreError: The URL does not parse or names a database or driver the hub does not run on.
    """
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError, or ValueError for a bad port
        raise StoreError(f"not a database URL: {_redacted(url)}") from exc
    drivername = _DRIVERS.get(parsed.drivername, parsed.drivername)
    if drivername not in _SUPPORTED:
        raise StoreError(
            f"unsupported database {parsed.drivername!r}: use postgresql+asyncpg://... or sqlite+aiosqlite:///FILE"
        )
    return parsed.set(drivername=drivername)


def database_engine(
    url: str | URL,
    *,
    inline: bool = False,
    ping_idle: bool = False,
    pool_size: int = POOL_SIZE,
    max_overflow: int = POOL_OVERFLOW,
    **options: Any,
) -> AsyncEngine:
    """Creates the async engine the store uses, set up for its database.

    JSON columns are encoded and decoded by msgspec, so a msgspec Struct
    (the engine's state or an event) can be stored as it is. On SQLite the
    file's folder is created, foreign keys are enforced, the journal is WAL,
    and transactions begin with the first statement (DDL included), which
    the Python driver does not do by itself. On PostgreSQL the pool keeps
    up to ``pool_size`` connections (a worker's concurrent attempts would
    otherwise open and close a connection per transaction beyond SQLAlchemy's
    default of 5). A long-running process passes ``ping_idle=True`` (as
    ``wirehub worker`` does), so the connections a database restart broke
    are replaced, not handed out.

    Args:
        url: A database URL (see :func:`database_url`).
        inline: SQLite only, for a database this process alone uses (the
            embedded hub's): statements run in the event loop's thread instead
            of aiosqlite's, on one connection that transactions queue for
            (see :mod:`wirehub.store.inline_sqlite`).
        ping_idle: Ping a pooled connection before handing it out when it was idle for
            ``IDLE_PING_SECONDS`` or more, and replace it when the ping fails. Unlike
            SQLAlchemy's ``pool_pre_ping`` (three round trips on asyncpg: a transaction
            around the ping), a connection in steady use is not pinged: under load, a
            transaction pays for its own statements only. A connection the database
            dropped within the last second fails its next transaction, which the caller
            retries (a worker) or answers with a 503 (the API).
        pool_size: PostgreSQL: connections the pool keeps open once it needed them. Ignored on
            SQLite, whose pool is the driver's (one connection for ``inline``).
        max_overflow: PostgreSQL: connections opened beyond ``pool_size`` in a burst, closed again
            when returned. Ignored on SQLite.
        **options: Passed on to ``create_async_engine`` (``poolclass``...); a ``poolclass``
            (``NullPool``) makes the pool settings moot.

    Raises:
        StoreError: The URL is not one the hub runs on.
    """
    engine = _create_engine(url, inline=inline, pool=(pool_size, max_overflow), **options)
    if ping_idle:
        _ping_when_idle(engine, IDLE_PING_SECONDS)
    return engine


def service_engine(settings: Settings) -> AsyncEngine:
    """The engine of a long-running process (an API replica, a worker): ``WIREHUB_DATABASE_URL``, its pool
    sized by ``WIREHUB_DATABASE_POOL_SIZE`` and ``WIREHUB_DATABASE_MAX_OVERFLOW`` (on PostgreSQL), idle
    connections pinged before use.

    Raises:
        StoreError: The URL is not one the hub runs on.
    """
    return database_engine(
        settings.database_url,
        ping_idle=True,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )


def _create_engine(url: str | URL, *, inline: bool, pool: tuple[int, int], **options: Any) -> AsyncEngine:
    parsed = database_url(url) if isinstance(url, str) else url
    options.setdefault("json_serializer", _encode_json)
    options.setdefault("json_deserializer", msgspec.json.decode)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        if inline:
            args, connect_options = parsed.get_dialect()().create_connect_args(parsed)
            options.setdefault("async_creator", inline_connector(*args, **connect_options))
            in_memory = parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory"
            if not in_memory:  # a file: a queue pool, of one connection; in memory there is one already
                options.setdefault("pool_size", 1)
                options.setdefault("max_overflow", 0)
        engine = create_async_engine(parsed, **options)
        _configure_sqlite(engine)
        return engine
    if "poolclass" not in options:
        options.setdefault("pool_size", pool[0])
        options.setdefault("max_overflow", pool[1])
    return create_async_engine(parsed, **options)


def session_factory(engine: AsyncEngine, *, writes: bool = False) -> async_sessionmaker[AsyncSession]:
    """Sessions on ``engine`` whose objects stay readable after commit.

    Args:
        engine: From :func:`database_engine`.
        writes: Whether the sessions' transactions read in order to write
            (a transition, a new version). On SQLite they then take the
            write lock when they begin (``BEGIN IMMEDIATE``), so concurrent
            writers wait for each other (up to the busy timeout) instead of
            failing with "database is locked" when a read snapshot they
            started from has gone stale. PostgreSQL needs no such thing:
            its writers lock the rows they read ``FOR UPDATE``.
    """
    bind = engine.execution_options(**{_WRITES: True}) if writes else engine
    return async_sessionmaker(bind, expire_on_commit=False)


def single_statement(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """Sessions like ``sessions`` for work whose writes are one statement: no ``BEGIN``/``COMMIT`` on PostgreSQL.

    On PostgreSQL each statement commits by itself (autocommit), which is
    atomic, and saves the two round trips of a transaction; what such a
    session reads before its write is not read in the write's snapshot.
    Elsewhere (SQLite, whose writes are several statements) they are
    ``sessions`` themselves.
    """
    bind = sessions.kw["bind"]
    if bind.dialect.name != "postgresql":
        return sessions
    return async_sessionmaker(bind.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False)


def reading(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """Sessions like ``sessions`` whose transactions only read: on SQLite they do not take the write lock."""
    bind = sessions.kw["bind"]
    return async_sessionmaker(bind.execution_options(**{_WRITES: False}), expire_on_commit=False)


def _ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Pings a connection on checkout when it was returned ``idle_seconds`` or more ago; replaces it when that fails."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _handed_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_RETURNED_AT)
        if returned is None or time.monotonic() - returned < idle_seconds:
            return  # new, or in use a moment ago
        try:
            # In the pool's greenlet: the dialect's ping awaits the driver's.
            engine.sync_engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool drops this connection and hands out a new one.
            raise DisconnectionError("a pooled connection failed its ping") from exc
        record.info[_RETURNED_AT] = time.monotonic()


def _encode_json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see the "begin" hook).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA foreign_keys=ON",
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        writes = connection.get_execution_options().get(_WRITES, False)
        statement = "BEGIN IMMEDIATE" if writes else "BEGIN"
        # On the driver's cursor: SQLAlchemy's statement machinery (and its events) would cost more than the BEGIN.
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.execute(statement)
        except connection.dialect.loaded_dbapi.Error as error:  # "database is locked": raised as SQLAlchemy would
            raise DBAPIError.instance(statement, None, error, connection.dialect.loaded_dbapi.Error) from error
        finally:
            cursor.close()


def _redacted(url: str) -> str:
    """The URL without its password, for messages."""
    head, at, tail = url.rpartition("@")
    if not at:
        return url
    scheme, sep, credentials = head.partition("://")
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{tail}" if ":" in credentials else url
