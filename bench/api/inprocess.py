"""The API's own cost per request, without sockets or other processes: ``python -m bench.api.inprocess``.

Also starts with the definition caches emptied before each request: the compiled plan only
(the definition then comes from the shared layer), and every cache (the definition read from the
database): the difference to a warm start is what the caches save.

Builds the distributed app (``create_app``) on a throwaway PostgreSQL database and a Redis database
of its own, and sends it get-execution and start-execution requests one after another through
httpx's ASGI transport, in this process: the CPU time per request is then the app's (routing,
authentication, the handler, the database and Redis round trips' client side, encoding), with
no server or client beside it. ``--profile FILE`` writes a cProfile (CPU clock) of the requests.
No worker runs: started executions wait in the stream, deleted with the run's keys.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from bench.api.cluster import hub_environment, redis_database_url, running_cluster
from bench.api.scenario import WORKSPACE
from bench.durable.floor import counting
from bench.durable.hub import count_database, definition
from bench.durable.services import throwaway_services

Send = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


Figures = tuple[float, float, float, float]
"""CPU ms, wall ms, SQL statements and commits per request."""


async def _timed(
    client: httpx.AsyncClient,
    send: Send,
    count: int,
    profile: cProfile.Profile | None,
    cells: list[int],
    before: Callable[[], None] = lambda: None,
) -> Figures:
    """The figures per request over ``count`` requests (after 20 not counted), ``before`` called before each."""
    for _ in range(20):
        before()
        (await send(client)).raise_for_status()
    if profile is not None:
        profile.enable()
    began, counted, wall = time.process_time(), list(cells), 0.0
    for _ in range(count):
        before()
        sent = time.perf_counter()
        response = await send(client)
        wall += time.perf_counter() - sent
        if response.status_code >= 300:
            raise RuntimeError(f"{response.status_code} {response.text[:300]}")
    spent = time.process_time() - began
    if profile is not None:
        profile.disable()
    statements = (cells[counting.STATEMENTS] - counted[counting.STATEMENTS]) / count
    commits = (cells[counting.COMMITS] - counted[counting.COMMITS]) / count
    return spent * 1000 / count, wall * 1000 / count, statements, commits


def _show_sql(engine: Any) -> None:
    from sqlalchemy import event

    def show(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        print("SQL:", " ".join(statement.split())[:300])

    event.listen(engine.sync_engine, "before_cursor_execute", show)


async def measure(count: int, profile_path: Path | None, logs: Path, *, show_sql: bool = False) -> dict[str, Figures]:
    """The figures of get-execution and start-execution, and of starts with the definition caches emptied."""
    from wirehub.api import create_app
    from wirehub.settings import Settings

    profile = cProfile.Profile() if profile_path is not None else None
    async with throwaway_services("apiin", 0) as services:
        redis_url = redis_database_url(services.redis_url)
        async with running_cluster(services.database_url, redis_url, logs) as cluster:
            await cluster.migrate()
            environment = hub_environment(services.database_url, redis_url)
            settings = Settings.from_env({k: v for k, v in environment.items() if k.startswith("WIREHUB_")})
            app = create_app(settings)
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))  # type: ignore[arg-type]  # ASGI, typed narrower
            async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
                login = await client.post(
                    "/api/v1/auth/token",
                    json={
                        "username": environment["WIREHUB_ADMIN_USERNAME"],
                        "password": environment["WIREHUB_ADMIN_PASSWORD"],
                    },
                )
                login.raise_for_status()
                client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
                cells = [0] * counting.CELLS
                count_database(app.state.services.engine, cells)
                if show_sql:
                    _show_sql(app.state.services.engine)
                saved = await client.post(f"/api/v1/workspaces/{WORKSPACE}/workflows", json=definition("sequential", 2))
                saved.raise_for_status()
                start_path = f"/api/v1/workspaces/{WORKSPACE}/workflows/{saved.json()['id']}/executions"
                started = await client.post(start_path, json={"input": {"n": 0}})
                started.raise_for_status()
                get_path = f"/api/v1/workspaces/{WORKSPACE}/executions/{started.json()['id']}"
                plans = app.state.services.plans
                shared = plans.shared

                def start(c: httpx.AsyncClient) -> Awaitable[httpx.Response]:
                    return c.post(start_path, json={"input": {"n": 1}})

                def without_cache() -> None:  # every start reads the definition from the database
                    plans.clear()
                    plans.shared = None

                figures = {
                    "get-execution": await _timed(client, lambda c: c.get(get_path), count, profile, cells),
                    "start-execution": await _timed(client, start, count, profile, cells),
                    "start, plan compiled again": await _timed(client, start, count, None, cells, plans.clear),
                    "start, no cache": await _timed(client, start, count, None, cells, without_cache),
                }
                plans.shared = shared
    if profile is not None and profile_path is not None:
        profile.dump_stats(profile_path)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.api.inprocess", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests of each route")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the requests here")
    parser.add_argument("--show-sql", action="store_true", help="print every SQL statement the app sends")
    arguments = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="wirehub-bench-api-inprocess-"))
    load = os.getloadavg()[0]
    figures = asyncio.run(measure(arguments.requests, arguments.profile, logs, show_sql=arguments.show_sql))
    for route, (milliseconds, wall, statements, commits) in figures.items():
        print(
            f"{route:<28} {milliseconds:6.2f} ms of CPU, {wall:6.2f} ms, {statements:.1f} SQL statements,"
            f" {commits:.1f} commits per request"
        )
    print(f"load average {load:.2f} -> {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
