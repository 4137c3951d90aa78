"""One measurement of one job on one system, and the medians over repeats."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import asdict, dataclass

from bench.durable.jobs import Job
from bench.durable.protocol import Counters, SystemUnderTest

SETTLE = 0.05  # seconds for the last step's counters to land after its commit became visible


@dataclass(frozen=True)
class Measurement:
    """The figures of one run of one job."""

    executions: int
    steps: int
    seconds: float
    steps_per_second: float
    executions_per_second: float
    p50_ms: float
    p95_ms: float
    statements_per_step: float
    commits_per_step: float
    redis_commands_per_step: float
    worker_cpu_ms_per_step: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def percentile(values: list[float], fraction: float) -> float:
    """The linearly interpolated percentile of ``values`` (``fraction`` between 0 and 1)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


async def measure(system: SystemUnderTest, job: Job, limit: float) -> Measurement:
    """Runs ``job`` once on ``system`` and checks that every step ran exactly once by its counters.

    Latency is an execution's finish time (reported by the system) minus the time just before
    ``start``. Concurrent jobs last from that time to the last finish; one-at-a-time jobs last
    the sum of their executions' latencies.
    """
    before = await system.counters()
    latencies: list[float] = []
    seconds = 0.0
    rounds = job.executions if job.one_at_a_time else 1
    for _ in range(rounds):
        started = time.time()
        ids = await system.start(job.workload())
        finished = await system.wait_all(limit)
        if set(finished) != set(ids):
            raise RuntimeError(f"{system.name}: wait_all answered for other executions than were started")
        latencies.extend(end - started for end in finished.values())
        seconds += max(finished.values()) - started
    await asyncio.sleep(SETTLE)
    spent = (await system.counters()) - before
    if spent.steps != job.steps:
        raise RuntimeError(f"{system.name} counted {spent.steps} steps for job {job.key}, expected {job.steps}")
    return _figures(job, seconds, latencies, spent)


def _figures(job: Job, seconds: float, latencies: list[float], spent: Counters) -> Measurement:
    return Measurement(
        executions=job.executions,
        steps=job.steps,
        seconds=seconds,
        steps_per_second=job.steps / seconds,
        executions_per_second=job.executions / seconds,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p95_ms=percentile(latencies, 0.95) * 1000,
        statements_per_step=spent.statements / spent.steps,
        commits_per_step=spent.commits / spent.steps,
        redis_commands_per_step=spent.redis_commands / spent.steps,
        worker_cpu_ms_per_step=spent.worker_cpu_seconds * 1000 / spent.steps,
    )


def medians(runs: list[Measurement]) -> dict[str, float]:
    """Each figure's median over ``runs`` (taken figure by figure)."""
    return {name: statistics.median(run.as_dict()[name] for run in runs) for name in runs[0].as_dict()}
