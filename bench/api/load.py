"""Closed-loop HTTP load: ``clients`` tasks each sending one request after another for a while.

Each task has its own keep-alive connection (:func:`http_clients`, a ``bench.api.wire.WireClient``);
task ``i`` sends to API process ``i mod n``. Latency is from sending a request to reading its whole body.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass

from bench.api.wire import Answer, WireClient
from bench.durable.cpu import process_cpu_seconds
from bench.durable.measure import percentile

Send = Callable[[WireClient, int], Awaitable[Answer]]
"""Sends the ``n``-th request of a client (numbered across all clients) and returns its response."""


@dataclass(frozen=True)
class LoadResult:
    """What one load run measured.

    Attributes:
        requests: Requests answered within the measured window.
        seconds: The measured window's length.
        per_second: Requests answered per second.
        p50_ms: The median latency.
        p99_ms: The 99th percentile of the latency.
        mean_ms: The mean latency.
        api_cpu_ms: CPU milliseconds the API processes used per request (over the window).
        client_cpu_ms: CPU milliseconds this (the load's) process used per request.
    """

    clients: int
    requests: int
    seconds: float
    per_second: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    api_cpu_ms: float
    client_cpu_ms: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def http_clients(urls: Sequence[str], clients: int, token: str) -> list[WireClient]:
    """One keep-alive connection per load client, client ``i`` on API process ``i mod n``.

    One connection per client, and not ``httpx``: a single ``httpx.AsyncClient`` shared by 64 tasks
    spent more CPU in its connection pool than the API spent answering (8.6 ms a request against
    1.1 ms with one task), and one per task still 1.4 to 1.9 ms a request, taken from the cores
    the hub runs on (``bench.api.wire``).
    """
    headers = {"Authorization": f"Bearer {token}"}
    return [WireClient(urls[index % len(urls)], headers=headers, timeout=60) for index in range(clients)]


def cpu_seconds(pids: Sequence[int]) -> float:
    """User plus system CPU seconds the processes used so far."""
    return sum(process_cpu_seconds(pid) for pid in pids)


async def run_load(
    http: Sequence[WireClient],
    send: Send,
    *,
    clients: int,
    seconds: float,
    warm_up: float,
    expected: frozenset[int],
    api_pids: Sequence[int],
) -> LoadResult:
    """Runs ``clients`` loops of ``send`` for ``warm_up + seconds``; measures the answers of the last ``seconds``.

    Throughput and latency are of the requests answered within the window (a request sent in the
    warm-up and answered in the window counts), the CPU time is what the window took.

    Raises:
        RuntimeError: A response's status was not one of ``expected``.
    """
    answers: list[tuple[float, float]] = []  # (sent, answered)
    counter = iter(range(10**12))
    window = time.perf_counter() + warm_up
    end = window + seconds
    marks: dict[str, float] = {}

    async def loop(index: int) -> None:
        client = http[index]
        while (sent := time.perf_counter()) < end:
            response = await send(client, next(counter))
            answers.append((sent, time.perf_counter()))
            if response.status_code not in expected:
                raise RuntimeError(f"{response.method} {response.path}: {response.status_code} {response.text[:500]}")

    async def mark(at: float, name: str) -> None:
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        marks[f"{name}_api"], marks[f"{name}_client"] = cpu_seconds(api_pids), time.process_time()
        marks[name] = time.perf_counter()

    markers = [asyncio.create_task(mark(window, "from")), asyncio.create_task(mark(end, "to"))]
    await asyncio.gather(*(loop(index) for index in range(clients)))
    await asyncio.gather(*markers)
    # The answers that came within the window: their rate, their latencies, the CPU the window took.
    latencies = [answered - sent for sent, answered in answers if marks["from"] <= answered < marks["to"]]
    measured = marks["to"] - marks["from"]
    count = len(latencies)
    if not count:
        raise RuntimeError("no request was answered in the measured window")
    api_cpu = marks["to_api"] - marks["from_api"]
    client_cpu = marks["to_client"] - marks["from_client"]
    return LoadResult(
        clients=clients,
        requests=count,
        seconds=measured,
        per_second=count / measured,
        p50_ms=percentile(latencies, 0.5) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        mean_ms=statistics.fmean(latencies) * 1000,
        api_cpu_ms=api_cpu * 1000 / count,
        client_cpu_ms=client_cpu * 1000 / count,
    )
