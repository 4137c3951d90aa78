"""Liveness and readiness, public and unauthenticated."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency
from sqlalchemy import text

from wirehub.api.security import PUBLIC
from wirehub.api.services import HubServices
from wirehub.plugins import PluginReport

CHECK_SECONDS = 2.0
"""How long one dependency may take to answer before it counts as down."""


class Health(msgspec.Struct, frozen=True):
    """What a health check found.

    Attributes:
        status: ``ok``, or ``unavailable`` with the failing checks in ``checks``.
        checks: Each dependency and what it answered (``ok`` or why not).
        plugins: Plugins that failed to load, with their errors (the hub runs without them).
    """

    status: str
    checks: dict[str, str] = msgspec.field(default_factory=dict)
    plugins: dict[str, list[str]] = msgspec.field(default_factory=dict)


@get("/health/live", opt=PUBLIC, tags=["health"], summary="The process is up")
async def live() -> Health:
    """Answers while the process runs its event loop."""
    return Health(status="ok")


@get("/health/ready", opt=PUBLIC, tags=["health"], summary="The process can serve requests")
async def ready(services: NamedDependency[HubServices]) -> Response[Health]:
    """Checks the database and, distributed, Redis and the dispatch stream; 503 with what is wrong otherwise.

    Plugins that failed to load are reported but do not make the process unready:
    the hub runs without them, and workflows that need them fail validation.
    """
    checks = {"database": await _check(lambda: _database(services))}
    if not services.embedded:
        checks["redis"] = await _check(lambda: _redis(services))
        checks["broker"] = await _check(lambda: _stream(services))
    reports: list[PluginReport] = getattr(services.registry, "plugins", [])  # a test registry may have none
    failed = {report.name: list(report.errors) for report in reports if not report.healthy}
    healthy = all(value == "ok" for value in checks.values())
    body = Health(status="ok" if healthy else "unavailable", checks=checks, plugins=failed)
    return Response(body, status_code=200 if healthy else 503, headers={} if healthy else {"Retry-After": "5"})


async def _check(probe: Callable[[], Awaitable[None]]) -> str:
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            await probe()
    except TimeoutError:
        return f"no answer within {CHECK_SECONDS:g}s"
    except Exception as exc:  # any failure means not ready; its kind is enough, never its message (URLs)
        return f"unreachable ({type(exc).__name__})"
    return "ok"


async def _database(services: HubServices) -> None:
    async with services.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _redis(services: HubServices) -> None:
    client = getattr(services.dispatcher.broker, "client", None)
    if client is None:
        raise RuntimeError("the broker has no Redis client")
    await client.ping()


async def _stream(services: HubServices) -> None:
    unread = getattr(services.dispatcher.broker, "unread", None)
    if unread is None:
        raise RuntimeError("the broker cannot report its stream")
    await unread()  # the stream and its consumer group answer XINFO
