"""The durable hub and the embedded hub run as systems under test of the durable benchmark (a smoke run)."""

from __future__ import annotations

import pytest
import redis.asyncio as redis

from bench.durable import embedded, hub
from bench.durable.jobs import Job
from bench.durable.measure import measure
from bench.durable.services import throwaway_services

CHAIN = Job("smoke-seq", "2 executions of 3 sequential steps", "sequential", 3, 2, one_at_a_time=False)
FANOUT = Job("smoke-fan", "2 executions of a 2-way fan-out and join", "fanout", 2, 2, one_at_a_time=True)


@pytest.mark.parametrize("module", [hub, embedded], ids=["durable", "embedded"])
async def test_the_hub_runs_every_step_once_and_counts_its_work(
    database_url: str, redis_url: str, module: object
) -> None:
    async with throwaway_services("smoke", 1, database_url, redis_url) as services:
        system = module.create(services)  # type: ignore[attr-defined]
        try:
            await system.open()
            chain = await measure(system, CHAIN, limit=20)
            fanout = await measure(system, FANOUT, limit=20)
        finally:
            await system.close()
        prefix = services.redis_prefix

    # measure() raises unless the system counted exactly the expected steps.
    assert (chain.steps, fanout.steps) == (6, 8)
    # Every step is at least its result's transaction (the sweepers' commits come on top).
    assert chain.commits_per_step >= 1
    assert chain.statements_per_step > chain.commits_per_step
    if module is hub:
        assert chain.redis_commands_per_step > 0  # the first step of each execution goes through Redis
    assert 0 < fanout.p50_ms <= fanout.p95_ms
    client = redis.Redis.from_url(redis_url)
    try:
        assert [key async for key in client.scan_iter(match=f"{prefix}*")] == []
    finally:
        await client.aclose()
