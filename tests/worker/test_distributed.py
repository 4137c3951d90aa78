"""Worker processes on PostgreSQL and Redis: two of them sharing work, one killed, one stopped with SIGTERM.

Each test starts real ``wirehub worker`` processes against a fresh PostgreSQL
database and a private redis-server, on 127.0.0.1. Their steps call a local
HTTP server that records every request and its idempotency key. The lease is
short (2 s) so that recovery from a killed worker is bounded in time.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.local_http import LocalServer
from tests.support.postgres import admin, url_of
from tests.worker.processes import CREDENTIAL_KEYS, Sender, WorkerProcess, open_sender
from tests.worker.redis_server import RedisServer
from wirehub.plugins import load_registry
from wirehub.store import DEFAULT_WORKSPACE_ID, CredentialKeyring, CredentialRows, seed_access, session_factory

LEASE = 2.0
SWEEP = 0.2
MARGIN = 3.0
"""Time for a sweep, a claim and the retry's backoff, on a busy two-core machine."""


@pytest.fixture
async def postgresql_url(database_url: str) -> AsyncIterator[str]:
    """A new, migrated PostgreSQL database, dropped after the test."""
    name = f"wirehub_test_{uuid.uuid4().hex[:16]}"
    await admin(database_url, f'CREATE DATABASE "{name}"')
    url = url_of(database_url, name)
    try:
        yield url
    finally:
        await admin(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def server() -> Iterator[LocalServer]:
    local = LocalServer()
    yield local
    local.close()


@pytest.fixture
async def sender(postgresql_url: str, redis_server: RedisServer) -> AsyncIterator[Sender]:
    async with open_sender(postgresql_url, redis_server.url, load_registry(), lease=LEASE) as opened:
        yield opened


@pytest.fixture
def workers(postgresql_url: str, redis_server: RedisServer, tmp_path: Path) -> Iterator[Any]:
    """Starts ``wirehub worker`` processes: ``workers("a", "b", grace=...)``; all are killed afterwards."""
    started: list[WorkerProcess] = []

    def start(*names: str, grace: float = 5.0, wait: bool = True) -> list[WorkerProcess]:
        env = {
            "WIREHUB_DATABASE_URL": postgresql_url,
            "WIREHUB_REDIS_URL": redis_server.url,
            "WIREHUB_LEASE_SECONDS": str(LEASE),
            "WIREHUB_SWEEP_INTERVAL_SECONDS": str(SWEEP),
            "WIREHUB_SHUTDOWN_GRACE_SECONDS": str(grace),
            "WIREHUB_EGRESS_ALLOW_NETWORKS": "127.0.0.0/8",
            "WIREHUB_WORKER_CONCURRENCY": "8",
        }
        processes = [WorkerProcess(name, env, tmp_path) for name in names]
        started.extend(processes)
        for process in processes:
            if wait:
                process.wait_started()
        return processes

    try:
        yield start
    finally:
        for process in started:
            process.close()


def _post(step_id: str, needs: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    step: dict[str, Any] = {
        "id": step_id,
        "type": "core.http",
        "config": {"method": "POST"},
        "input": {"url": "input.url", "body": f"{{step: '{step_id}'}}"},
        **extra,
    }
    if needs:
        step["needs"] = needs
    return step


FAN_OUT: dict[str, Any] = {
    "name": "fan-out-and-wait",
    "steps": [
        {"id": "first", "type": "core.transform", "config": {"expression": "input"}},
        _post("left", ["first"]),
        _post("right", ["first"]),
        {"id": "pause", "type": "core.delay", "needs": ["left", "right"], "config": {"seconds": 0.2}},
        {"id": "last", "type": "core.transform", "needs": ["pause"], "config": {"expression": '`"done"`'}},
    ],
    "output": "steps.last",
}

SLOW: dict[str, Any] = {
    "name": "one-slow-call",
    "steps": [
        _post(
            "slow",
            timeout_seconds=30,
            retry={"max_attempts": 2, "interval_seconds": 0.1, "retry_on": ["timeout"]},
        )
    ],
}


async def _until_requests(server: LocalServer, count: int, within: float = 20.0) -> None:
    async with asyncio.timeout(within):
        while len(server.requests) < count:  # noqa: ASYNC110  # the server runs in a thread of its own
            await asyncio.sleep(0.02)


def _keys(server: LocalServer) -> list[str]:
    return [request.headers["idempotency-key"] for request in server.requests]


async def test_two_worker_processes_share_executions_and_survive_a_redis_restart_that_lost_its_data(
    sender: Sender, workers: Any, server: LocalServer, redis_server: RedisServer
) -> None:
    a, b = workers("a", "b")
    workflow_id = await sender.workflow(FAN_OUT)
    executions = [await sender.start(workflow_id, {"url": server.url("/echo")}) for _ in range(12)]
    await _until_requests(server, 4)
    redis_server.kill()  # with every message in it, delivered or not
    await asyncio.sleep(1.0)
    redis_server.start()
    views = [await sender.store.wait(execution_id, timeout=30) for execution_id in executions]
    assert a.process.poll() is None  # neither worker died with Redis
    assert b.process.poll() is None

    assert [view.status for view in views] == ["succeeded"] * 12, [
        (v.error, [(r.step_id, r.attempt, r.status, r.worker, r.error) for r in v.steps])
        for v in views
        if v.status != "succeeded"
    ][:2]
    assert [view.output for view in views] == ["done"] * 12
    ran_by = {run.worker for view in views for run in view.steps if run.worker}
    assert ran_by == {"a", "b"}
    assert len(server.requests) == 24  # each call made once
    assert len(set(_keys(server))) == 24
    for process in (a, b):
        process.terminate()
    assert [a.wait(10), b.wait(10)] == [0, 0]


async def test_a_worker_killed_mid_step_loses_its_lease_and_another_worker_retries_the_attempt(
    sender: Sender, workers: Any, server: LocalServer
) -> None:
    by_name = {process.name: process for process in workers("a", "b")}
    workflow_id = await sender.workflow(SLOW)
    execution_id = await sender.start(workflow_id, {"url": server.url("/slow?seconds=1.5")})
    await _until_requests(server, 1)
    holder = next(run.worker for run in (await sender.store.get(execution_id)).steps if run.worker)
    assert holder is not None
    by_name[holder].kill()
    killed = time.monotonic()

    await _until_requests(server, 2, within=LEASE + SWEEP + MARGIN)
    recovered = time.monotonic() - killed
    view = await sender.store.wait(execution_id, timeout=20)

    assert view.status == "succeeded"
    runs = [(run.attempt, run.status, run.worker) for run in view.steps]
    (other,) = set(by_name) - {holder}
    assert runs == [(1, "timed_out", holder), (2, "succeeded", other)]
    assert recovered <= LEASE + SWEEP + MARGIN
    assert len(set(_keys(server))) == 1  # the retry repeats the effect under the same idempotency key


async def test_sigterm_finishes_a_short_step_within_the_grace_and_hands_back_a_long_one(
    sender: Sender, workers: Any, server: LocalServer
) -> None:
    (first,) = workers("first", grace=1.0)
    workflow_id = await sender.workflow(SLOW)
    short = await sender.start(workflow_id, {"url": server.url("/slow?seconds=0.5")})
    long = await sender.start(workflow_id, {"url": server.url("/slow?seconds=2.5")})
    await _until_requests(server, 2)
    first.terminate()
    stopped = time.monotonic()
    (second,) = workers("second", wait=False)  # it starts while the first one stops
    assert first.wait(10) == 0
    assert time.monotonic() - stopped < 1.0 + MARGIN

    short_view = await sender.store.get(short)
    assert [(run.attempt, run.status, run.worker) for run in short_view.steps] == [(1, "succeeded", "first")]
    assert (await sender.store.get(long)).status == "running"  # handed back, not failed

    second.wait_started()
    long_view = await sender.store.wait(long, timeout=20)
    assert long_view.status == "succeeded"
    assert [(run.attempt, run.status, run.worker) for run in long_view.steps] == [(1, "succeeded", "second")]


async def test_a_worker_process_opens_its_steps_credential_from_the_database_and_the_echo_is_redacted(
    sender: Sender, workers: Any, server: LocalServer
) -> None:
    token = "stored-token-in-postgres-51c9"
    async with session_factory(sender.engine, writes=True).begin() as session:
        await seed_access(session)
        await CredentialRows(session, CredentialKeyring.parse([CREDENTIAL_KEYS])).add(
            DEFAULT_WORKSPACE_ID,
            "acme",
            "core.bearer",
            {"token": token},
            secret_fields={"token"},
            allowed_hosts=[f"127.0.0.1:{server.port}"],
        )
    workers("a")
    step = {"id": "call", "type": "core.http", "config": {"url": server.url("/echo")}, "credential": "acme"}
    workflow_id = await sender.workflow({"name": "with-credential", "steps": [step]})
    view = await sender.store.wait(await sender.start(workflow_id), timeout=30)
    assert view.status == "succeeded", view.error
    assert server.requests[0].headers["authorization"] == f"Bearer {token}"
    assert view.output["call"]["body"]["headers"]["authorization"] == "[redacted]"
    assert token not in str(view)
