"""Bounds on what any request may carry, checked before a handler reads it.

- Headers: at most ``MAX_HEADER_BYTES`` in all (``HeaderLimitMiddleware``; a 431 problem).
- A body (the size is Litestar's ``request_max_body_size``, a 413), whatever its declared content
  type, since the routes that read a definition parse any body as JSON: valid UTF-8 JSON, nested
  at most ``MAX_DEPTH`` deep, no array or object with more than ``MAX_CONTAINER_ITEMS`` items, no
  NUL character in a string or a key (PostgreSQL's text refuses them), integers within signed 64
  bits (what the database and the expressions hold). msgspec already refuses lone surrogates and
  numbers JSON cannot carry (``NaN``, ``1e400``).
- Query and path parameters: no NUL character; integers within signed 64 bits.

``check_request`` is an app-wide guard: it runs after authentication and authorization, so an
anonymous caller cannot make the hub decode bodies for routes it may not call. Every refusal is a
400 problem whose items point at the value (a JSON pointer, or the parameter's name).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send

from wirehub.api.problems import ApiError, ProblemItem

MAX_HEADER_BYTES = 16 * 1024
"""All request headers together (names and values); uvicorn's own limit is the same."""
MAX_DEPTH = 70
"""Nesting of a JSON body: a definition or an input at the engine's own limit (64) fits in its request."""
MAX_CONTAINER_ITEMS = 10_000
"""Items of one array or object in a JSON body."""
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class HeadersTooLargeError(ApiError):
    """The 431 of a request whose headers are past ``MAX_HEADER_BYTES``."""

    def __init__(self) -> None:
        super().__init__(431, "headers-too-large", f"the request's headers are larger than {MAX_HEADER_BYTES} bytes")


class HeaderLimitMiddleware:
    """Refuses a request whose headers are larger than ``MAX_HEADER_BYTES`` in all (431)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            size = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
            if size > MAX_HEADER_BYTES:
                raise HeadersTooLargeError
        await self.app(scope, receive, send)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _item(pointer: str, code: str, message: str) -> ProblemItem:
    return ProblemItem(message=message, code=code, pointer=pointer)


def body_problem(value: Any, pointer: str = "", depth: int = 1) -> ProblemItem | None:
    """The first thing in a decoded JSON ``value`` past the bounds, or ``None``."""
    if isinstance(value, str):
        return _item(pointer, "nul-character", "a NUL character") if "\x00" in value else None
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return None
    if isinstance(value, int):
        if INT_MIN <= value <= INT_MAX:
            return None
        return _item(pointer, "integer-out-of-range", "an integer past signed 64 bits")
    if depth > MAX_DEPTH:
        return _item(pointer, "too-deep", f"nested more than {MAX_DEPTH} deep")
    if len(value) > MAX_CONTAINER_ITEMS:
        return _item(pointer, "too-many-items", f"at most {MAX_CONTAINER_ITEMS} items")
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{pointer}/{_escape(key)}"
            if "\x00" in key:
                return _item(here, "nul-character", "a NUL character in a key")
            found = body_problem(item, here, depth + 1)
            if found is not None:
                return found
        return None
    for index, item in enumerate(value):
        found = body_problem(item, f"{pointer}/{index}", depth + 1)
        if found is not None:
            return found
    return None


def _parameter_problem(name: str, value: object) -> ProblemItem | None:
    if isinstance(value, str) and "\x00" in value:
        return ProblemItem(message="a NUL character", code="nul-character", parameter=name[:100])
    if isinstance(value, int) and not isinstance(value, bool) and not INT_MIN <= value <= INT_MAX:
        return ProblemItem(message="an integer past signed 64 bits", code="integer-out-of-range", parameter=name)
    return None


def _parameters_problem(connection: ASGIConnection[Any, Any, Any, Any]) -> ProblemItem | None:
    for name, value in connection.path_params.items():
        found = _parameter_problem(name, value)
        if found is not None:
            return found
    for name, value in connection.query_params.multi_items():
        found = _parameter_problem(name, value) or _parameter_problem(name, name)
        if found is not None:
            return found
    return None


async def check_request(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """The app-wide guard that bounds parameters and JSON bodies (a 400 problem with a pointer)."""
    found = _parameters_problem(connection)
    if found is not None:
        raise ApiError(400, "invalid-request", "a parameter is not acceptable", errors=[found])
    if connection.scope["type"] != ScopeType.HTTP or connection.scope.get("method") not in _BODY_METHODS:
        return
    body: bytes = await connection.body()  # type: ignore[attr-defined] # an HTTP connection is a Request
    if not body.strip():
        return
    try:
        value = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError) as exc:
        item = ProblemItem(message=_decode_message(exc), code="invalid-json", pointer="")
        raise ApiError(400, "invalid-body", "the body is not valid JSON", errors=[item]) from exc
    found = body_problem(value)
    if found is not None:
        raise ApiError(400, "invalid-body", "the body is not acceptable", errors=[found])


def _decode_message(exc: Exception) -> str:
    if isinstance(exc, RecursionError) or "recursion" in str(exc):
        return "nested too deep to read"
    return str(exc)[:200]
