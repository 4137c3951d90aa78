"""The durable benchmark's harness runs the floor end to end on the real services (a few seconds, not a benchmark)."""

from __future__ import annotations

import asyncpg
import redis.asyncio as redis

from bench.durable.floor import create
from bench.durable.jobs import Job
from bench.durable.measure import Measurement, measure
from bench.durable.protocol import Services
from bench.durable.services import throwaway_services

CHAIN = Job("smoke-seq", "2 executions of 2 sequential steps", "sequential", 2, 2, one_at_a_time=False)
FANOUT = Job("smoke-fan", "2 executions of a 2-way fan-out and join", "fanout", 2, 2, one_at_a_time=True)


async def _run_both(services: Services) -> tuple[Measurement, Measurement]:
    system = create(services)
    try:
        await system.open()
        return await measure(system, CHAIN, limit=8), await measure(system, FANOUT, limit=8)
    finally:
        await system.close()


async def test_the_floor_runs_every_step_once_with_one_commit_each_and_leaves_nothing_behind(
    database_url: str, redis_url: str
) -> None:
    async with throwaway_services("smoke", 2, database_url, redis_url) as services:
        chain, fanout = await _run_both(services)

    # measure() raises unless the workers counted exactly the expected steps.
    assert (chain.steps, fanout.steps) == (4, 8)
    # Per step: an UPDATE and an INSERT in one commit; per execution started: one INSERT.
    assert chain.statements_per_step == (4 * 2 + 2) / 4
    assert chain.commits_per_step == (4 + 2) / 4
    assert fanout.commits_per_step == (8 + 2) / 8
    assert chain.redis_commands_per_step > 3  # at least read, send and acknowledge
    assert 0 < fanout.p50_ms <= fanout.p95_ms
    assert chain.worker_cpu_ms_per_step > 0

    connection = await asyncpg.connect(database_url, timeout=5)
    try:
        name = services.database_url.rsplit("/", 1)[1]
        assert await connection.fetchval("SELECT count(*) FROM pg_database WHERE datname = $1", name) == 0
    finally:
        await connection.close()
    client = redis.Redis.from_url(redis_url)
    try:
        assert [key async for key in client.scan_iter(match=f"{services.redis_prefix}*")] == []
    finally:
        await client.aclose()
