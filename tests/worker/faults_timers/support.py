"""Helpers of the fault tests: worker processes, plain SQL on the test database, polling with a bound."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import asyncpg

WIREHUB = Path(sys.executable).with_name("wirehub")
LEASE = 2.0
SWEEP = 0.2


async def admin(server_url: str, statement: str) -> None:
    """Runs one statement on the PostgreSQL server (outside any test database)."""
    connection = await asyncpg.connect(server_url.replace("+asyncpg", ""), timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def fetch(url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    """The rows of one query on the test database."""
    connection = await asyncpg.connect(url.replace("+asyncpg", ""), timeout=5)
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


class HubProcess:
    """One ``wirehub -v worker --name NAME [ARGS]`` subprocess (a worker, or a supervisor of workers)."""

    def __init__(self, name: str, env: dict[str, str], folder: Path, args: Sequence[str] = ()) -> None:
        self.name = name
        self.log = folder / f"{name}.log"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(WIREHUB), "-v", "worker", "--name", name, *args],
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, line: str, *, count: int = 1, within: float = 60.0) -> None:
        """Waits until the log holds ``line`` ``count`` times."""
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


async def until(check: Callable[[], Any], *, within: float, every: float = 0.1, what: str = "") -> Any:
    """Polls the async ``check`` until it returns something true; fails after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not reached within {within} s: {what} (last: {value!r})")
        await asyncio.sleep(every)


Start = Callable[..., list[HubProcess]]
"""The ``hub_workers`` fixture: ``hub_workers("a", "b", env={...}, args=[...], wait=True)``."""
