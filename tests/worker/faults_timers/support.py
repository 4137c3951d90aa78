"""Helpers of the fault tests: plain SQL on the test database, polling with a bound."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import asyncpg

from tests.worker.processes import WorkerProcess

LEASE = 2.0
SWEEP = 0.2


async def fetch(url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    """The rows of one query on the test database."""
    connection = await asyncpg.connect(url.replace("+asyncpg", ""), timeout=5)
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


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


Start = Callable[..., list[WorkerProcess]]
"""The ``hub_workers`` fixture: ``hub_workers("a", "b", env={...}, args=[...], wait=True)``."""
