"""The table printed after a run, the ratios to the floor, and the machine the figures came from."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

import asyncpg
import redis.asyncio as redis

from bench.durable.jobs import Job

Results = dict[str, dict[str, dict[str, float]]]  # system -> job key -> figure -> median

COLUMNS = (
    ("steps/s", "steps_per_second", "{:,.0f}"),
    ("execs/s", "executions_per_second", "{:,.1f}"),
    ("p50 ms", "p50_ms", "{:.1f}"),
    ("p95 ms", "p95_ms", "{:.1f}"),
    ("stmts/step", "statements_per_step", "{:.2f}"),
    ("commits/step", "commits_per_step", "{:.2f}"),
    ("redis/step", "redis_commands_per_step", "{:.1f}"),
    ("cpu ms/step", "worker_cpu_ms_per_step", "{:.2f}"),
)


def table(results: Results, jobs: list[Job]) -> str:
    """A Markdown table: one row per system and job, medians over the repeats."""
    header = ["system", "job", *(title for title, _, _ in COLUMNS)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * 2 + "---:|" * len(COLUMNS)]
    for system, by_job in results.items():
        for job in jobs:
            figures = by_job[job.key]
            cells = [fmt.format(figures[key]) for _, key, fmt in COLUMNS]
            lines.append("| " + " | ".join([system, job.key, *cells]) + " |")
    return "\n".join(lines)


def ratios(results: Results, jobs: list[Job]) -> dict[str, dict[str, dict[str, float]]]:
    """Each system's steps/s and latencies divided by the floor's, job by job."""
    floor = results.get("floor")
    if floor is None:
        return {}
    return {
        system: {
            job.key: {
                key: by_job[job.key][key] / floor[job.key][key]
                for key in ("steps_per_second", "p50_ms", "p95_ms", "worker_cpu_ms_per_step")
            }
            for job in jobs
        }
        for system, by_job in results.items()
        if system != "floor"
    }


async def machine(database_url: str, redis_url: str) -> dict[str, object]:
    """What the figures were measured on."""
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        postgresql = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()
    client = redis.Redis.from_url(redis_url)
    try:
        redis_version = (await client.info("server"))["redis_version"]
    finally:
        await client.aclose()
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "postgresql": postgresql,
        "redis": redis_version,
        "taskiq": metadata.version("taskiq"),
        "taskiq-redis": metadata.version("taskiq-redis"),
        "redis-py": metadata.version("redis"),
        "asyncpg": metadata.version("asyncpg"),
    }
