"""Liveness and readiness, public and unauthenticated."""

from __future__ import annotations

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency
from sqlalchemy import text

from wirehub.api.security import PUBLIC
from wirehub.api.services import HubServices


class Health(msgspec.Struct, frozen=True):
    """What a health check found.

    Attributes:
        status: ``ok``, or ``unavailable`` with the failing checks in ``checks``.
        checks: Each dependency and what it answered (``ok`` or why not).
    """

    status: str
    checks: dict[str, str] = msgspec.field(default_factory=dict)


@get("/health/live", opt=PUBLIC, tags=["health"], summary="The process is up")
async def live() -> Health:
    """Answers while the process runs its event loop."""
    return Health(status="ok")


@get("/health/ready", opt=PUBLIC, tags=["health"], summary="The process can serve requests")
async def ready(services: NamedDependency[HubServices]) -> Response[Health]:
    """Checks the database (and Redis, distributed); 503 with what is wrong otherwise."""
    checks: dict[str, str] = {}
    try:
        async with services.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; its kind is enough, never its message
        checks["database"] = f"unreachable ({type(exc).__name__})"
    healthy = all(value == "ok" for value in checks.values())
    body = Health(status="ok" if healthy else "unavailable", checks=checks)
    return Response(body, status_code=200 if healthy else 503, headers={} if healthy else {"Retry-After": "5"})
