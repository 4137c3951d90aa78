"""A worker: broker, step runner and sweeper in one process, stopped gracefully."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from wirehub.events import ExecutionChannels
from wirehub.runtime import StepEnvironment
from wirehub.settings import Settings
from wirehub.worker.broker import STREAM, broker_for
from wirehub.worker.claim_queue import ClaimQueue
from wirehub.worker.dispatcher import Dispatcher
from wirehub.worker.slots import Slots
from wirehub.worker.steps import StepRunner
from wirehub.worker.sweeper import Sweeper
from wirehub.worker.task import register

if TYPE_CHECKING:
    from wirehub.store import ExecutionStore
    from wirehub.worker.consumer import Consumer

logger = logging.getLogger("wirehub.worker")

START_BACKOFF_MAX = 5.0
"""Longest pause between two attempts to reach a broker that is not up yet."""


def worker_name() -> str:
    """This process's name in claims and in the consumer group: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker:
    """Runs dispatched attempts and sweeps, until ``stop()``.

    Embedded (no ``redis_url``) the broker is in-process: ``send`` runs each
    attempt in this event loop. Distributed, a ``Consumer`` reads the Redis
    stream. Either way a ``Sweeper`` runs beside it, and the store publishes
    every transition it commits on ``channels`` (``wirehub.events``).

    On ``stop()`` it stops taking work, lets running attempts finish for
    ``shutdown_grace_seconds``, hands back those still running (another
    worker claims them at once, without waiting for a lease to expire), and
    returns from ``run``.

    Args:
        settings: The mode, concurrency, lease, sweep interval and grace.
        store: The store to claim from and record in.
        env: What attempts run with; the caller closes it.
        name: This worker's name (``worker_name()`` by default).
        sweep: Whether to run a sweeper in this process.
        stream: The Redis stream of dispatch messages (hubs sharing one Redis use one each).
        channels: Where the store's transitions are published, open while the worker runs;
            by default Redis Pub/Sub distributed and in memory embedded (``ExecutionChannels.for_settings``).
    """

    def __init__(
        self,
        settings: Settings,
        store: ExecutionStore,
        env: StepEnvironment,
        *,
        name: str | None = None,
        sweep: bool = True,
        stream: str = STREAM,
        channels: ExecutionChannels | None = None,
    ) -> None:
        self.settings = settings
        self.name = name or worker_name()
        self.broker = broker_for(settings, consumer_name=self.name, stream=stream)
        self.dispatcher = Dispatcher(self.broker, store)
        self.channels = channels if channels is not None else ExecutionChannels.for_settings(settings)
        store.publisher = self.channels
        # A result claims as many of the attempts it makes ready as this worker has free slots;
        # the consumer takes its messages' slots from the same count.
        self.slots = Slots(settings.worker_concurrency)
        self.distributed = settings.redis_url is not None
        # Distributed, it also claims ready attempts beyond its free slots for its queue (a fan-out's
        # branches), up to as many as it has slots; embedded, the in-process broker hands them out.
        queue = ClaimQueue(settings.worker_concurrency if self.distributed else 0)
        self.runner = StepRunner(
            store,
            env,
            self.dispatcher,
            worker=self.name,
            lease_seconds=settings.lease_seconds,
            eager=settings.worker_concurrency,
            slots=self.slots,
            queue=queue,
        )
        register(self.broker, self.runner)
        self.sweeper = Sweeper(store, self.dispatcher, interval=settings.sweep_interval_seconds) if sweep else None
        self.consumer: Consumer | None = None
        self.started = asyncio.Event()
        """Set once the broker is up (the consumer group exists) and the loops run."""
        self._stop = asyncio.Event()

    @contextlib.asynccontextmanager
    async def running(self, *, within: float | None = None) -> AsyncIterator[Worker]:
        """Runs the worker in a task of this loop while the block runs; stops it (gracefully) after.

        The block starts once the worker's broker is up; a worker that fails to
        start raises its error here instead, and one not up ``within`` seconds
        is stopped and raises ``TimeoutError``.
        """
        task = asyncio.create_task(self.run(), name=f"worker {self.name}")
        started = asyncio.create_task(self.started.wait())
        done, _ = await asyncio.wait({task, started}, timeout=within, return_when=asyncio.FIRST_COMPLETED)
        started.cancel()
        if task.done():
            task.result()  # the worker failed to start: say why
        if not done:
            self.stop()
            await task
            raise TimeoutError(f"worker {self.name} did not start within {within} s")
        try:
            yield self
        finally:
            self.stop()
            await task

    def stop(self) -> None:
        """Asks the worker to stop (safe from a signal handler on its loop)."""
        self._stop.set()

    async def run(self) -> None:
        """Runs until ``stop()``; then finishes or hands back running attempts within the grace."""
        async with self.channels:
            await self._run()

    async def _run(self) -> None:
        if not await self._start_broker():
            return
        loops: list[asyncio.Task[None]] = []
        if self.distributed:
            from wirehub.worker.consumer import Consumer  # redis is loaded only when there is one

            self.consumer = Consumer(self.broker, concurrency=self.settings.worker_concurrency, slots=self.slots)
            loops.append(asyncio.create_task(self.consumer.run(self._stop), name="consumer"))
        if self.sweeper is not None:
            loops.append(asyncio.create_task(self.sweeper.run(self._stop), name="sweeper"))
        self.started.set()
        logger.info("worker %s started", self.name)
        try:
            await self._stop.wait()
        finally:
            self.runner.stop_accepting()
            await _stop_loops(loops)
            await self.runner.stop(self.settings.shutdown_grace_seconds)
            if self.consumer is not None:
                await self.consumer.drain(within=5.0)
            with contextlib.suppress(Exception):
                await self.broker.shutdown()
            logger.info("worker %s stopped", self.name)

    async def _start_broker(self) -> bool:
        """Starts the broker, waiting out a Redis that is not up yet; False when stopped first."""
        delay = 0.1
        while not self._stop.is_set():
            try:
                await self.broker.startup()
                return True
            except Exception as exc:  # Redis is not up yet (redis.exceptions.RedisError or OSError)
                logger.warning("cannot reach the broker (%s); trying again in %.1fs", exc, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
                delay = min(delay * 2, START_BACKOFF_MAX)
        return False


LOOP_STOP_SECONDS = 5.0
"""How long a stopping worker waits for its consumer and sweeper loops before cancelling them."""


async def _stop_loops(loops: list[asyncio.Task[None]]) -> None:
    """Waits for the loops to see the stop; one still running after ``LOOP_STOP_SECONDS`` is cancelled.

    A loop stuck in a call that ignores the stop (a Redis read or a database transaction that does
    not return) must not hold the worker's stop: the running attempts' grace comes after this.
    """
    if not loops:
        return
    _, pending = await asyncio.wait(loops, timeout=LOOP_STOP_SECONDS)
    for loop in pending:
        logger.warning("the %s loop did not stop within %.0f s; cancelling it", loop.get_name(), LOOP_STOP_SECONDS)
        loop.cancel()
    if pending:
        await asyncio.wait(pending, timeout=1.0)
    for loop in loops:
        if loop.done() and not loop.cancelled():
            loop.exception()  # retrieved: the loops log their own errors
