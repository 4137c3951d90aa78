"""Every error as an RFC 9457 problem-details body, with a stable code and the request's correlation id.

A handler raises :class:`ApiError` (or lets a store error or one of Litestar's
HTTP exceptions through); :func:`exception_handlers` turns each into
``application/problem+json``. Anything unexpected becomes a 500 whose body says
nothing but the correlation id: the traceback goes to the log, never to the client.
"""

from __future__ import annotations

import logging
import re
import socket
import traceback
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
import msgspec
from advanced_alchemy.exceptions import IntegrityError as AlchemyIntegrityError
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError

from wirehub.api.correlation import correlation_id
from wirehub.engine import Problem
from wirehub.store import (
    ConcurrentTransitionError,
    ExecutionNotFoundError,
    IdempotencyConflictError,
    InvalidDefinitionError,
    InvalidInputError,
    WorkflowNotFoundError,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://wirehub.dev/problems/"
"""Problem types are ``TYPE_BASE + code``; docs/api.md lists every code."""

logger = logging.getLogger("wirehub.api")


class ProblemItem(msgspec.Struct, frozen=True, omit_defaults=True):
    """One thing wrong with what the client sent.

    Attributes:
        pointer: A JSON pointer into the request body (or the definition) to the offending value.
        message: What is wrong, in a sentence.
        code: A stable machine code.
        parameter: The query, path or header parameter at fault, when not the body.
    """

    message: str
    code: str
    pointer: str | None = None
    parameter: str | None = None


class ProblemDetails(msgspec.Struct, frozen=True, omit_defaults=True):
    """An RFC 9457 problem-details body.

    Attributes:
        type: A URI naming the problem type (``https://wirehub.dev/problems/<code>``).
        title: A short summary of the problem type.
        status: The HTTP status.
        detail: What happened in this case.
        code: The stable machine code.
        correlation_id: Quote it when reporting the problem; it is in the server's log.
        errors: Each problem with the request, when there are several.
    """

    type: str
    title: str
    status: int
    code: str
    correlation_id: str
    detail: str | None = None
    errors: list[ProblemItem] = msgspec.field(default_factory=list)


class ApiError(Exception):
    """An error a handler raises on purpose; it becomes a problem-details response.

    Args:
        status: The HTTP status.
        code: The stable machine code.
        detail: What went wrong, for a person.
        errors: Each problem, with its pointer.
        headers: Response headers (``Retry-After``...).
    """

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        errors: Sequence[ProblemItem] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = list(errors)
        self.headers = dict(headers or {})


def not_found(what: str) -> ApiError:
    """A 404 for ``what`` (also what another workspace's object answers: its existence does not leak)."""
    return ApiError(404, "not-found", f"{what} was not found")


def items_of(problems: Sequence[Problem], *, prefix: str = "") -> list[ProblemItem]:
    """The engine's problems as problem items, their pointers under ``prefix``."""
    return [ProblemItem(message=p.message, code=p.code, pointer=prefix + p.pointer) for p in problems]


def correlation_id_of(request: Request[Any, Any, Any]) -> str:
    """The request's correlation id (set by ``CorrelationMiddleware``)."""
    return correlation_id(request.scope)


_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    431: "Request header fields too large",
    500: "Internal server error",
    503: "Service unavailable",
}
_CODES = {
    400: "bad-request",
    401: "not-authenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "request-too-large",
    415: "unsupported-media-type",
    422: "unprocessable",
    429: "rate-limited",
    431: "headers-too-large",
    500: "internal-error",
    503: "unavailable",
}


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    detail: str | None,
    *,
    errors: Sequence[ProblemItem] = (),
    headers: Mapping[str, str] | None = None,
) -> Response[bytes]:
    """A problem-details response."""
    body = ProblemDetails(
        type=TYPE_BASE + code,
        title=_TITLES.get(status, "Error"),
        status=status,
        code=code,
        detail=detail,
        correlation_id=correlation_id_of(request),
        errors=list(errors),
    )
    return Response(
        content=msgspec.json.encode(body),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers={**(headers or {}), "X-Correlation-ID": body.correlation_id},
    )


_PATH_TOKEN = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


def pointer_of(path: str) -> str:
    """msgspec's ``$.steps[0].id`` as the JSON pointer ``/steps/0/id``."""
    tokens = [name or index for name, index in _PATH_TOKEN.findall(path.removeprefix("$"))]
    return "".join("/" + token.replace("~", "~0").replace("/", "~1") for token in tokens)


_AT = re.compile(r"^(?P<message>.*?)(?: - at `(?P<path>\$[^`]*)`)?$", re.DOTALL)


_UNKNOWN_FIELD = re.compile(r"^Object contains unknown field `(?P<name>[^`]*)`$")


def _body_pointer(key: str | None, message: str) -> str:
    """A JSON pointer into the body from Litestar's error key (``data``, ``input.items[0]``) and message."""
    path = "" if key in (None, "", "data") else pointer_of("$." + str(key).removeprefix("data."))
    unknown = _UNKNOWN_FIELD.match(message)
    if unknown:
        path += "/" + unknown.group("name").replace("~", "~0").replace("/", "~1")
    return path


def _validation_items(exc: ValidationException) -> list[ProblemItem]:
    items: list[ProblemItem] = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    for entry in extra[:50]:
        if not isinstance(entry, dict):
            continue
        raw = str(entry.get("message", "invalid value"))[:500]
        source = entry.get("source")
        key = entry.get("key")
        match = _AT.match(raw)
        message, path = (match.group("message"), match.group("path")) if match else (raw, None)
        if source in ("query", "path", "header", "cookie") and key:
            items.append(ProblemItem(message=message, code="invalid-parameter", parameter=str(key)[:100]))
        else:
            pointer = pointer_of(path) if path else _body_pointer(key, message)
            items.append(ProblemItem(message=message, code="invalid-body", pointer=pointer))
    return items


def _handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    headers = dict(exc.headers or {})
    if isinstance(exc, ValidationException):
        items = _validation_items(exc)
        detail = "the request is not valid" if items else _safe_detail(exc.detail)
        return problem_response(request, 400, "invalid-request", detail, errors=items, headers=headers)
    if status >= 500:
        logger.error("HTTP %d on %s: %s", status, request.scope.get("path"), exc.detail)
        return problem_response(request, status, _CODES.get(status, "error"), None, headers=headers)
    return problem_response(request, status, _CODES.get(status, "error"), _safe_detail(exc.detail), headers=headers)


def _safe_detail(detail: object) -> str | None:
    text = str(detail) if detail else None
    return text[:500] if text else None


def _handle_api(request: Request[Any, Any, Any], exc: ApiError) -> Response[bytes]:
    return problem_response(request, exc.status, exc.code, exc.detail, errors=exc.errors, headers=exc.headers)


def _handle_invalid_definition(request: Request[Any, Any, Any], exc: InvalidDefinitionError) -> Response[bytes]:
    return problem_response(
        request, 422, "invalid-definition", "the definition is not valid", errors=items_of(exc.problems)
    )


def _handle_invalid_input(request: Request[Any, Any, Any], exc: InvalidInputError) -> Response[bytes]:
    return problem_response(
        request,
        422,
        "invalid-input",
        "the execution input is not valid",
        errors=items_of(exc.problems, prefix="/input"),
    )


def _handle_not_found(
    request: Request[Any, Any, Any], exc: WorkflowNotFoundError | ExecutionNotFoundError
) -> Response[bytes]:
    what = "the execution" if isinstance(exc, ExecutionNotFoundError) else "the workflow"
    return problem_response(request, 404, "not-found", f"{what} was not found")


def _handle_idempotency(request: Request[Any, Any, Any], exc: IdempotencyConflictError) -> Response[bytes]:
    return problem_response(
        request,
        409,
        "idempotency-conflict",
        "this Idempotency-Key already started an execution with another body; use a new key for a new request",
    )


def _handle_concurrent(request: Request[Any, Any, Any], exc: ConcurrentTransitionError) -> Response[bytes]:
    return problem_response(request, 409, "concurrent-change", "the execution changed meanwhile; try again")


def _handle_integrity(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    # A unique key taken by a concurrent request between a handler's check and its write: the
    # database refused the write and rolled it back. The statement and its values stay in the log.
    logger.info("integrity error on %s %s: %s", request.method, request.scope.get("path"), exc)
    return problem_response(
        request, 409, "conflict", "the change conflicts with another made meanwhile (a name taken?); try again"
    )


RETRY_AFTER_SECONDS = 5
"""What a 503 tells a client to wait before trying again."""
_POSTGRES_FAILURES: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
)
_CONNECTION_FAILURES: tuple[type[Exception], ...] = (
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    *_POSTGRES_FAILURES,
)


def _unavailable(request: Request[Any, Any, Any], what: str, exc: BaseException) -> Response[bytes]:
    # The driver's message may hold the URL, the user and the address: it goes to the log only.
    logger.warning("%s unreachable on %s %s: %r", what, request.method, request.scope.get("path"), exc)
    return problem_response(
        request,
        503,
        "unavailable",
        f"{what} is not reachable; try again shortly",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def database_unreachable(exc: BaseException) -> bool:
    """Whether a database error means the database is away (down, restarting, out of connections, locked)."""
    if isinstance(exc, SQLAlchemyTimeoutError | DisconnectionError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated or isinstance(exc.orig, _CONNECTION_FAILURES):
            return True
        return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)
    return isinstance(exc, _CONNECTION_FAILURES)


def _handle_database(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    if database_unreachable(exc):
        return _unavailable(request, "the database", exc)
    return _handle_unexpected(request, exc)


def _handle_redis(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    return _unavailable(request, "the shared store (Redis)", exc)


def _failed_in(exc: BaseException) -> str:
    """Which dependency a bare connection error came from, by the modules its traceback passed through."""
    modules = {
        frame.f_globals.get("__name__", "").partition(".")[0] for frame, _ in traceback.walk_tb(exc.__traceback__)
    }
    if isinstance(exc, _POSTGRES_FAILURES) or modules & {"asyncpg", "sqlalchemy", "aiosqlite"}:
        return "the database"
    if "redis" in modules:
        return "the shared store (Redis)"
    return "a service the hub needs"


def _handle_connection(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    return _unavailable(request, _failed_in(exc), exc)


def _handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    logger.exception(
        "unhandled error on %s %s (correlation id %s)",
        request.method,
        request.scope.get("path"),
        correlation_id_of(request),
    )
    return problem_response(
        request, HTTP_500_INTERNAL_SERVER_ERROR, "internal-error", "an internal error; quote the correlation id"
    )


def exception_handlers() -> dict[type[Exception] | int, Any]:
    """Litestar's ``exception_handlers``: every error a problem-details body."""
    return {
        ApiError: _handle_api,
        InvalidDefinitionError: _handle_invalid_definition,
        InvalidInputError: _handle_invalid_input,
        WorkflowNotFoundError: _handle_not_found,
        ExecutionNotFoundError: _handle_not_found,
        IdempotencyConflictError: _handle_idempotency,
        ConcurrentTransitionError: _handle_concurrent,
        IntegrityError: _handle_integrity,
        AlchemyIntegrityError: _handle_integrity,
        DBAPIError: _handle_database,
        SQLAlchemyTimeoutError: _handle_database,
        DisconnectionError: _handle_database,
        RedisConnectionError: _handle_redis,
        RedisTimeoutError: _handle_redis,
        **dict.fromkeys(_CONNECTION_FAILURES, _handle_connection),
        HTTPException: _handle_http,
        Exception: _handle_unexpected,
    }


__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "ApiError",
    "ProblemDetails",
    "ProblemItem",
    "exception_handlers",
    "items_of",
    "not_found",
    "pointer_of",
    "problem_response",
]
