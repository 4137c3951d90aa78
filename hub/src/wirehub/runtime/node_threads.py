"""Node threads: where nodes' ``execute`` runs, away from the loop that drives executions.

A node is third-party code. On the driver's event loop, one that blocks
(``time.sleep``, a synchronous client) or swallows cancellation would stall every
timer and every other attempt of the process. Here each running attempt gets a
thread of its own, with its own event loop and its own egress HTTP client (httpx
clients belong to the loop that first uses them); threads are reused across
attempts, so the cost per attempt is two cross-thread wake-ups, not a new thread.

The driver never waits on a node for longer than it chooses: it sees the job's
result or gives up at its deadline. ``NodeRun.stop`` sets the node's
``ctx.cancelled`` and cancels its task, on the node's own loop. A node still
running ``grace_seconds`` after that is abandoned: its thread is never reused
(the next attempt gets a new one), a warning is logged, and
``NodeThreads.abandoned`` counts it. Python cannot kill a thread: an abandoned
thread ends by itself if its node ever returns, and, being a daemon, never
keeps the process alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

from wirehub_sdk import EgressClient, EgressPolicy

T = TypeVar("T")

Job = Callable[[asyncio.Event, EgressClient], Coroutine[Any, Any, T]]
"""A coroutine function run on a node thread, given the run's cancel signal and the thread's HTTP client."""

DEFAULT_GRACE_SECONDS = 1.0
"""How long a stopped node may keep running before its thread is abandoned."""

DEFAULT_MAX_THREADS = 128
"""Jobs running at once (each holds a thread, an event loop and its file descriptors); more wait for one to end."""

DEFAULT_MAX_IDLE = DEFAULT_MAX_THREADS
"""Idle threads kept for reuse; more are ended as their attempts finish."""

logger = logging.getLogger("wirehub.runtime.threads")


class NodeJobError(Exception):
    """A job run on a node thread raised instead of returning; the original is the cause."""


class NoNodeThreadError(Exception):
    """No node thread could be started (the process is out of threads or file descriptors)."""


class _NodeThread:
    """One daemon thread running one event loop, with its own HTTP client."""

    def __init__(self, pool: NodeThreads, number: int) -> None:
        self.loop = asyncio.new_event_loop()
        self.http = pool.http_factory()
        self._pool = pool
        self.abandoned = False
        self._grace = pool.grace_seconds
        self.thread = threading.Thread(target=self._main, name=f"wirehub-node-{number}", daemon=True)
        self.thread.start()

    def stop_soon(self) -> None:
        """Ends the thread once its loop is idle; callable from any thread."""
        with contextlib.suppress(RuntimeError):  # the loop is already closed: the thread has ended
            self.loop.call_soon_threadsafe(self.loop.stop)

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
            self.loop.run_until_complete(self._close())
        finally:
            self.loop.close()
            self._pool.ended(self)

    async def _close(self) -> None:
        await self.http.aclose()
        await self.loop.shutdown_asyncgens()
        # A node's asyncio.to_thread job may never end; wait for the executor a bounded time only.
        try:
            await asyncio.wait_for(self.loop.shutdown_default_executor(), self._grace)
        except TimeoutError:
            logger.warning("%s: a node's worker thread (asyncio.to_thread) is still running", self.thread.name)


class NodeRun(Generic[T]):
    """One job running on a node thread, seen from the driver's loop.

    Create it with ``NodeThreads.start``; read its result with ``wait``; end it early with ``stop``.
    """

    def __init__(self, pool: NodeThreads, worker: _NodeThread, job: Job[T], label: str) -> None:
        self.label = label
        self.finished = False
        """Set (under the pool's lock) by the node thread when the job has ended."""
        self.holds_slot = True
        """Whether the run still counts against ``max_threads`` (until it settles or is abandoned)."""
        self._pool = pool
        self._worker = worker
        self._job = job
        self._driver = asyncio.get_running_loop()
        self._result: asyncio.Future[tuple[T | None, BaseException | None]] = self._driver.create_future()
        self.ended: asyncio.Future[None] = self._driver.create_future()
        """Resolved on the driver's loop once the job has ended; nothing cancels it."""
        self._settled = False
        self._stopped_at: float | None = None
        self._watch: asyncio.TimerHandle | None = None
        self._cancelled: asyncio.Event | None = None
        self._task: asyncio.Task[tuple[T | None, BaseException | None]] | None = None
        worker.loop.call_soon_threadsafe(self._begin)

    @property
    def stopped(self) -> bool:
        """Whether ``stop`` was called: the driver no longer wants the result."""
        return self._stopped_at is not None

    async def wait(self, timeout: float | None = None) -> T:  # noqa: ASYNC109  # the run goes on after a timeout
        """The job's result, waiting at most ``timeout`` seconds; the job keeps running past it.

        Raises:
            TimeoutError: The job has not ended within ``timeout``.
            NodeJobError: The job raised; the exception is its cause.
        """
        if not self._result.done():
            try:
                async with asyncio.timeout(timeout):
                    await self._result
            finally:
                # Awaited directly (cheaper than a shield), so a timeout or the caller's
                # cancellation cancels this future: give later waiters a fresh one.
                if self._result.cancelled():
                    self._result = self._driver.create_future()
        value, error = self._result.result()
        if error is not None:
            raise NodeJobError(f"{self.label}: {type(error).__name__}: {error}") from error
        return value  # type: ignore[return-value]  # no error means the job returned a T

    def stop(self) -> None:
        """Asks the job to stop: sets its cancel signal and cancels its task on its own loop.

        Returns at once. A job still running ``grace_seconds`` later is abandoned with its thread.
        """
        if self._stopped_at is not None or self._settled:
            return
        self._stopped_at = time.monotonic()
        self._worker.loop.call_soon_threadsafe(self._stop_on_thread)
        self._watch = self._driver.call_later(self._pool.grace_seconds, self._pool.abandon_if_running, self)

    # On the node thread.

    def _begin(self) -> None:
        self._cancelled = asyncio.Event()
        self._task = self._worker.loop.create_task(self._guarded(self._cancelled), name=self.label)
        self._task.add_done_callback(self._end_on_thread)

    async def _guarded(self, cancelled: asyncio.Event) -> tuple[T | None, BaseException | None]:
        try:
            return await self._job(cancelled, self._worker.http), None
        except BaseException as exc:  # even SystemExit from a node must reach the driver, not end the loop
            return None, exc

    def _stop_on_thread(self) -> None:
        # Runs after _begin: both were queued on the node loop in that order.
        assert self._cancelled is not None
        assert self._task is not None
        self._cancelled.set()
        self._task.cancel()

    def _end_on_thread(self, task: asyncio.Task[tuple[T | None, BaseException | None]]) -> None:
        # Release the thread before telling the driver, so that the next attempt finds it idle.
        self._pool.release(self, self._worker)
        # A task stopped before its first step never entered _guarded: it is cancelled, not returned.
        outcome = (None, asyncio.CancelledError()) if task.cancelled() else task.result()
        with contextlib.suppress(RuntimeError):  # the driver's loop is closed: no one waits for this result
            self._driver.call_soon_threadsafe(self._settle, outcome)

    # On the driver's loop.

    def _settle(self, outcome: tuple[T | None, BaseException | None]) -> None:
        self._settled = True
        if self._watch is not None:
            self._watch.cancel()
        if not self._result.done():
            self._result.set_result(outcome)
        self.ended.set_result(None)
        self._pool.forget(self)

    def seconds_since_stop(self) -> float:
        """Seconds since ``stop`` was called (0 when it was not)."""
        return 0.0 if self._stopped_at is None else time.monotonic() - self._stopped_at


class NodeThreads:
    """A pool of node threads, each with its own event loop and egress HTTP client.

    Use it from one event loop (the driver's), and close it with ``aclose`` on that loop.

    Args:
        egress: The egress rules of every thread's HTTP client; the default policy when omitted.
        grace_seconds: How long a stopped node may keep running before its thread is abandoned.
        max_threads: Jobs running at once; ``start`` waits for a free slot beyond it. An abandoned
            job frees its slot (its thread is replaced), so abandoned threads come on top.
        max_idle: Idle threads kept for reuse.
        http_factory: Builds each thread's HTTP client instead of ``EgressClient(egress)``.
    """

    def __init__(
        self,
        egress: EgressPolicy | None = None,
        *,
        grace_seconds: float = DEFAULT_GRACE_SECONDS,
        max_threads: int = DEFAULT_MAX_THREADS,
        max_idle: int = DEFAULT_MAX_IDLE,
        http_factory: Callable[[], EgressClient] | None = None,
    ) -> None:
        policy = egress or EgressPolicy()
        self.http_factory: Callable[[], EgressClient] = http_factory or (lambda: EgressClient(policy))
        self.grace_seconds = grace_seconds
        self._max_idle = max_idle
        self._slots = asyncio.Semaphore(max_threads)
        self._lock = threading.Lock()
        self._idle: list[_NodeThread] = []
        self._workers: set[_NodeThread] = set()
        self._running: set[NodeRun[Any]] = set()
        self._started = 0
        self._abandoned = 0
        self._closed = False
        self._driver_http: EgressClient | None = None

    @property
    def abandoned(self) -> int:
        """Threads abandoned so far because their node did not stop within the grace."""
        return self._abandoned

    @property
    def started(self) -> int:
        """Threads started so far (reused threads count once)."""
        return self._started

    def driver_http(self) -> EgressClient:
        """An egress HTTP client for the driver's loop (for jobs run there), created on first use."""
        if self._driver_http is None:
            self._driver_http = self.http_factory()
        return self._driver_http

    async def start(self, job: Job[T], *, label: str) -> NodeRun[T]:
        """Runs ``job`` on an idle node thread, or on a new one, once fewer than ``max_threads`` run.

        Args:
            job: Called on the node thread with the run's cancel signal and the thread's HTTP client.
            label: Names the run in logs and task names, e.g. ``"execution/step#attempt"``.

        Raises:
            RuntimeError: The pool is closed.
            NoNodeThreadError: A new thread was needed and could not be started.
        """
        if self._closed:
            raise RuntimeError("the node threads are closed")
        await self._slots.acquire()
        try:
            with self._lock:
                if self._closed:
                    raise RuntimeError("the node threads are closed")
                worker = self._idle.pop() if self._idle else None
            if worker is None:
                worker = self._new_thread()
        except BaseException:
            self._slots.release()
            raise
        run = NodeRun(self, worker, job, label)
        self._running.add(run)
        return run

    def _new_thread(self) -> _NodeThread:
        self._started += 1
        try:
            worker = _NodeThread(self, self._started)
        except (OSError, RuntimeError) as exc:  # "can't start new thread", "Too many open files"
            raise NoNodeThreadError(f"no node thread could be started: {exc}") from exc
        with self._lock:
            self._workers.add(worker)
        return worker

    def release(self, run: NodeRun[Any], worker: _NodeThread) -> None:
        """Called on the node thread when its job ended: keeps the thread for reuse or ends it."""
        with self._lock:
            run.finished = True
            keep = not (worker.abandoned or self._closed or len(self._idle) >= self._max_idle)
            if keep:
                self._idle.append(worker)
        if not keep:
            worker.loop.stop()

    def ended(self, worker: _NodeThread) -> None:
        """Called on a node thread as it ends."""
        with self._lock:
            self._workers.discard(worker)

    def forget(self, run: NodeRun[Any]) -> None:
        """Called on the driver's loop once a run's result has arrived."""
        self._running.discard(run)
        self._free_slot(run)

    def _free_slot(self, run: NodeRun[Any]) -> None:
        if run.holds_slot:
            run.holds_slot = False
            self._slots.release()

    def abandon_if_running(self, run: NodeRun[Any]) -> None:
        """Gives up on a stopped run's thread when its node is still running."""
        with self._lock:
            if run.finished or run._worker.abandoned:
                return
            run._worker.abandoned = True
            self._workers.discard(run._worker)
        self._running.discard(run)
        self._free_slot(run)
        self._abandoned += 1
        logger.warning(
            "abandoned node thread %s: %s still runs %.1f s after it was stopped (%d abandoned so far); "
            "the node swallows cancellation or blocks its event loop",
            run._worker.thread.name,
            run.label,
            run.seconds_since_stop(),
            self._abandoned,
        )

    async def aclose(self) -> None:
        """Stops every run, waits for them at most the grace, and ends every thread.

        Runs still going after their grace are abandoned (logged and counted).
        """
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        running = list(self._running)
        for run in running:
            run.stop()
        if running:
            left = max(0.0, self.grace_seconds - min(run.seconds_since_stop() for run in running))
            await asyncio.wait([run.ended for run in running], timeout=left)
            for run in running:
                self.abandon_if_running(run)
        for worker in idle:
            worker.stop_soon()
        if self._driver_http is not None:
            await self._driver_http.aclose()
        with self._lock:
            workers = list(self._workers)
        if workers:
            await asyncio.to_thread(_join, workers, self.grace_seconds)


def _join(workers: list[_NodeThread], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for worker in workers:
        worker.thread.join(max(0.0, deadline - time.monotonic()))
