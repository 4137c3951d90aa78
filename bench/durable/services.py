"""The throwaway PostgreSQL database and Redis key prefix of one system's run, removed afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import asyncpg
import redis.asyncio as redis

from bench.durable.protocol import Services

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def database_server_url() -> str:
    """The PostgreSQL server to create throwaway databases on (``WIREHUB_BENCH_DATABASE_URL``)."""
    return os.environ.get("WIREHUB_BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL


def redis_server_url() -> str:
    """The Redis server (``WIREHUB_BENCH_REDIS_URL``)."""
    return os.environ.get("WIREHUB_BENCH_REDIS_URL") or DEFAULT_REDIS_URL


def _plain(url: str) -> str:
    """asyncpg wants ``postgresql://``, not SQLAlchemy's ``postgresql+asyncpg://``."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _admin(server_url: str, statement: str) -> None:
    connection = await asyncpg.connect(_plain(server_url), timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _delete_keys(redis_url: str, prefix: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        # taskiq-redis's reclaim lock is named ``autoclaim:<group>:<stream>``: outside the prefix.
        for pattern in (f"{prefix}*", f"autoclaim:{prefix}*"):
            keys = [key async for key in client.scan_iter(match=pattern, count=1000)]
            if keys:
                await client.unlink(*keys)
    finally:
        await client.aclose()


@asynccontextmanager
async def throwaway_services(
    label: str, workers: int, database_url: str | None = None, redis_url: str | None = None
) -> AsyncIterator[Services]:
    """A fresh database and key prefix for one system, dropped and deleted on exit.

    Args:
        label: The system's name, part of the database name and prefix (lowercase letters).
        workers: How many worker processes the system runs.
        database_url: The PostgreSQL server (default: ``database_server_url()``).
        redis_url: The Redis server (default: ``redis_server_url()``).
    """
    server = _plain(database_url or database_server_url())
    redis_url = redis_url or redis_server_url()
    token = uuid.uuid4().hex[:12]
    name = f"wirehub_bench_{label}_{token}"
    prefix = f"wirehub-bench:{label}:{token}:"
    await _admin(server, f'CREATE DATABASE "{name}"')
    try:
        yield Services(urlsplit(server)._replace(path=f"/{name}").geturl(), redis_url, prefix, workers)
    finally:
        try:
            await _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await _delete_keys(redis_url, prefix)
