"""The fault tests' fixtures: a fresh PostgreSQL database, a sending side, ``wirehub worker`` processes.

Worker processes are real subprocesses on 127.0.0.1, each with its log in the
test's folder; the tests count from the database with plain SQL.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import pytest

from tests.support.postgres import admin, url_of
from tests.worker.faults_timers.support import LEASE, SWEEP, Start
from tests.worker.processes import Sender, WorkerProcess, open_sender
from tests.worker.redis_server import RedisServer
from wirehub.plugins import Registry, load_registry


@pytest.fixture
async def postgresql_url(database_url: str) -> AsyncIterator[str]:
    """A new, migrated-by-``sender`` PostgreSQL database, dropped after the test."""
    name = f"wirehub_test_{uuid.uuid4().hex[:16]}"
    await admin(database_url, f'CREATE DATABASE "{name}"')
    url = url_of(database_url, name)
    try:
        yield url
    finally:
        await admin(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sender_registry() -> Registry:
    """The node types the sending side knows: the installed plugins (a test module may add its own)."""
    return load_registry()


@pytest.fixture
async def sender(postgresql_url: str, redis_server: RedisServer, sender_registry: Registry) -> AsyncIterator[Sender]:
    """Saves workflows, starts executions and dispatches them (an API replica's job), on the migrated database."""
    async with open_sender(postgresql_url, redis_server.url, sender_registry, lease=LEASE, pool_size=8) as opened:
        yield opened


@pytest.fixture
def hub_workers(postgresql_url: str, redis_server: RedisServer, tmp_path: Path) -> Iterator[Start]:
    """Starts worker processes: ``hub_workers("a", "b", env={...}, args=[...], wait=True)``; all killed afterwards."""
    started: list[WorkerProcess] = []

    def start(
        *names: str, env: dict[str, str] | None = None, args: Sequence[str] = (), wait: bool = True
    ) -> list[WorkerProcess]:
        variables = {
            "WIREHUB_DATABASE_URL": postgresql_url,
            "WIREHUB_REDIS_URL": redis_server.url,
            "WIREHUB_LEASE_SECONDS": str(LEASE),
            "WIREHUB_SWEEP_INTERVAL_SECONDS": str(SWEEP),
            "WIREHUB_SHUTDOWN_GRACE_SECONDS": "2",
            "WIREHUB_WORKER_CONCURRENCY": "8",
            **(env or {}),
        }
        processes = [WorkerProcess(name, variables, tmp_path, args) for name in names]
        started.extend(processes)
        if wait:
            for process in processes:
                process.wait_started()
        return processes

    try:
        yield start
    finally:
        for process in started:
            process.close()
