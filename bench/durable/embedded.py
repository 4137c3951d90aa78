"""The embedded hub as a system under test: SQLite and the in-process broker, in the harness's process.

What ``wirehub run`` runs on: one process, one event loop. ``services`` gives it nothing but a
name (no PostgreSQL, no Redis); its database is a SQLite file in a temporary folder. Its CPU
time is the harness process's (the harness's own waiting included, which is small: it waits
on the worker's transition signal and reads the finished executions with one query).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sqlite3
import tempfile
import time
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from bench.durable.cpu import process_cpu_seconds
from bench.durable.floor import counting
from bench.durable.hub import count_database, count_steps, definition
from bench.durable.protocol import Counters, Services, Workload


def _epoch(value: Any) -> float:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _uuid(value: Any) -> str:
    return str(UUID(bytes=value) if isinstance(value, bytes) else UUID(str(value)))


class EmbeddedSystem:
    """The embedded hub (``wirehub run``'s runtime) in this process."""

    name = "embedded"

    def __init__(self, services: Services) -> None:
        self._services = services
        self._stack = AsyncExitStack()
        self._local: list[int] = [0] * counting.CELLS
        self._workflows: dict[tuple[str, int], UUID] = {}
        self._pending: set[str] = set()
        self._hub: Any = None
        self._file: Path | None = None
        self._reader: sqlite3.Connection | None = None

    async def open(self) -> None:
        from wirehub.runtime import default_registry
        from wirehub.settings import Settings
        from wirehub.worker.embedded import embedded_hub

        folder = Path(self._stack.enter_context(tempfile.TemporaryDirectory(prefix="wirehub-bench-")))
        self._file = folder / "hub.db"
        settings = Settings()
        registry = default_registry(settings=settings)
        self._hub = await self._stack.enter_async_context(
            embedded_hub(settings, registry, database_url=f"sqlite+aiosqlite:///{self._file}")
        )
        count_database(self._hub.engine, self._local)
        count_steps(self._hub.store, self._local)
        self._reader = sqlite3.connect(self._file)

    async def start(self, workload: Workload) -> Sequence[str]:
        key = (workload.shape, workload.width)
        if key not in self._workflows:
            self._workflows[key] = await self._hub.save(definition(*key))
        workflow_id = self._workflows[key]
        ids = [str(await self._hub.start(workflow_id)) for _ in range(workload.executions)]
        self._pending.update(ids)
        return ids

    async def wait_all(self, limit: float) -> Mapping[str, float]:
        assert self._reader is not None
        deadline = time.monotonic() + limit
        finished: dict[str, float] = {}
        while self._pending:
            rows = self._finished(list(self._pending))
            for raw_id, status, at in rows:
                execution_id = _uuid(raw_id)
                if execution_id not in self._pending:
                    continue
                self._pending.discard(execution_id)
                if status != "succeeded":
                    raise RuntimeError(f"execution {execution_id} ended {status}")
                finished[execution_id] = _epoch(at)
            if not self._pending:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self._pending)} executions had not finished after {limit} s")
            await self._hub.transition()
        return finished

    def _finished(self, ids: list[str]) -> list[Any]:
        """The pending executions that finished (ids are stored as 16 bytes); only those, so each look is cheap."""
        assert self._reader is not None
        rows: list[Any] = []
        for at in range(0, len(ids), 500):  # SQLite's limit on bound parameters
            chunk = [UUID(execution_id).bytes for execution_id in ids[at : at + 500]]
            marks = ",".join("?" * len(chunk))
            rows += self._reader.execute(
                f"SELECT id, status, finished_at FROM executions WHERE finished_at IS NOT NULL AND id IN ({marks})",  # noqa: S608 - only placeholders
                chunk,
            ).fetchall()
        return rows

    async def counters(self) -> Counters:
        return dataclasses.replace(counting.read(self._local), worker_cpu_seconds=process_cpu_seconds(os.getpid()))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        await self._stack.aclose()
        await asyncio.sleep(0)


def create(services: Services) -> EmbeddedSystem:
    """The factory ``run.SYSTEMS`` names."""
    return EmbeddedSystem(services)
