"""``wirehub worker`` processes for the distributed tests, and a sending side on PostgreSQL and Redis."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine

from wirehub.plugins import Registry
from wirehub.settings import Settings
from wirehub.store import (
    ExecutionStore,
    PlanCache,
    WorkflowVersionService,
    database_engine,
    session_factory,
    upgrade_database,
)
from wirehub.worker import Dispatcher, broker_for, register

WIREHUB = Path(sys.executable).with_name("wirehub")

CREDENTIAL_KEYS = "test:" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="
"""The credential keys a distributed worker needs to start (32 bytes, base64): the same for every test worker."""


class WorkerProcess:
    """One ``wirehub -v worker --name NAME [ARGS]`` subprocess (a worker, or a supervisor), its log in a file.

    The log is appended to, so a process started again under the same name adds to it
    (``wait_for(..., count=2)`` waits for its second start).
    """

    def __init__(self, name: str, env: dict[str, str], folder: Path, args: Sequence[str] = ()) -> None:
        self.name = name
        self.log = folder / f"{name}.log"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(WIREHUB), "-v", "worker", "--name", name, *args],
                env={**os.environ, "WIREHUB_CREDENTIAL_KEYS": CREDENTIAL_KEYS, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, line: str, *, count: int = 1, within: float = 60.0) -> None:
        """Waits until the log holds ``line`` ``count`` times; fails if the process exits first."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.text.count(line) >= count:
                return
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.process.returncode}:\n{self.text}")
            time.sleep(0.05)
        raise AssertionError(f"{self.name} did not log {line!r} {count} times:\n{self.text}")

    def wait_started(self, within: float = 60.0) -> None:
        self.wait_for(f"worker {self.name} started", within=within)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def wait(self, within: float) -> int:
        return self.process.wait(timeout=within)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@dataclass
class Sender:
    """The side that saves workflows, starts executions and dispatches them: an API replica's job."""

    store: ExecutionStore
    dispatcher: Dispatcher
    engine: AsyncEngine
    registry: Registry

    async def workflow(self, definition: dict[str, Any]) -> UUID:
        async with session_factory(self.engine, writes=True).begin() as session:
            version = await WorkflowVersionService(session, self.registry, self.store.plans).create(definition)
        return version.workflow_id

    async def start(self, workflow_id: UUID, input: Any = None) -> UUID:
        execution_id, applied = await self.store.start(workflow_id, None, input)
        await self.dispatcher.send(applied.dispatches)
        return execution_id


@contextlib.asynccontextmanager
async def open_sender(
    database_url: str, redis_url: str, registry: Registry, *, lease: float, **engine_options: Any
) -> AsyncIterator[Sender]:
    """A ``Sender`` on the migrated database ``database_url`` and the Redis stream at ``redis_url``."""
    engine = database_engine(database_url, **engine_options)
    await upgrade_database(engine)
    store = ExecutionStore(session_factory(engine, writes=True), PlanCache(), lease_seconds=lease, catalog=registry)
    broker = broker_for(Settings(redis_url=redis_url, lease_seconds=lease))
    register(broker)
    await broker.startup()
    try:
        yield Sender(store, Dispatcher(broker, store), engine, registry)
    finally:
        await broker.shutdown()
        await engine.dispose()
