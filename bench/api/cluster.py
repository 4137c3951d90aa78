"""The hub under test: ``wirehub serve`` and ``wirehub worker`` processes, started as an operator would.

Each process is the installed ``wirehub`` command with the ``WIREHUB_*`` settings of the run, its
output in a log file of the run's directory. The hub's Redis keys have fixed names (its dispatch
stream, its shared cache), so the run takes a Redis database number of its own
(``WIREHUB_BENCH_API_REDIS_DB``, 13 by default) and deletes the hub's keys there afterwards.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import redis.asyncio as redis

ADMIN = ("bench-admin", "a benchmark password, long enough")
SECRET_KEY = "bench-secret-key-that-is-long-enough-0123456789"  # noqa: S105 - a throwaway hub's
CREDENTIAL_KEY = "bench:" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="  # 32 bytes, base64
DEFAULT_REDIS_DB = 13
READY_SECONDS = 60.0
HUB_KEY_PATTERNS = ("wirehub*", "autoclaim:*")
"""The keys a hub with the default stream and namespace makes (the broker's reclaim lock included)."""


def redis_database_url(server_url: str) -> str:
    """``server_url`` on the run's own database number (``WIREHUB_BENCH_API_REDIS_DB``)."""
    number = int(os.environ.get("WIREHUB_BENCH_API_REDIS_DB") or DEFAULT_REDIS_DB)
    return urlsplit(server_url)._replace(path=f"/{number}").geturl()


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wirehub_command() -> list[str]:
    """The ``wirehub`` script beside this interpreter (the project's environment), else on ``PATH``."""
    beside = Path(sys.executable).with_name("wirehub")
    found = str(beside) if beside.exists() else shutil.which("wirehub")
    if found is None:
        raise RuntimeError("the wirehub command is not installed (uv sync)")
    return [found]


def hub_environment(database_url: str, redis_url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The settings every process of the hub gets: distributed, no rate limit, the first admin."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("WIREHUB_")}
    environment.update(
        {
            "WIREHUB_DATABASE_URL": database_url.replace("postgresql://", "postgresql+asyncpg://", 1),
            "WIREHUB_REDIS_URL": redis_url,
            "WIREHUB_SECRET_KEY": SECRET_KEY,
            "WIREHUB_CREDENTIAL_KEYS": CREDENTIAL_KEY,
            "WIREHUB_ADMIN_USERNAME": ADMIN[0],
            "WIREHUB_ADMIN_PASSWORD": ADMIN[1],
            "WIREHUB_RATE_LIMIT_USER": "0",  # a benchmark client is one user sending as fast as it can
            "WIREHUB_RATE_LIMIT_ANONYMOUS": "0",
            "WIREHUB_RATE_LIMIT_LOGIN": "0",
            "WIREHUB_WORKER_METRICS_PORT": "0",
            "WIREHUB_ACCESS_TOKEN_SECONDS": "3600",
        }
    )
    environment.update(extra or {})
    return environment


@dataclass
class Cluster:
    """The running processes of one run; ``close`` stops them all.

    Attributes:
        database_url: The run's database (``postgresql://``).
        redis_url: The run's Redis database.
        logs: Where each process writes its output.
        extra: More settings for every process.
        profiles: When set, each process runs under cProfile and writes ``api-N.prof`` or ``worker-N.prof``
            here on exit.
        api_urls: The base URL of each API process, in start order.
        pids: Every process's id, for their CPU time.
    """

    database_url: str
    redis_url: str
    logs: Path
    extra: Mapping[str, str] = field(default_factory=dict)
    profiles: Path | None = None
    api_urls: list[str] = field(default_factory=list)
    _processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    api_pids: list[int] = field(default_factory=list)
    worker_pids: list[int] = field(default_factory=list)

    def _spawn(self, name: str, arguments: list[str], prefix: Sequence[str] = ()) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(  # noqa: S603 - the wirehub command with our own arguments
            [*prefix, *wirehub_command(), *arguments],
            env=hub_environment(self.database_url, self.redis_url, self.extra),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        self._processes.append(process)
        return process

    def _profiled(self, name: str) -> tuple[str, ...]:
        """The command prefix that runs process ``name`` under cProfile, when profiling."""
        if self.profiles is None:
            return ()
        return (sys.executable, "-m", "bench.api.profiled", str(self.profiles / f"{name}.prof"))

    async def migrate(self) -> None:
        """``wirehub migrate``: the schema in the empty database."""
        process = self._spawn("migrate", ["migrate"])
        if await asyncio.to_thread(process.wait) != 0:
            raise RuntimeError(f"wirehub migrate exited with {process.returncode}: see {self.logs}")

    async def add_api(self) -> str:
        """Starts one more ``wirehub serve``; returns its base URL once it answers ready."""
        port = free_port()
        name = f"api-{len(self.api_urls) + 1}"
        process = self._spawn(name, ["serve", "--port", str(port)], self._profiled(name))
        url = f"http://127.0.0.1:{port}"
        await self._until_ready(process, url)
        self.api_urls.append(url)
        self.api_pids.append(process.pid)
        return url

    async def add_workers(self, count: int) -> None:
        """Starts ``count`` ``wirehub worker`` processes (they read the stream once they have started)."""
        for _ in range(count):
            name = f"worker-{len(self.worker_pids) + 1}"
            process = self._spawn(name, ["worker"], self._profiled(name))
            self.worker_pids.append(process.pid)
        await asyncio.sleep(0)  # a start's dispatch waits in the stream until a worker reads it

    async def _until_ready(self, process: subprocess.Popen[bytes], url: str) -> None:
        deadline = time.monotonic() + READY_SECONDS
        async with httpx.AsyncClient(timeout=2) as client:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"wirehub serve exited with {process.returncode}: see {self.logs}")
                try:
                    if (await client.get(f"{url}/health/ready")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"wirehub serve did not become ready in {READY_SECONDS} s: see {self.logs}")
                await asyncio.sleep(0.1)

    async def close(self, grace_seconds: float = 10) -> None:
        """SIGTERM every process, SIGKILL any still running after ``grace_seconds``.

        A profiled process gets SIGINT: uvicorn raises the signal again once it has stopped, and
        only a ``KeyboardInterrupt`` lets cProfile write its profile.
        """
        stop = signal.SIGTERM if self.profiles is None else signal.SIGINT
        for process in self._processes:
            if process.poll() is None:
                process.send_signal(stop)
        deadline = time.monotonic() + grace_seconds
        for process in self._processes:
            try:
                await asyncio.to_thread(process.wait, max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)


async def delete_hub_keys(redis_url: str) -> None:
    """Deletes the hub's keys in the run's Redis database."""
    client = redis.Redis.from_url(redis_url)
    try:
        for pattern in HUB_KEY_PATTERNS:
            keys = [key async for key in client.scan_iter(match=pattern, count=1000)]
            if keys:
                await client.unlink(*keys)
    finally:
        await client.aclose()


@asynccontextmanager
async def running_cluster(
    database_url: str,
    redis_url: str,
    logs: Path,
    extra: Mapping[str, str] | None = None,
    profiles: Path | None = None,
) -> AsyncIterator[Cluster]:
    """A cluster on the given (empty) database and Redis database, stopped and its keys deleted on exit."""
    await delete_hub_keys(redis_url)  # a run that was killed leaves its stream behind
    cluster = Cluster(database_url, redis_url, logs, dict(extra or {}), profiles)
    try:
        yield cluster
    finally:
        try:
            await cluster.close()
        finally:
            await delete_hub_keys(redis_url)
