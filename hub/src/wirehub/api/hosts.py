"""The ``Host`` headers the API answers (``WIREHUB_ALLOWED_HOSTS``); any other is a 400 problem.

Litestar's ``allowed_hosts`` answers a refusal with a body of its own (not a problem) and
compares the header with its port, so ``hub.example.com:8443`` never matched ``hub.example.com``.
Here the port is ignored, names compare case-insensitively, ``*.example.com`` matches any
subdomain (not ``example.com`` itself) and ``*`` any host.
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.middleware import DefineMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from wirehub.api.problems import ApiError

REFUSED = "this host is not served here"


def host_name(header: str) -> str:
    """The name in a ``Host`` header: without its port, lowercase (an IPv6 literal keeps its brackets)."""
    value = header.strip().lower()
    if value.startswith("["):
        return value.partition("]")[0] + "]"
    return value.rpartition(":")[0] if value.count(":") == 1 else value


def host_allowed(header: str | None, allowed: tuple[str, ...]) -> bool:
    """Whether ``header`` names one of the ``allowed`` hosts."""
    if header is None:
        return False
    name = host_name(header)
    for rule in allowed:
        rule = rule.strip().lower()
        if rule == "*" or rule == name or (rule.startswith("*.") and name.endswith(rule[1:])):
            return True
    return False


CLOSE_INVALID_HOST = 4400
"""The close code of a WebSocket handshake refused for its ``Host`` (before it is accepted)."""


class AllowedHostsMiddleware:
    """Refuses an HTTP request (400 ``invalid-host``) or a WebSocket handshake (closed, 4400) to a host not allowed."""

    def __init__(self, app: ASGIApp, allowed: tuple[str, ...]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            header = next((value for name, value in scope["headers"] if name == b"host"), None)
            if not host_allowed(header.decode("latin-1") if header is not None else None, self.allowed):
                if scope["type"] == ScopeType.WEBSOCKET:
                    await send({"type": "websocket.close", "code": CLOSE_INVALID_HOST, "reason": REFUSED})
                    return
                raise ApiError(400, "invalid-host", REFUSED)
        await self.app(scope, receive, send)


def allowed_hosts_middleware(allowed: tuple[str, ...]) -> list[DefineMiddleware]:
    """The middleware for ``WIREHUB_ALLOWED_HOSTS``; none when the setting is empty (every host)."""
    return [DefineMiddleware(AllowedHostsMiddleware, allowed=allowed)] if allowed else []
