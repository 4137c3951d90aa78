"""A floor worker process: receives a step, commits it to PostgreSQL, then sends what comes next."""

from __future__ import annotations

import asyncio
from collections.abc import MutableSequence
from dataclasses import dataclass
from multiprocessing.synchronize import Event

import asyncpg
from taskiq.api import run_receiver_task

from bench.durable.floor import counting, schema
from bench.durable.floor.broker import StepTask, floor_broker, register_step


@dataclass(frozen=True)
class WorkerConfig:
    """What a worker process needs; picklable, since workers start from a fork server."""

    index: int
    database_url: str
    redis_url: str
    redis_prefix: str
    pool_size: int = 8
    max_async_tasks: int = 100


class StepHandler:
    """Runs one step: one transaction (progress UPDATE + step INSERT), then the next steps' messages."""

    def __init__(self, worker: int, pool: asyncpg.Pool) -> None:
        self._worker = worker
        self._pool = pool
        self.task: StepTask | None = None

    async def __call__(self, execution_id: int, shape: str, width: int, index: int) -> None:
        async with self._pool.acquire() as connection, connection.transaction():
            following = await self._advance(connection, execution_id, shape, width, index)
            await connection.execute(schema.RECORD_STEP, execution_id, index, self._worker)
        counting.add(counting.STATEMENTS, 2)
        counting.add(counting.COMMITS)
        counting.add(counting.STEPS)
        assert self.task is not None
        task = self.task
        await asyncio.gather(*(task.kiq(execution_id, shape, width, step) for step in following))

    @staticmethod
    async def _advance(connection: asyncpg.Connection, execution_id: int, shape: str, width: int, index: int) -> range:
        """Applies step ``index`` to the progress row; returns the steps it makes ready."""
        if shape == "sequential":
            if index == width - 1:
                await connection.execute(schema.FINISH, execution_id)
                return range(0)
            await connection.execute(schema.ADVANCE, execution_id)
            return range(index + 1, index + 2)
        if index == 0:  # the fan-out's root: every branch becomes ready
            await connection.execute(schema.ADVANCE, execution_id)
            return range(1, width + 1)
        if index <= width:  # a branch: the last one to commit sends the join
            left = await connection.fetchval(schema.ADVANCE_BRANCH, execution_id)
            return range(width + 1, width + 2) if left == 0 else range(0)
        await connection.execute(schema.FINISH, execution_id)  # the join
        return range(0)


def main(config: WorkerConfig, cells: MutableSequence[int], ready: Event) -> None:
    """The worker process's entry point: counts into ``cells``, sets ``ready`` once it listens."""
    counting.install(cells)
    asyncio.run(_serve(config, ready))


async def _serve(config: WorkerConfig, ready: Event) -> None:
    pool = await asyncpg.create_pool(config.database_url, min_size=config.pool_size, max_size=config.pool_size)
    broker = floor_broker(config.redis_url, config.redis_prefix)
    handler = StepHandler(config.index, pool)
    handler.task = register_step(broker, handler)
    await broker.startup()
    ready.set()
    await run_receiver_task(broker, max_async_tasks=config.max_async_tasks)
