"""What every system under test does with its worker processes: sum their counters, stop them."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import MutableSequence, Sequence
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
