"""The durable hub as a system under test: ``wirehub`` workers on PostgreSQL and a Redis stream.

The worker processes are the hub's own ``Worker`` (broker, step runner, sweeper), each with its
own database engine and store, forked from a fork server that imports the hub once. They count
what they do in shared memory (``floor.counting``'s cells): SQL statements and commits through
SQLAlchemy's engine events, Redis commands through redis-py's connection class, and steps as the
accepted results of succeeded attempts. The harness side saves the two workflows, starts
executions through the store and sends their first dispatches; it counts the same way.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from collections.abc import Mapping, MutableSequence, Sequence
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any
from uuid import UUID

import asyncpg

from bench.durable.floor import counting
from bench.durable.floor.worker import WorkerConfig as FloorWorkerConfig
from bench.durable.processes import stop_processes, wait_finished, worker_counters
from bench.durable.protocol import Counters, Services, Workload

READY_TIMEOUT = 60.0
_FINISHED = """
    SELECT id, status, extract(epoch FROM finished_at)::float8 AS finished
    FROM executions WHERE id = ANY($1::uuid[]) AND finished_at IS NOT NULL
"""


def definition(shape: str, width: int) -> dict[str, Any]:
    """The benchmark's workflows, of no-op steps (``core.transform`` of a constant)."""
    steps: list[dict[str, Any]]
    if shape == "sequential":
        steps = [
            {"id": f"s{i}", "type": "core.transform", "needs": [f"s{i - 1}"] if i else [], "input": "`1`"}
            for i in range(width)
        ]
    else:
        names = [f"b{i}" for i in range(width)]
        branches: list[dict[str, Any]] = [
            {"id": f"b{i}", "type": "core.transform", "needs": ["root"], "input": "`1`"} for i in range(width)
        ]
        steps = [
            {"id": "root", "type": "core.transform", "input": "`1`"},
            *branches,
            {"id": "join", "type": "core.transform", "needs": names, "input": "`1`"},
        ]
    return {"name": f"bench-{shape}-{width}", "steps": steps}


def count_database(engine: Any, cells: MutableSequence[int]) -> None:
    """Counts the statements and commits of an ``AsyncEngine`` in ``cells``."""
    from sqlalchemy import event

    def on_statement(*_: Any) -> None:
        cells[counting.STATEMENTS] += 1

    def on_commit(*_: Any) -> None:
        cells[counting.COMMITS] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", on_statement)
    event.listen(engine.sync_engine, "commit", on_commit)


def count_redis(broker: Any, cells: MutableSequence[int]) -> None:
    """Counts every Redis command of a not yet started broker's pool (pipelines encode each command)."""
    pool = broker.connection_pool
    base = pool.connection_class

    class Counting(base):  # type: ignore[misc,valid-type]
        def pack_command(self, *args: Any) -> Any:
            cells[counting.REDIS_COMMANDS] += 1
            return super().pack_command(*args)

    pool.connection_class = Counting


def count_steps(store: Any, cells: MutableSequence[int]) -> None:
    """Counts the accepted results of succeeded attempts of ``store`` (``finish``, ``finish_all``, ``finish_many``)."""
    from wirehub.engine import StepSucceeded

    finish = store.finish

    async def counted(claim: Any, outcome: Any, **options: Any) -> Any:
        applied = await finish(claim, outcome, **options)
        if applied.accepted and isinstance(outcome, StepSucceeded):
            cells[counting.STEPS] += 1
        return applied

    finish_all = store.finish_all

    async def counted_all(results: Any, **options: Any) -> Any:
        applied = await finish_all(results, **options)
        if len(results) > 1:  # one result goes through ``finish``, counted there
            pairs = zip(applied, results, strict=True)
            cells[counting.STEPS] += sum(a.accepted and isinstance(outcome, StepSucceeded) for a, (_, outcome) in pairs)
        return applied

    finish_many = store.finish_many

    async def counted_many(groups: Any, **options: Any) -> Any:
        applied = await finish_many(groups, **options)
        for group, recorded in zip(groups, applied, strict=True):
            pairs = zip(recorded, group.results, strict=True)
            cells[counting.STEPS] += sum(a.accepted and isinstance(outcome, StepSucceeded) for a, (_, outcome) in pairs)
        return applied

    store.finish = counted
    store.finish_all = counted_all
    store.finish_many = counted_many


FLOOR_TASKS = FloorWorkerConfig.max_async_tasks
"""How many tasks a floor worker runs at once; each hub worker gets as many slots."""


@dataclass(frozen=True)
class WorkerConfig:
    """What a worker process needs."""

    index: int
    database_url: str
    redis_url: str
    stream: str


def sqlalchemy_url(url: str) -> str:
    """The asyncpg driver's URL for SQLAlchemy."""
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


def worker_main(config: WorkerConfig, cells: MutableSequence[int], ready: Any) -> None:
    """A worker process: the hub's ``Worker`` with counters, until the harness terminates it."""
    asyncio.run(_worker(config, cells, ready))


async def _worker(config: WorkerConfig, cells: MutableSequence[int], ready: Any) -> None:
    from wirehub.runtime import NodeThreads, StepEnvironment, default_registry
    from wirehub.settings import Settings
    from wirehub.store import ExecutionStore, PlanCache, database_engine, session_factory
    from wirehub.worker.process import Worker

    # As many attempts at once as a floor worker runs tasks (its ``max_async_tasks``): the same concurrency.
    settings = Settings(
        database_url=sqlalchemy_url(config.database_url),
        redis_url=config.redis_url,
        worker_concurrency=FLOOR_TASKS,
    )
    registry = default_registry(settings=settings)
    engine = database_engine(settings.database_url)
    count_database(engine, cells)
    store = ExecutionStore(
        session_factory(engine, writes=True),
        PlanCache(),
        lease_seconds=settings.lease_seconds,
        catalog=registry,
        redelivery_seconds=settings.lease_seconds,
    )
    count_steps(store, cells)
    async with StepEnvironment(registry, NodeThreads(settings.egress_policy)) as env:
        worker = Worker(settings, store, env, name=f"bench-{config.index}-{os.getpid()}", stream=config.stream)
        count_redis(worker.broker, cells)
        running = asyncio.create_task(worker.run())
        await worker.started.wait()
        ready.set()
        await running


class HubSystem:
    """The distributed hub with ``services.workers`` worker processes."""

    name = "durable"

    def __init__(self, services: Services) -> None:
        self._services = services
        self._stream = f"{services.redis_prefix}dispatch"
        self._processes: list[BaseProcess] = []
        self._cells: list[MutableSequence[int]] = []
        self._local: list[int] = [0] * counting.CELLS
        self._workflows: dict[tuple[str, int], UUID] = {}
        self._pending: dict[str, int] = {}
        self._poller: asyncpg.Connection | None = None
        self._engine: Any = None
        self._store: Any = None
        self._dispatcher: Any = None
        self._broker: Any = None
        self._registry: Any = None

    async def open(self) -> None:
        from wirehub.runtime import default_registry
        from wirehub.settings import Settings
        from wirehub.store import ExecutionStore, PlanCache, database_engine, session_factory, upgrade_database
        from wirehub.worker.broker import broker_for
        from wirehub.worker.dispatcher import Dispatcher
        from wirehub.worker.task import register

        settings = Settings(
            database_url=sqlalchemy_url(self._services.database_url), redis_url=self._services.redis_url
        )
        self._engine = database_engine(settings.database_url)
        await upgrade_database(self._engine)
        count_database(self._engine, self._local)
        self._registry = default_registry(settings=settings)
        self._store = ExecutionStore(session_factory(self._engine, writes=True), PlanCache(), catalog=self._registry)
        self._broker = broker_for(settings, stream=self._stream)
        count_redis(self._broker, self._local)
        register(self._broker)  # this side only sends
        await self._broker.startup()  # the consumer group exists before anything is sent
        self._dispatcher = Dispatcher(self._broker, self._store)
        await self._start_workers()
        self._poller = await asyncpg.connect(self._services.database_url)

    async def _start_workers(self) -> None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__, "wirehub.worker.process", "wirehub.store", "wirehub.runtime"])
        events = []
        for index in range(self._services.workers):
            cells: Any = context.Array("q", counting.CELLS, lock=False)
            ready = context.Event()
            config = WorkerConfig(index, self._services.database_url, self._services.redis_url, self._stream)
            process = context.Process(target=worker_main, args=(config, cells, ready), daemon=True)
            process.start()
            self._processes.append(process)
            self._cells.append(cells)
            events.append(ready)
        deadline = time.monotonic() + READY_TIMEOUT
        for started, ready in zip(self._processes, events, strict=True):
            while not ready.is_set():
                if not started.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError(f"hub worker {started.pid} did not start (exit code {started.exitcode})")
                await asyncio.sleep(0.05)

    async def _workflow(self, workload: Workload) -> UUID:
        from wirehub.store import WorkflowVersionService, session_factory

        key = (workload.shape, workload.width)
        if key not in self._workflows:
            async with session_factory(self._engine, writes=True).begin() as session:
                version = await WorkflowVersionService(session, self._registry, self._store.plans).create(
                    definition(*key)
                )
            self._workflows[key] = version.workflow_id
        return self._workflows[key]

    async def start(self, workload: Workload) -> Sequence[str]:
        workflow_id = await self._workflow(workload)

        async def start_one() -> str:
            execution_id, applied = await self._store.start(workflow_id, None, None)
            await self._dispatcher.send(applied.dispatches)
            return str(execution_id)

        ids = await asyncio.gather(*(start_one() for _ in range(workload.executions)))
        self._pending.update(dict.fromkeys(ids, workload.steps_per_execution))
        return ids

    async def wait_all(self, limit: float) -> Mapping[str, float]:
        poller = self._poller
        assert poller is not None

        async def fetch_finished(ids: list[Any]) -> Sequence[Any]:
            return list(await poller.fetch(_FINISHED, ids))

        def check(row: Any, expected: int) -> None:
            if row["status"] != "succeeded":
                raise RuntimeError(f"execution {row['id']} ended {row['status']}")

        return await wait_finished(self._pending, fetch_finished, check, limit, key=lambda row: str(row["id"]))

    async def counters(self) -> Counters:
        return worker_counters(self._local, self._cells, self._processes)

    async def close(self) -> None:
        await stop_processes(self._processes)
        if self._broker is not None:
            await self._broker.shutdown()
        if self._poller is not None:
            await self._poller.close()
        if self._engine is not None:
            await self._engine.dispose()


def create(services: Services) -> HubSystem:
    """The factory ``run.SYSTEMS`` names."""
    return HubSystem(services)
