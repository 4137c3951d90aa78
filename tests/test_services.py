"""The real services the distributed hub runs on answer (a failure in CI, never a skip)."""

from __future__ import annotations

import asyncpg
import redis.asyncio as redis


async def test_postgresql_answers_a_query(database_url: str) -> None:
    connection = await asyncpg.connect(database_url, timeout=5)
    try:
        version = await connection.fetchval("SHOW server_version_num")
    finally:
        await connection.close()
    assert int(version) >= 150000


async def test_redis_answers_ping_and_round_trips_a_value(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        assert await client.ping() is True
        await client.set("hub:test:ping", "pong", ex=10)
        assert await client.get("hub:test:ping") == b"pong"
    finally:
        await client.aclose()
