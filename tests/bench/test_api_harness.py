"""The API benchmark runs end to end in a tiny configuration (a smoke run of a few seconds, not a benchmark)."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import redis.asyncio as redis

from bench.api.cluster import HUB_KEY_PATTERNS, redis_database_url
from bench.api.run import Plan, benchmark, table

TINY = Plan(api_processes=(1, 2), clients=(1, 3), seconds=0.3, executions=6, end_to_end_clients=2, workers=1)


async def test_the_api_benchmark_measures_both_routes_end_to_end_and_the_caches_then_leaves_nothing_behind(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    results = await benchmark(TINY, tmp_path, database_url=database_url, redis_url=redis_url)

    assert set(results) == {"1", "2"}
    for measured in results.values():
        for route in ("get-execution", "start-execution"):
            assert [row["clients"] for row in measured[route]] == [1, 3]
            for row in measured[route]:
                assert row["requests"] > 0
                assert 0 < row["p50_ms"] <= row["p99_ms"]
                assert row["api_cpu_ms"] > 0
        whole = measured["end-to-end"]
        assert whole["executions"] == 6
        assert whole["per_second"] > 0
        # Every start after the first in a process finds its compiled plan cached; nothing else is looked up.
        assert measured["caches"]["plans"]["hit_rate"] > 0.5
        assert set(measured["caches"]) <= {"plans", "versions"}
    assert "| 2 | start-execution | 3 |" in table(results)
    # The second API process compiled the plan once, from the shared layer or the database.
    assert results["2"]["caches"]["plans"]["misses"] >= 1
    assert (tmp_path / "api-2.log").exists()

    connection = await asyncpg.connect(database_url, timeout=5)
    try:
        left = await connection.fetchval("SELECT count(*) FROM pg_database WHERE datname LIKE 'wirehub_bench_api_%'")
    finally:
        await connection.close()
    assert left == 0
    client = redis.Redis.from_url(redis_database_url(redis_url))
    try:
        for pattern in HUB_KEY_PATTERNS:
            assert [key async for key in client.scan_iter(match=pattern)] == []
    finally:
        await client.aclose()
