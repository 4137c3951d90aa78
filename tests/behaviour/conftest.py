"""The runtime under test, once per implementation: embedded on SQLite, embedded on PostgreSQL, distributed.

- ``sqlite``: the embedded hub (what ``wirehub run`` and ``run_workflow`` use) on a SQLite file.
- ``postgresql``: the embedded hub with its store on the shared PostgreSQL, the broker in-process.
- ``distributed``: the store on PostgreSQL, dispatches over a Redis stream (``DispatchStreamBroker``),
  read by a worker in this process (so the test node types can record what they saw).

Each test gets a database of its own: on PostgreSQL a copy of a migrated template
(``CREATE DATABASE ... TEMPLATE``, cheap), dropped after the test; the template is dropped
after the session. Each distributed test gets a Redis stream of its own, deleted after it.
The PostgreSQL and Redis variants skip when the service is down, and fail instead under
``WIREHUB_TEST_REQUIRE_SERVICES=1`` (``tests/conftest.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
import pytest
from redis.asyncio import Redis

from tests.runtime import testing_plugin
from tests.support.postgres import admin, url_of
from wirehub.engine import Plan, validate_input
from wirehub.plugins import build_registry
from wirehub.runtime import (
    ExecutionResult,
    InvalidWorkflowError,
    MappingCredentialSource,
    NodeThreads,
    Observer,
    StepEnvironment,
    StoredCredential,
    compile_definition,
    progress_sink,
)
from wirehub.runtime.registry import NodeRegistry
from wirehub.settings import Settings
from wirehub.store import ExecutionStore, PlanCache, database_engine, session_factory, upgrade_database
from wirehub.worker import Worker
from wirehub.worker.embedded import EmbeddedHub, embedded_hub
from wirehub_core import core
from wirehub_sdk.host import Progress

IMPLEMENTATIONS = ["sqlite", "postgresql", "distributed"]
SETTINGS = Settings(lease_seconds=3.0, shutdown_grace_seconds=2.0, sweep_interval_seconds=0.05)
"""A short lease and grace, and the embedded hub's sweep interval for every implementation."""
CREDENTIALS = {"api": StoredCredential(type="test.token", fields={"token": "s3cret"})}
"""The named credentials every runtime under test has."""
RUN_WITHIN = 20.0
"""Longest a test execution may take to finish."""


@dataclass
class Runtime:
    """One implementation of the runtime, running for one test.

    Attributes:
        name: ``sqlite``, ``postgresql`` or ``distributed``.
        hub: Saves, starts, cancels and follows executions (the worker and sweeper run beside it).
        progress: ``(step_id, attempt, Progress)`` of every progress report, in order.
    """

    name: str
    hub: EmbeddedHub
    progress: list[tuple[str, int, Progress]] = field(default_factory=list)
    _started: dict[UUID, tuple[Plan, Any]] = field(default_factory=dict)

    async def start(self, definition: dict[str, Any], input: Any = None) -> UUID:
        """Validates and saves ``definition``, starts an execution of it and returns its id.

        Raises:
            InvalidWorkflowError: The definition or the input is not valid; nothing ran.
        """
        plan = compile_definition(definition, self.hub.registry)
        problems = validate_input(plan, input)
        if problems:
            raise InvalidWorkflowError("the execution input", problems)
        execution_id = await self.hub.start(await self.hub.save(definition), input)
        self._started[execution_id] = (plan, input)
        return execution_id

    async def result(self, execution_id: UUID, observer: Observer | None = None) -> ExecutionResult:
        """The execution once it is over, its state replayed from the stored history through ``observer``."""
        plan, input = self._started[execution_id]
        async with asyncio.timeout(RUN_WITHIN):
            state = await self.hub.follow(execution_id, plan, input, observer)
        return ExecutionResult(str(execution_id), state.status, state.output, state.error, state)

    async def run(
        self, definition: dict[str, Any], input: Any = None, *, observer: Observer | None = None
    ) -> ExecutionResult:
        """Runs ``definition`` to its end, as ``wirehub run`` does."""
        return await self.result(await self.start(definition, input), observer)


def _run(coroutine: Coroutine[Any, Any, None]) -> None:
    """Runs ``coroutine`` on a loop of its own, leaving pytest-asyncio's loop alone."""
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(coroutine)
    finally:
        loop.close()


async def _migrate(url: str) -> None:
    engine = database_engine(url)
    try:
        await upgrade_database(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def migrated_template(database_url: str) -> Iterator[str]:
    """The name of a migrated PostgreSQL database that test databases are copied from; dropped at the end."""
    name = f"wirehub_behaviour_template_{uuid.uuid4().hex[:12]}"
    _run(admin(database_url, f'CREATE DATABASE "{name}"'))
    try:
        _run(_migrate(url_of(database_url, name)))
        yield name
    finally:
        _run(admin(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def postgresql_url(database_url: str, migrated_template: str) -> Iterator[str]:
    """A migrated PostgreSQL database of this test's own, dropped after it."""
    name = f"wirehub_behaviour_{uuid.uuid4().hex[:16]}"
    _run(admin(database_url, f'CREATE DATABASE "{name}" TEMPLATE "{migrated_template}"'))
    try:
        yield url_of(database_url, name)
    finally:
        _run(admin(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def calls() -> testing_plugin.Calls:
    testing_plugin.CALLS.__init__()  # type: ignore[misc]
    return testing_plugin.CALLS


@pytest.fixture(scope="session")
def registry() -> NodeRegistry:
    """The built-in node types plus the test ones; nothing else that happens to be installed."""
    return build_registry(extra_plugins=[core, testing_plugin], load_entry_points=False)


@contextlib.asynccontextmanager
async def distributed_hub(
    settings: Settings,
    registry: NodeRegistry,
    database_url: str,
    redis_url: str,
    *,
    stream: str | None = None,
    **environment: Any,
) -> AsyncIterator[EmbeddedHub]:
    """A worker on ``database_url`` reading a Redis stream, in this process.

    Args:
        stream: The stream to read, shared with other workers; by default one of its own, deleted afterwards.
        environment: For the worker's ``StepEnvironment`` (``credentials``, ``on_progress``).
    """
    settings = msgspec.structs.replace(settings, redis_url=redis_url)
    own_stream = stream is None
    stream = stream or new_stream()
    engine = database_engine(database_url)
    try:
        store = ExecutionStore(
            session_factory(engine, writes=True),
            PlanCache(),
            lease_seconds=settings.lease_seconds,
            catalog=registry,
            redelivery_seconds=settings.lease_seconds,
        )
        async with StepEnvironment(registry, NodeThreads(settings.egress_policy), **environment) as env:
            worker = Worker(settings, store, env, name=f"test-{uuid.uuid4().hex[:8]}", stream=stream)
            async with worker.running(within=30):
                yield EmbeddedHub(store, worker, engine, registry)
    finally:
        await engine.dispose()
        if own_stream:
            async with Redis.from_url(redis_url) as redis:
                await redis.delete(stream)


def new_stream() -> str:
    """A Redis stream name no other test uses."""
    return f"wirehub:test:{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class Implementation:
    """Where one implementation keeps its state: a database URL, and Redis for the distributed one."""

    name: str
    database_url: str
    redis_url: str | None = None


@pytest.fixture(params=IMPLEMENTATIONS)
def implementation(request: pytest.FixtureRequest, tmp_path: Path) -> Implementation:
    """Each implementation in turn, with a fresh database (the services resolved before any loop runs)."""
    if request.param == "sqlite":
        return Implementation("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    postgresql = str(request.getfixturevalue("postgresql_url"))
    if request.param == "postgresql":
        return Implementation("postgresql", postgresql)
    return Implementation("distributed", postgresql, str(request.getfixturevalue("redis_url")))


@pytest.fixture
async def runtime(implementation: Implementation, registry: NodeRegistry) -> AsyncIterator[Runtime]:
    """The runtime, once per implementation, with ``CREDENTIALS`` and its progress reports recorded."""
    progress: list[tuple[str, int, Progress]] = []
    environment: dict[str, Any] = {
        "credentials": MappingCredentialSource(CREDENTIALS),
        "on_progress": progress_sink(lambda step, attempt, report: progress.append((step, attempt, report))),
    }
    hub: contextlib.AbstractAsyncContextManager[EmbeddedHub]
    if implementation.redis_url is None:
        hub = embedded_hub(SETTINGS, registry, database_url=implementation.database_url, **environment)
    else:
        hub = distributed_hub(SETTINGS, registry, implementation.database_url, implementation.redis_url, **environment)
    async with hub as running:
        yield Runtime(implementation.name, running, progress)
