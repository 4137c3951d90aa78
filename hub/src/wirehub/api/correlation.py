"""A correlation id on every request and response: the client's ``X-Request-ID`` when sane, else a new one."""

from __future__ import annotations

import re
import uuid
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send
from structlog.contextvars import bound_contextvars

HEADER = "x-request-id"
RESPONSE_HEADER = b"x-correlation-id"
SCOPE_KEY = "wirehub.correlation_id"
_SANE = re.compile(r"[A-Za-z0-9._-]{1,64}")


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

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == RESPONSE_HEADER for name, _ in headers):  # a problem body sets its own
                    headers.append((RESPONSE_HEADER, value.encode()))
                message["headers"] = headers
            await send(message)

        # Every line logged while the request or WebSocket is handled carries its correlation id.
        with bound_contextvars(correlation_id=value):
            await self.app(scope, receive, send_with_id)
