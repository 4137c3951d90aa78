"""Runs the durable benchmark: every job on every system, three times, medians reported.

    uv run python -m bench.durable.run [--quick] [--json results.json] [--systems floor]

Needs PostgreSQL (``WIREHUB_BENCH_DATABASE_URL``, default postgresql://postgres@127.0.0.1:5432/test)
and Redis (``WIREHUB_BENCH_REDIS_URL``, default redis://127.0.0.1:6379/0). Each system gets a
throwaway database and Redis key prefix, removed afterwards. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path

from bench.durable import report
from bench.durable.jobs import WARM_UP, Job, jobs
from bench.durable.measure import Measurement, measure, medians
from bench.durable.protocol import Services, SystemUnderTest
from bench.durable.services import database_server_url, redis_server_url, throwaway_services

# name -> "module:factory"; a factory takes the run's Services and returns a SystemUnderTest.
SYSTEMS = {
    "floor": "bench.durable.floor:create",
    "durable": "bench.durable.hub:create",
    "embedded": "bench.durable.embedded:create",
}


def load_factory(name: str) -> Callable[[Services], SystemUnderTest]:
    """The factory registered under ``name`` in ``SYSTEMS``."""
    module, _, attribute = SYSTEMS[name].partition(":")
    factory: Callable[[Services], SystemUnderTest] = getattr(importlib.import_module(module), attribute)
    return factory


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.durable.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts: about a minute")
    parser.add_argument("--json", type=Path, help="write the results, every run and the machine here")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help=f"comma-separated, of {', '.join(SYSTEMS)}")
    parser.add_argument("--repeats", type=int, default=3, help="measurements per job; medians are reported")
    parser.add_argument("--workers", type=int, default=2, help="worker processes per system")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds one measurement may take")
    arguments = parser.parse_args(argv)
    unknown = set(arguments.systems.split(",")) - set(SYSTEMS)
    if unknown:
        parser.error(f"unknown systems: {', '.join(sorted(unknown))}")
    if not 1 <= arguments.repeats <= 9:
        parser.error("--repeats must be between 1 and 9")
    return arguments


async def benchmark(
    systems: list[str], selected: list[Job], repeats: int, workers: int, limit: float
) -> dict[str, dict[str, list[Measurement]]]:
    """Opens every system, then measures job after job, interleaving the systems in each repeat.

    Interleaving makes the systems share the machine's changing load, so their ratios hold
    better than their absolute figures on a shared machine.
    """
    runs: dict[str, dict[str, list[Measurement]]] = {name: {job.key: [] for job in selected} for name in systems}
    async with AsyncExitStack() as stack:
        opened: list[SystemUnderTest] = []
        for name in systems:
            services = await stack.enter_async_context(throwaway_services(name, workers))
            system = load_factory(name)(services)
            stack.push_async_callback(system.close)
            await system.open()
            await measure(system, WARM_UP, limit)
            opened.append(system)
        for repeat in range(1, repeats + 1):
            for job in selected:
                for system in opened:
                    result = await measure(system, job, limit)
                    runs[system.name][job.key].append(result)
                    print(
                        f"  repeat {repeat} {system.name:>8} {job.key:<6} {result.steps_per_second:8,.0f} steps/s"
                        f"  p50 {result.p50_ms:7.1f} ms  p95 {result.p95_ms:7.1f} ms",
                        flush=True,
                    )
    return runs


def main(argv: list[str] | None = None) -> None:
    arguments = _arguments(argv)
    systems = arguments.systems.split(",")
    selected = jobs(arguments.quick)
    machine = asyncio.run(report.machine(database_server_url(), redis_server_url()))
    load_before = os.getloadavg()
    began = time.monotonic()
    runs = asyncio.run(benchmark(systems, selected, arguments.repeats, arguments.workers, arguments.timeout))
    duration = time.monotonic() - began
    results = {name: {key: medians(measured) for key, measured in by_job.items()} for name, by_job in runs.items()}
    print()
    for job in selected:
        print(f"{job.key}: {job.title}")
    print()
    print(report.table(results, selected))
    ratios = report.ratios(results, selected)
    if ratios:
        print()
        print(json.dumps(ratios, indent=2))
    load_after = os.getloadavg()
    print(
        f"\n{arguments.repeats} repeats in {duration:.0f} s; load average {load_before[0]:.1f} -> {load_after[0]:.1f}"
    )
    if arguments.json:
        document = {
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "quick": arguments.quick,
            "repeats": arguments.repeats,
            "workers": arguments.workers,
            "seconds": duration,
            "load_average": {"before": load_before, "after": load_after},
            "machine": machine,
            "jobs": {job.key: job.title for job in selected},
            "medians": results,
            "ratios_to_floor": ratios,
            "runs": {
                name: {key: [m.as_dict() for m in measured] for key, measured in by_job.items()}
                for name, by_job in runs.items()
            },
        }
        arguments.json.write_text(json.dumps(document, indent=2) + "\n")
        print(f"results written to {arguments.json}")


if __name__ == "__main__":
    main()
