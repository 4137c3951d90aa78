"""What a system under test provides to the harness, and what the harness gives it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Shape = Literal["sequential", "fanout"]


@dataclass(frozen=True)
class Workload:
    """Executions to start, all of one workflow shape.

    Attributes:
        shape: ``"sequential"``: ``width`` no-op steps, each needing the one before.
            ``"fanout"``: one root step, ``width`` branches needing the root, and one join
            needing every branch (``width + 2`` steps).
        width: The number of sequential steps, or of branches.
        executions: How many executions to start at once.
    """

    shape: Shape
    width: int
    executions: int

    @property
    def steps_per_execution(self) -> int:
        """How many steps one execution of this workload completes."""
        return self.width if self.shape == "sequential" else self.width + 2


@dataclass(frozen=True)
class Counters:
    """Cumulative work a system did since it opened; the harness takes differences.

    Attributes:
        steps: Steps completed (each step of each execution once).
        statements: SQL statements sent, excluding ``BEGIN`` and ``COMMIT``.
        commits: Transactions committed (an autocommitted statement counts as one).
        redis_commands: Redis commands sent (a pipeline counts each command in it).
        worker_cpu_seconds: User plus system CPU time of the worker processes
            (``bench.durable.cpu.process_cpu_seconds`` reads it on Linux).
    """

    steps: int = 0
    statements: int = 0
    commits: int = 0
    redis_commands: int = 0
    worker_cpu_seconds: float = 0.0

    def __add__(self, other: Counters) -> Counters:
        return Counters(
            self.steps + other.steps,
            self.statements + other.statements,
            self.commits + other.commits,
            self.redis_commands + other.redis_commands,
            self.worker_cpu_seconds + other.worker_cpu_seconds,
        )

    def __sub__(self, other: Counters) -> Counters:
        return Counters(
            self.steps - other.steps,
            self.statements - other.statements,
            self.commits - other.commits,
            self.redis_commands - other.redis_commands,
            self.worker_cpu_seconds - other.worker_cpu_seconds,
        )


@dataclass(frozen=True)
class Services:
    """The throwaway resources the harness created for one run, dropped after it.

    Attributes:
        database_url: A fresh, empty PostgreSQL database (``postgresql://...``, no driver suffix).
        redis_url: The Redis server.
        redis_prefix: Every Redis key the system creates starts with this prefix (the harness
            deletes them after the run); it ends with ``:``.
        workers: How many worker processes the system must run.
    """

    database_url: str
    redis_url: str
    redis_prefix: str
    workers: int


class SystemUnderTest(Protocol):
    """A system the harness measures. One instance lives for one whole run.

    The harness calls ``open`` once, then for every measurement ``counters``, ``start`` (once,
    or once per execution for the latency jobs), ``wait_all`` and ``counters`` again, and
    finally ``close``, even after a failure.
    """

    name: str

    async def open(self) -> None:
        """Creates the schema in the empty database, starts the worker processes, returns when they listen."""
        ...

    async def start(self, workload: Workload) -> Sequence[str]:
        """Starts ``workload.executions`` executions and returns their ids without waiting for them.

        The harness takes the time just before this call as the executions' start time.
        """
        ...

    async def wait_all(self, limit: float) -> Mapping[str, float]:
        """Waits until every execution started since the last call has finished.

        Returns:
            Each execution's finish time, in seconds since the epoch (``time.time()``'s clock;
            the database's ``clock_timestamp()`` is the same clock on this machine).

        Raises:
            TimeoutError: Some execution had not finished after ``limit`` seconds.
            RuntimeError: An execution finished wrongly (a step missing or run twice).
        """
        ...

    async def counters(self) -> Counters:
        """The cumulative counters of every process of the system (harness side included)."""
        ...

    async def close(self) -> None:
        """Stops the worker processes and closes every connection; the harness drops the resources."""
        ...
