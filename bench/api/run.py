"""Runs the API benchmark: get-execution and start-execution under load, executions end to end, the caches.

    uv run python -m bench.api.run [--quick] [--json results.json]

Starts ``wirehub migrate``, 2 ``wirehub worker`` processes and ``wirehub serve`` (then a second one)
on a throwaway PostgreSQL database (``WIREHUB_BENCH_DATABASE_URL``) and a Redis database of its own
(``WIREHUB_BENCH_REDIS_URL``'s server, database ``WIREHUB_BENCH_API_REDIS_DB``, 13 by default), and
loads them over HTTP from this process. See docs/benchmarks.md#api.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench.api.cluster import redis_database_url, running_cluster
from bench.api.load import LoadResult, http_clients
from bench.api.scenario import cache_counters, cache_report, end_to_end, load_get, load_start, prepare
from bench.durable.services import throwaway_services

TARGET_PER_SECOND = 220.0
"""n8n's published figure for one instance on 2 vCPUs: executions per second."""
DRAIN_SECONDS = 300.0


@dataclass(frozen=True)
class Plan:
    """How much to measure.

    Attributes:
        api_processes: The numbers of ``wirehub serve`` processes to measure with, in order.
        clients: The numbers of concurrent clients of each load.
        seconds: How long each load is measured (after a warm-up of half of it, 2 s at most).
        executions: How many executions the end-to-end run starts.
        end_to_end_clients: How many clients start them.
        workers: ``wirehub worker`` processes.
    """

    api_processes: tuple[int, ...] = (1, 2)
    clients: tuple[int, ...] = (1, 16, 64)
    seconds: float = 8.0
    executions: int = 2000
    end_to_end_clients: int = 64
    workers: int = 2


QUICK = Plan(seconds=3.0, executions=400)
FULL = Plan()


async def drain(poller: asyncpg.Connection, limit: float = DRAIN_SECONDS) -> None:
    """Waits until no execution is left running (so that each measurement starts from a quiet hub)."""
    deadline = time.monotonic() + limit
    while await poller.fetchval("SELECT count(*) FROM executions WHERE finished_at IS NULL"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"executions still running after {limit} s")
        await asyncio.sleep(0.05)


def _line(label: str, result: LoadResult) -> str:
    return (
        f"  {label:<28} {result.clients:>3} clients {result.per_second:8,.0f} req/s"
        f"  p50 {result.p50_ms:7.1f} ms  p99 {result.p99_ms:7.1f} ms"
        f"  API CPU {result.api_cpu_ms:5.2f} ms/req  client CPU {result.client_cpu_ms:5.2f} ms/req"
    )


async def benchmark(
    plan: Plan,
    logs: Path,
    profiles: Path | None = None,
    *,
    database_url: str | None = None,
    redis_url: str | None = None,
    settings: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Measures ``plan`` on a hub of its own; the results by number of API processes.

    Args:
        plan: What to measure.
        logs: Where the processes' output goes.
        profiles: Run the API and worker processes under cProfile, their profiles written here.
        database_url: The PostgreSQL server (``WIREHUB_BENCH_DATABASE_URL`` by default).
        redis_url: The Redis server (``WIREHUB_BENCH_REDIS_URL`` by default); the run uses its
            database ``WIREHUB_BENCH_API_REDIS_DB``.
        settings: More ``WIREHUB_*`` settings for every process of the hub.
    """
    results: dict[str, Any] = {}
    async with throwaway_services("api", plan.workers, database_url, redis_url) as services:
        redis_url = redis_database_url(services.redis_url)
        async with running_cluster(services.database_url, redis_url, logs, settings, profiles=profiles) as cluster:
            await cluster.migrate()
            await cluster.add_workers(plan.workers)
            await cluster.add_api()
            poller = await asyncpg.connect(services.database_url)
            try:
                target = await prepare(cluster.api_urls[0], poller)
                for count in plan.api_processes:
                    while len(cluster.api_urls) < count:
                        await cluster.add_api()
                    urls, pids = cluster.api_urls[:count], cluster.api_pids[:count]
                    before = await cache_counters(urls, target.token)
                    measured: dict[str, Any] = {}
                    for route, load in (("get-execution", load_get), ("start-execution", load_start)):
                        for clients in plan.clients:
                            await drain(poller)
                            http = http_clients(urls, clients, target.token)
                            try:
                                result = await load(http, target, clients, plan.seconds, pids)
                            finally:
                                await asyncio.gather(*(client.aclose() for client in http))
                            measured.setdefault(route, []).append(result.as_dict())
                            print(_line(f"{count} API, {route}", result), flush=True)
                    await drain(poller)
                    http = http_clients(urls, plan.end_to_end_clients, target.token)
                    try:
                        whole = await end_to_end(
                            http, target, poller, plan.executions, plan.end_to_end_clients, (pids, cluster.worker_pids)
                        )
                    finally:
                        await asyncio.gather(*(client.aclose() for client in http))
                    print(
                        f"  {count} API, end to end: {whole.executions} executions of 2 steps, "
                        f"{whole.clients} clients: {whole.per_second:,.0f} executions/s "
                        f"({whole.per_second / TARGET_PER_SECOND:.2f} x {TARGET_PER_SECOND:.0f}/s); "
                        f"start to end p50 {whole.p50_ms:.0f} ms, p99 {whole.p99_ms:.0f} ms; CPU ms per execution:"
                        f" API {whole.api_cpu_ms:.1f}, workers {whole.worker_cpu_ms:.1f},"
                        f" clients {whole.client_cpu_ms:.1f}",
                        flush=True,
                    )
                    measured["end-to-end"] = whole.as_dict()
                    measured["caches"] = cache_report(before, await cache_counters(urls, target.token))
                    results[str(count)] = measured
            finally:
                await poller.close()
    return results


def table(results: dict[str, Any]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| API processes | route | clients | req/s | p50 ms | p99 ms | API CPU ms/req |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for count, measured in results.items():
        for route in ("get-execution", "start-execution"):
            for row in measured.get(route, []):
                lines.append(
                    f"| {count} | {route} | {row['clients']} | {row['per_second']:,.0f} | {row['p50_ms']:.1f}"
                    f" | {row['p99_ms']:.1f} | {row['api_cpu_ms']:.2f} |"
                )
    lines += [
        "",
        "| API processes | executions | clients | executions/s | x 220/s | p50 ms | p99 ms"
        " | API CPU ms/exec | workers CPU ms/exec |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for count, measured in results.items():
        whole = measured["end-to-end"]
        lines.append(
            f"| {count} | {whole['executions']} | {whole['clients']} | {whole['per_second']:,.0f}"
            f" | {whole['per_second'] / TARGET_PER_SECOND:.2f} | {whole['p50_ms']:.0f} | {whole['p99_ms']:.0f}"
            f" | {whole['api_cpu_ms']:.1f} | {whole['worker_cpu_ms']:.1f} |"
        )
    lines += ["", "| API processes | cache | hits | misses | hit rate | mean hit µs | mean miss µs | saved ms/hit |"]
    lines += ["| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for count, measured in results.items():
        for cache, row in sorted(measured["caches"].items()):
            lines.append(
                f"| {count} | {cache} | {row['hits']:,.0f} | {row['misses']:,.0f} | {row['hit_rate']:.1%}"
                f" | {row['mean_hit_us']:,.0f} | {row['mean_miss_us']:,.0f} | {row['saved_ms_per_hit']:.2f} |"
            )
    return "\n".join(lines)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.api.run", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 s per load, 400 executions end to end")
    parser.add_argument("--json", type=Path, help="write the results and the load average here")
    parser.add_argument("--logs", type=Path, help="the processes' logs go here (a temporary directory by default)")
    parser.add_argument(
        "--profile", type=Path, help="run the API and worker processes under cProfile; their profiles go here"
    )
    parser.add_argument("--api-processes", help="comma-separated numbers of API processes (default 1,2)")
    parser.add_argument(
        "--clients",
        help="comma-separated numbers of concurrent clients (default 1,16,64); none: the end-to-end run only",
    )
    parser.add_argument("--seconds", type=float, help="seconds each load is measured")
    parser.add_argument("--executions", type=int, help="executions started end to end")
    parser.add_argument("--workers", type=int, help="wirehub worker processes (default 2)")
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="WIREHUB_NAME=VALUE",
        help="a setting for every process of the hub (repeatable), e.g. WIREHUB_WORKER_CONCURRENCY=32",
    )
    return parser.parse_args(argv)


def _numbers(text: str) -> tuple[int, ...]:
    """Comma-separated numbers; ``none`` for none (``--clients none``: only the end-to-end run)."""
    if text == "none":
        return ()
    return tuple(int(part) for part in text.split(","))


def main(argv: list[str] | None = None) -> None:
    arguments = _arguments(argv)
    plan = QUICK if arguments.quick else FULL
    changes: dict[str, Any] = {}
    if arguments.api_processes:
        changes["api_processes"] = _numbers(arguments.api_processes)
    if arguments.clients:
        changes["clients"] = _numbers(arguments.clients)
    if arguments.seconds:
        changes["seconds"] = arguments.seconds
    if arguments.executions:
        changes["executions"] = arguments.executions
    if arguments.workers:
        changes["workers"] = arguments.workers
    settings = dict(setting.split("=", 1) for setting in arguments.setting)
    plan = dataclasses.replace(plan, **changes)
    if arguments.profile:
        arguments.profile.mkdir(parents=True, exist_ok=True)
    logs = arguments.logs or Path(tempfile.mkdtemp(prefix="wirehub-bench-api-"))
    logs.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    print(f"load average {load_before[0]:.2f}; process logs in {logs}", flush=True)
    began = time.monotonic()
    results = asyncio.run(benchmark(plan, logs, arguments.profile, settings=settings))
    duration = time.monotonic() - began
    load_after = os.getloadavg()
    print()
    print(table(results))
    print(f"\n{duration:.0f} s; load average {load_before[0]:.2f} -> {load_after[0]:.2f}")
    if arguments.json:
        document = {
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "plan": plan.__dict__,
            "seconds": duration,
            "load_average": {"before": load_before, "after": load_after},
            "results": results,
        }
        arguments.json.write_text(json.dumps(document, indent=2) + "\n")
        print(f"results written to {arguments.json}")


if __name__ == "__main__":
    main()
