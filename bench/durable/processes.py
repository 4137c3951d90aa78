"""What every system under test does with its worker processes: sum their counters, wait for their work, stop them."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Mapping, MutableSequence, Sequence
from multiprocessing.process import BaseProcess
from typing import Any

from bench.durable.cpu import process_cpu_seconds
from bench.durable.floor import counting
from bench.durable.protocol import Counters


def worker_counters(local: MutableSequence[int], cells: Sequence[Any], processes: Sequence[BaseProcess]) -> Counters:
    """The harness process's counters plus every worker's shared cells, with the workers' CPU seconds."""
    total = counting.read(local)
    for shared in cells:
        total = total + counting.read(shared)
    cpu = sum(process_cpu_seconds(process.pid) for process in processes if process.pid is not None)
    return dataclasses.replace(total, worker_cpu_seconds=cpu)


async def stop_processes(processes: Sequence[BaseProcess], grace_seconds: float = 5) -> None:
    """SIGTERM each worker, then SIGKILL any still alive after ``grace_seconds``."""
    for process in processes:
        process.terminate()
    for process in processes:
        await asyncio.to_thread(process.join, grace_seconds)
        if process.is_alive():
            process.kill()
            await asyncio.to_thread(process.join, grace_seconds)


POLL_INTERVAL = 0.005
"""Seconds between the harness's checks for finished executions."""


async def wait_finished(
    pending: dict[Any, int],
    fetch_finished: Callable[[list[Any]], Awaitable[Sequence[Any]]],
    check: Callable[[Any, int], None],
    limit: float,
    key: Callable[[Any], Any] = lambda row: row["id"],
) -> Mapping[str, float]:
    """Polls until every pending execution finished; their finish times by id (as text).

    Args:
        pending: Execution id -> steps it must run; emptied as they finish.
        fetch_finished: The rows (``id``, ``finished``, ...) of those of the given ids that finished.
        check: Raises when a finished row is not the success expected (given its row and its steps).
        limit: Seconds to wait at most.
        key: A finished row's key in ``pending``.

    Raises:
        TimeoutError: Some had not finished after ``limit`` seconds.
    """
    deadline = time.monotonic() + limit
    finished: dict[str, float] = {}
    while pending:
        for row in await fetch_finished(list(pending)):
            check(row, pending.pop(key(row)))
            finished[str(row["id"])] = row["finished"]
        if not pending:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(pending)} executions had not finished after {limit} s")
        await asyncio.sleep(POLL_INTERVAL)
    return finished
