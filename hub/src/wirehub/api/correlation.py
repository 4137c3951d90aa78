"""A correlation id on every request and response: the client's ``X-Request-ID`` when sane, else a new one.

The same middleware writes the access line of each request (logger ``wirehub.api.access``): it is
the last line logged with the request's correlation id bound, which uvicorn's own access line
(written outside the app) cannot carry.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send
from structlog.contextvars import bound_contextvars

HEADER = "x-request-id"
RESPONSE_HEADER = b"x-correlation-id"
SCOPE_KEY = "wirehub.correlation_id"
_SANE = re.compile(r"[A-Za-z0-9._-]{1,64}")

access_logger = logging.getLogger("wirehub.api.access")


def correlation_id(scope: Scope | dict[str, Any]) -> str:
    """The correlation id ``CorrelationMiddleware`` gave this request, or ``"-"``."""
    value = scope.get(SCOPE_KEY)
    return value if isinstance(value, str) else "-"


class CorrelationMiddleware:
    """Gives each HTTP request and WebSocket a correlation id and returns it as ``X-Correlation-ID``.

    Errors raised before a route runs (authentication) are answered by Litestar outside this
    middleware; their problem bodies carry the header themselves (``problems.problem_response``).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = next((value for name, value in scope["headers"] if name == HEADER.encode()), b"")
        text = given.decode("latin-1")
        value = text if _SANE.fullmatch(text) else uuid.uuid4().hex
        scope[SCOPE_KEY] = value  # type: ignore[literal-required]

        status = 0
        began = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                if not any(name.lower() == RESPONSE_HEADER for name, _ in headers):  # a problem body sets its own
                    headers.append((RESPONSE_HEADER, value.encode()))
                message["headers"] = headers
            await send(message)

        # Every line logged while the request or WebSocket is handled carries its correlation id.
        with bound_contextvars(correlation_id=value):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                if access_logger.isEnabledFor(logging.INFO):
                    _log_access(scope, status, time.perf_counter() - began)


def _log_access(scope: Scope, status: int, seconds: float) -> None:
    """One line per request: method, path (never its query, which may hold a ticket), status, duration."""
    client = scope.get("client")
    method = scope.get("method") or "WS"  # a WebSocket scope has no method
    access_logger.info(
        "%s %s %s %.1f ms",
        method,
        scope["path"],
        status or "-",
        seconds * 1000,
        extra={"client": client[0] if client else "-"},
    )
