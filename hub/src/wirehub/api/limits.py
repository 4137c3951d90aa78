"""Rate limits: per user, per client address for unauthenticated routes, stricter for logging in.

Each limit is a fixed window counted in the ``SharedStore``: in Redis by
one Lua script (``INCR``, and ``PEXPIRE`` on the window's first request, in
one atomic step), so every API replica counts against the same number and a
burst cannot slip between a read and a write; in memory embedded. Litestar's
``RateLimitConfig`` is not used: its Redis store reads then writes the count,
so replicas under a burst let more through than the limit (22 to 39 of 200
against a limit of 20 in our measurement), it covers HTTP only, and it keys
on the socket peer, never the user. A WebSocket's messages count against
the same per-user limit as its owner's requests (``RateLimiter.check``).

When the store fails (Redis away) the request is let through and the
failure logged: the limits protect the hub, they must not stop it.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import WebSocketException
from litestar.handlers.base import BaseRouteHandler

from wirehub.api.problems import ApiError
from wirehub.api.security.principal import Principal
from wirehub.api.shared import SharedStore
from wirehub.settings import Settings

logger = logging.getLogger("wirehub.api")

CLOSE_RATE_LIMITED = 4429
"""The close code of a WebSocket handshake past its rate limit (4000 + 429)."""
LOGIN_ROUTES = frozenset({("POST", "/api/v1/auth/token")})
"""Routes counted against ``WIREHUB_RATE_LIMIT_LOGIN`` per client address."""


@dataclass(frozen=True)
class Verdict:
    """What a limit said about one request.

    Attributes:
        allowed: Whether it may go on.
        retry_after: Seconds until the window ends (whole, at least 1), when refused.
    """

    allowed: bool
    retry_after: int = 0


class RateLimiter:
    """Counts requests per key in fixed windows shared by every replica.

    Args:
        shared: Where the counters live.
        settings: ``WIREHUB_RATE_LIMIT_*``.
    """

    def __init__(self, shared: SharedStore, settings: Settings) -> None:
        self.shared = shared
        self.window = settings.rate_limit_window_seconds
        self.user_limit = settings.rate_limit_user
        self.anonymous_limit = settings.rate_limit_anonymous
        self.login_limit = settings.rate_limit_login
        self._failing = False

    async def hit(self, bucket: str, who: str, limit: int) -> Verdict:
        """Counts one request of ``who`` in ``bucket``; refused past ``limit`` (0: no limit)."""
        if limit <= 0:
            return Verdict(True)
        try:
            count, remaining = await self.shared.count(f"rate:{bucket}:{who}", self.window)
        except Exception as exc:  # fail open: the hub keeps serving while its Redis is away
            if not self._failing:
                self._failing = True
                logger.warning("rate limits are not counted (the store failed): %s", exc)
            return Verdict(True)
        self._failing = False
        if count <= limit:
            return Verdict(True)
        return Verdict(False, max(1, math.ceil(remaining)))

    async def check(self, principal: Principal) -> None:
        """Counts one request or message of ``principal``.

        Raises:
            ApiError: 429, with ``Retry-After``, past the user's limit.
        """
        verdict = await self.hit("user", str(principal.user_id), self.user_limit)
        if not verdict.allowed:
            raise limited(verdict, "requests")

    async def check_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        """Counts one request: its user's, else its client address's (a login's stricter count).

        Raises:
            ApiError: 429, with ``Retry-After``, past the limit.
        """
        user = connection.scope.get("user")
        if isinstance(user, Principal):
            await self.check(user)
            return
        address = connection.client.host if connection.client is not None else "unknown"
        method = connection.scope.get("method", "GET")
        if (method, connection.scope["path"]) in LOGIN_ROUTES:
            verdict = await self.hit("login", address, self.login_limit)
            what = "login attempts"
        else:
            verdict = await self.hit("anonymous", address, self.anonymous_limit)
            what = "requests"
        if not verdict.allowed:
            raise limited(verdict, what)


def limited(verdict: Verdict, what: str) -> ApiError:
    """The 429 problem of a refused request."""
    return ApiError(
        429,
        "rate-limited",
        f"too many {what}; try again in {verdict.retry_after} s",
        headers={"Retry-After": str(verdict.retry_after)},
    )


async def rate_limit(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The app-wide guard that counts every request (a WebSocket's handshake included)."""
    services = connection.app.state.get("services")
    if services is None:
        return
    try:
        await services.limiter.check_connection(connection)
    except ApiError as exc:
        if connection.scope["type"] == ScopeType.WEBSOCKET:  # a handshake is refused by a close code, not a body
            raise WebSocketException(detail=exc.detail, code=CLOSE_RATE_LIMITED) from exc
        raise
