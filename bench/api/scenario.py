"""What the API benchmark does over HTTP: set up, load the two routes, run executions end to end, read the caches."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import asyncpg
import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.api.cluster import ADMIN
from bench.api.load import LoadResult, cpu_seconds, run_load
from bench.api.wire import WireClient
from bench.durable.hub import definition
from bench.durable.measure import percentile
from bench.durable.processes import wait_finished

WORKSPACE = "00000000-0000-7000-8000-000000000001"
"""The default workspace every hub has (``wirehub.store.DEFAULT_WORKSPACE_ID``)."""
_FINISHED = """
    SELECT id, status, extract(epoch FROM finished_at)::float8 AS finished
    FROM executions WHERE id = ANY($1::uuid[]) AND finished_at IS NOT NULL
"""


@dataclass(frozen=True)
class Target:
    """What the load is sent to: a two-step workflow and one finished execution of it."""

    token: str
    workflow_id: str
    execution_id: str

    @property
    def start_path(self) -> str:
        return f"/api/v1/workspaces/{WORKSPACE}/workflows/{self.workflow_id}/executions"

    @property
    def get_path(self) -> str:
        return f"/api/v1/workspaces/{WORKSPACE}/executions/{self.execution_id}"


async def log_in(url: str) -> str:
    """An access token of the run's admin."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        response = await client.post("/api/v1/auth/token", json={"username": ADMIN[0], "password": ADMIN[1]})
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token


async def prepare(url: str, poller: asyncpg.Connection) -> Target:
    """Logs in, saves the two-step workflow, runs one execution of it to the end."""
    token = await log_in(url)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        saved = await client.post(f"/api/v1/workspaces/{WORKSPACE}/workflows", json=definition("sequential", 2))
        if saved.status_code != 201:
            raise RuntimeError(f"saving the workflow: {saved.status_code} {saved.text}")
        target = Target(token, saved.json()["id"], "")
        started = await client.post(target.start_path, json={"input": {"n": 0}})
        if started.status_code != 201:
            raise RuntimeError(f"starting an execution: {started.status_code} {started.text}")
        execution_id = started.json()["id"]
    await wait_executions(poller, {execution_id: 2}, limit=60)
    return Target(token, target.workflow_id, execution_id)


async def wait_executions(poller: asyncpg.Connection, pending: dict[str, int], limit: float) -> dict[str, float]:
    """Waits until each execution finished (succeeded); their finish times, seen in the database."""

    async def fetch_finished(ids: list[Any]) -> Sequence[Any]:
        return list(await poller.fetch(_FINISHED, ids))

    def check(row: Any, _: int) -> None:
        if row["status"] != "succeeded":
            raise RuntimeError(f"execution {row['id']} ended {row['status']}")

    return dict(await wait_finished(pending, fetch_finished, check, limit, key=lambda row: str(row["id"])))


async def load_get(
    http: Sequence[WireClient], target: Target, clients: int, seconds: float, api_pids: Sequence[int]
) -> LoadResult:
    """get-execution: the finished execution, again and again."""
    path = target.get_path
    return await run_load(
        http,
        lambda client, _: client.get(path),
        clients=clients,
        seconds=seconds,
        warm_up=min(2.0, seconds / 2),
        expected=frozenset({200}),
        api_pids=api_pids,
    )


async def load_start(
    http: Sequence[WireClient], target: Target, clients: int, seconds: float, api_pids: Sequence[int]
) -> LoadResult:
    """start-execution: a new execution of the two-step workflow per request (the workers run them meanwhile)."""
    path = target.start_path
    return await run_load(
        http,
        lambda client, number: client.post(path, json={"input": {"n": number}}),
        clients=clients,
        seconds=seconds,
        warm_up=min(2.0, seconds / 2),
        expected=frozenset({201}),
        api_pids=api_pids,
    )


@dataclass(frozen=True)
class EndToEnd:
    """Executions started over HTTP and run to the end.

    Attributes:
        executions: How many were started.
        clients: How many clients started them.
        seconds: From the first start request to the last execution's end (its ``finished_at``).
        per_second: Executions over ``seconds``.
        p50_ms: The median of one execution's time from its start request to its end.
        p99_ms: Its 99th percentile.
        api_cpu_ms: CPU milliseconds of the API processes per execution.
        worker_cpu_ms: CPU milliseconds of the worker processes per execution.
        client_cpu_ms: CPU milliseconds of this (the clients') process per execution.
    """

    executions: int
    clients: int
    seconds: float
    per_second: float
    p50_ms: float
    p99_ms: float
    api_cpu_ms: float
    worker_cpu_ms: float
    client_cpu_ms: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


async def end_to_end(
    http: Sequence[WireClient],
    target: Target,
    poller: asyncpg.Connection,
    executions: int,
    clients: int,
    pids: tuple[Sequence[int], Sequence[int]],
) -> EndToEnd:
    """Starts ``executions`` executions with ``clients`` clients at once; waits until every one ended."""
    numbers = iter(range(executions))
    sent_at: dict[str, float] = {}

    async def loop(index: int) -> None:
        client = http[index]
        for number in numbers:
            sent = time.time()
            response = await client.post(target.start_path, json={"input": {"n": number}})
            if response.status_code != 201:
                raise RuntimeError(f"start: {response.status_code} {response.text[:500]}")
            sent_at[response.json()["id"]] = sent

    api_pids, worker_pids = pids
    cpu = (cpu_seconds(api_pids), cpu_seconds(worker_pids), time.process_time())
    began = time.time()
    await asyncio.gather(*(loop(index) for index in range(clients)))
    finished = await wait_executions(poller, dict.fromkeys(sent_at, 2), limit=max(60.0, executions / 5))
    api_cpu, worker_cpu, client_cpu = (
        cpu_seconds(api_pids) - cpu[0],
        cpu_seconds(worker_pids) - cpu[1],
        time.process_time() - cpu[2],
    )
    seconds = max(finished.values()) - began
    latencies = [finished[key] - sent for key, sent in sent_at.items()]
    return EndToEnd(
        executions=executions,
        clients=clients,
        seconds=seconds,
        per_second=executions / seconds,
        p50_ms=percentile(latencies, 0.5) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        api_cpu_ms=api_cpu * 1000 / executions,
        worker_cpu_ms=worker_cpu * 1000 / executions,
        client_cpu_ms=client_cpu * 1000 / executions,
    )


CacheFigures = dict[str, dict[str, float]]
"""cache -> lookups, hits, misses, seconds of each."""


async def cache_counters(urls: Sequence[str], token: str) -> CacheFigures:
    """The definition caches' counters, summed over the API processes' ``/metrics``."""
    totals: CacheFigures = defaultdict(lambda: defaultdict(float))
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        for url in urls:
            response = await client.get(f"{url}/metrics")
            response.raise_for_status()
            for family in text_string_to_metric_families(response.text):
                for sample in family.samples:
                    if sample.name == "wirehub_cache_lookups_total":
                        totals[sample.labels["cache"]][sample.labels["result"]] += sample.value
                    elif sample.name == "wirehub_cache_lookup_seconds_total":
                        totals[sample.labels["cache"]][f"{sample.labels['result']}_seconds"] += sample.value
    return {cache: dict(figures) for cache, figures in totals.items()}


def cache_report(before: CacheFigures, after: CacheFigures) -> dict[str, dict[str, float]]:
    """Per cache over a span: hits, misses, hit rate, the mean hit and miss in µs, and the time the hits saved."""
    report: dict[str, dict[str, float]] = {}
    for cache, figures in after.items():
        earlier = before.get(cache, {})

        def delta(name: str, figures: dict[str, float] = figures, earlier: dict[str, float] = earlier) -> float:
            return figures.get(name, 0.0) - earlier.get(name, 0.0)

        hits, misses = delta("hit"), delta("miss")
        mean_hit = delta("hit_seconds") / hits if hits else 0.0
        mean_miss = delta("miss_seconds") / misses if misses else 0.0
        report[cache] = {
            "hits": hits,
            "misses": misses,
            "hit_rate": hits / (hits + misses) if hits + misses else 0.0,
            "mean_hit_us": mean_hit * 1e6,
            "mean_miss_us": mean_miss * 1e6,
            "saved_ms_per_hit": (mean_miss - mean_hit) * 1000 if hits and misses else 0.0,
            "saved_seconds": hits * (mean_miss - mean_hit) if hits and misses else 0.0,
        }
    return report


def median(values: Sequence[float]) -> float:
    """The median (of repeats)."""
    return statistics.median(values)
