"""``wirehub worker``'s process: open the database and the plugins, run a ``Worker`` until SIGTERM."""

from __future__ import annotations

import asyncio
import signal

from wirehub.runtime import NodeThreads, StepEnvironment, default_registry
from wirehub.settings import Settings
from wirehub.store import PlanCache, database_engine, session_factory
from wirehub.worker.process import Worker


class WorkerConfigError(ValueError):
    """The settings cannot run a worker (a distributed worker needs Redis)."""


async def serve(settings: Settings, *, name: str | None = None) -> None:
    """Runs one worker process until SIGTERM or SIGINT, then stops it gracefully.

    Raises:
        WorkerConfigError: ``WIREHUB_REDIS_URL`` is not set.
    """
    if settings.redis_url is None:
        raise WorkerConfigError("WIREHUB_REDIS_URL is not set: `wirehub worker` takes its work from Redis")
    from wirehub.store import ExecutionStore

    registry = default_registry(settings=settings)
    engine = database_engine(settings.database_url, pool_pre_ping=True)
    store = ExecutionStore(
        session_factory(engine, writes=True),
        PlanCache(),
        lease_seconds=settings.lease_seconds,
        catalog=registry,
        # A dispatch sent but not claimed within a lease (Redis lost it) is sent again.
        redelivery_seconds=settings.lease_seconds,
    )
    try:
        async with StepEnvironment(registry, NodeThreads(settings.egress_policy)) as env:
            worker = Worker(settings, store, env, name=name)
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, worker.stop)
            try:
                await worker.run()
            finally:
                for signum in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(signum)
    finally:
        await engine.dispose()
