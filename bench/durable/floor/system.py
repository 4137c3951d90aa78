"""The floor as a system under test: the harness side (start, wait, counters) and its worker processes."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import Mapping, MutableSequence, Sequence
from multiprocessing.process import BaseProcess
from typing import Any

import asyncpg
from taskiq_redis import RedisStreamBroker

from bench.durable.floor import counting, schema, worker
from bench.durable.floor.broker import StepTask, floor_broker, register_step
from bench.durable.processes import stop_processes, wait_finished, worker_counters
from bench.durable.protocol import Counters, Services, Workload

READY_TIMEOUT = 30.0


async def _not_in_this_process(execution_id: int, shape: str, width: int, index: int) -> None:
    raise RuntimeError("the harness process sends steps; only worker processes run them")


class FloorSystem:
    """Raw taskiq-redis dispatch plus one PostgreSQL commit per step, with ``services.workers`` workers."""

    name = "floor"

    def __init__(self, services: Services) -> None:
        self._services = services
        self._processes: list[BaseProcess] = []
        self._cells: list[MutableSequence[int]] = []
        self._local: list[int] = [0] * counting.CELLS
        self._pending: dict[int, int] = {}  # execution id -> steps it must complete
        self._broker: RedisStreamBroker | None = None
        self._task: StepTask | None = None
        self._pool: asyncpg.Pool | None = None
        self._poller: asyncpg.Connection | None = None

    async def open(self) -> None:
        connection = await asyncpg.connect(self._services.database_url, timeout=10)
        try:
            await connection.execute(schema.SCHEMA)
        finally:
            await connection.close()
        counting.install(self._local)
        self._broker = floor_broker(self._services.redis_url, self._services.redis_prefix)
        self._task = register_step(self._broker, _not_in_this_process)
        await self._broker.startup()  # creates the consumer group before anything is sent
        await self._start_workers()
        # What starts executions is part of the system and counted; the harness's waiting is not.
        self._pool = await asyncpg.create_pool(self._services.database_url, min_size=4, max_size=4)
        self._poller = await asyncpg.connect(self._services.database_url)

    async def _start_workers(self) -> None:
        # A fork server imports the worker's modules once (about 2 s here) and forks both workers
        # from it; spawning each would import them twice, in parallel, on the same two cores.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([worker.__name__])
        events = []
        for index in range(self._services.workers):
            cells: Any = context.Array("q", counting.CELLS, lock=False)
            ready = context.Event()
            config = worker.WorkerConfig(
                index, self._services.database_url, self._services.redis_url, self._services.redis_prefix
            )
            process = context.Process(target=worker.main, args=(config, cells, ready), daemon=True)
            process.start()
            self._processes.append(process)
            self._cells.append(cells)
            events.append(ready)
        deadline = time.monotonic() + READY_TIMEOUT
        for started, ready in zip(self._processes, events, strict=True):
            while not ready.is_set():
                if not started.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError(f"floor worker {started.pid} did not start (exit code {started.exitcode})")
                await asyncio.sleep(0.05)

    async def start(self, workload: Workload) -> Sequence[str]:
        assert self._pool is not None
        assert self._task is not None
        pool, task = self._pool, self._task
        branches = workload.width if workload.shape == "fanout" else 0

        async def start_one() -> int:
            async with pool.acquire() as connection:
                execution_id: int = await connection.fetchval(
                    schema.INSERT_EXECUTION, workload.shape, workload.width, branches
                )
            counting.add(counting.STATEMENTS)
            counting.add(counting.COMMITS)
            await task.kiq(execution_id, workload.shape, workload.width, 0)
            return execution_id

        ids = await asyncio.gather(*(start_one() for _ in range(workload.executions)))
        self._pending.update(dict.fromkeys(ids, workload.steps_per_execution))
        return [str(execution_id) for execution_id in ids]

    async def wait_all(self, limit: float) -> Mapping[str, float]:
        poller = self._poller
        assert poller is not None

        async def fetch_finished(ids: list[Any]) -> Sequence[Any]:
            return list(await poller.fetch(schema.FINISHED, ids))

        def check(row: Any, expected: int) -> None:
            if row["steps_done"] != expected:
                raise RuntimeError(f"execution {row['id']} finished after {row['steps_done']} steps, not {expected}")

        return await wait_finished(self._pending, fetch_finished, check, limit)

    async def counters(self) -> Counters:
        return worker_counters(self._local, self._cells, self._processes)

    async def close(self) -> None:
        await stop_processes(self._processes)
        if self._broker is not None:
            await self._broker.shutdown()
        if self._pool is not None:
            await self._pool.close()
        if self._poller is not None:
            await self._poller.close()


def create(services: Services) -> FloorSystem:
    """The factory ``run.SYSTEMS`` names."""
    return FloorSystem(services)
