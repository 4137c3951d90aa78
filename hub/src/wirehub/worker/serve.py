"""``wirehub worker``'s process: open the database and the plugins, run a ``Worker`` until SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path

from prometheus_client import start_http_server

from wirehub.runtime import NodeThreads, StepEnvironment, default_registry
from wirehub.settings import Settings
from wirehub.store import PlanCache, credential_keyring, service_engine, session_factory
from wirehub.tracing import configure_tracing
from wirehub.worker.credentials import StoreCredentialSource
from wirehub.worker.process import Worker
from wirehub.worker.supervisor import beat

logger = logging.getLogger("wirehub.worker")

HEARTBEAT_EVERY_MAX = 1.0
"""Longest pause between two heartbeats."""


class WorkerConfigError(ValueError):
    """The settings cannot run a worker (a distributed worker needs Redis)."""


async def serve(settings: Settings, *, name: str | None = None, heartbeat: Path | None = None) -> None:
    """Runs one worker process until SIGTERM or SIGINT, then stops it gracefully.

    Args:
        settings: The worker's settings.
        name: Its name in claims and in the consumer group (``host:pid`` by default).
        heartbeat: A file this process's event loop touches every second or so, while
            it runs: how a supervisor tells a stuck worker from a busy one.

    Raises:
        WorkerConfigError: ``WIREHUB_REDIS_URL`` is not set.
        SettingsError: ``WIREHUB_CREDENTIAL_KEYS`` is missing or malformed.
    """
    if settings.redis_url is None:
        raise WorkerConfigError("WIREHUB_REDIS_URL is not set: `wirehub worker` takes its work from Redis")
    from wirehub.store import ExecutionStore

    beating: asyncio.Task[None] | None = None
    keyring = credential_keyring(settings)  # a distributed worker without the keys stops here, saying so
    if settings.worker_metrics_port:
        start_http_server(settings.worker_metrics_port, addr=settings.worker_metrics_address)
        logger.info("metrics on %s:%d", settings.worker_metrics_address, settings.worker_metrics_port)
    configure_tracing(settings.tracing, service="wirehub-worker")
    registry = default_registry(settings=settings)
    engine = service_engine(settings)
    store = ExecutionStore(
        session_factory(engine, writes=True),
        PlanCache(),
        lease_seconds=settings.lease_seconds,
        catalog=registry,
        # A dispatch sent but not claimed within a lease (Redis lost it) is sent again.
        redelivery_seconds=settings.lease_seconds,
    )
    try:
        credentials = StoreCredentialSource(session_factory(engine), keyring)
        async with StepEnvironment(registry, NodeThreads(settings.egress_policy), credentials=credentials) as env:
            worker = Worker(settings, store, env, name=name, sweep=settings.worker_sweep)
            if heartbeat is not None:
                every = min(HEARTBEAT_EVERY_MAX, settings.worker_heartbeat_timeout_seconds / 4)
                beating = asyncio.create_task(_heartbeat(heartbeat, every, worker.stop), name="heartbeat")
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, worker.stop)
            try:
                await worker.run()
            finally:
                for signum in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(signum)
    finally:
        if beating is not None:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
        await engine.dispose()


async def _heartbeat(path: Path, every: float, stop: Callable[[], None]) -> None:
    """Touches ``path`` from this event loop until cancelled: it goes stale when the loop is blocked.

    Should the supervisor die (this process is handed to another parent), the worker is stopped
    gracefully rather than left running unsupervised.
    """
    parent = os.getppid()
    while True:
        if os.getppid() != parent:
            logger.warning("the supervisor (pid %d) is gone; stopping", parent)
            stop()
            return
        beat(path)
        await asyncio.sleep(every)
