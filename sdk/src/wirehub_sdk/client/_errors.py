"""The client's errors: one root, ``ClientError``; a refused request carries its RFC 9457 problem details."""

from __future__ import annotations

from typing import Any

import msgspec

MAX_SHOWN_BODY = 300
"""How much of a body that is not a problem document an error quotes."""


class ProblemItem(msgspec.Struct, frozen=True):
    """One thing wrong with a request.

    Attributes:
        message: What is wrong.
        code: A stable machine code.
        pointer: A JSON pointer into the request body (or the definition) at the offending value.
        parameter: The query, path or header parameter at fault, when not the body.
    """

    message: str = ""
    code: str = ""
    pointer: str | None = None
    parameter: str | None = None


class _ProblemBody(msgspec.Struct, frozen=True):
    type: str = "about:blank"
    title: str = ""
    status: int = 0
    code: str = ""
    detail: str | None = None
    correlation_id: str | None = None
    errors: list[ProblemItem] = msgspec.field(default_factory=list)


class ClientError(Exception):
    """The root of every error the client raises."""


class TransportError(ClientError):
    """The hub could not be reached, or did not answer in time; the request may not have arrived."""


class WaitTimeoutError(ClientError, TimeoutError):
    """An execution was still running when the wait ran out."""


class ProblemError(ClientError):
    """The hub refused a request; the attributes are its problem-details body.

    Attributes:
        status: The HTTP status.
        code: The stable machine code (``not-found``, ``invalid-definition``...).
        title: A short summary of the problem type.
        detail: What went wrong in this case.
        type: The problem type's URI.
        errors: Each problem with the request, with its JSON pointer.
        correlation_id: The request's id in the hub's log; quote it when reporting a problem.
        retry_after: Seconds to wait, when the hub said so (``Retry-After``).
    """

    def __init__(
        self,
        status: int,
        code: str,
        detail: str | None = None,
        *,
        title: str = "",
        type: str = "about:blank",
        errors: list[ProblemItem] | None = None,
        correlation_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.type = type
        self.errors = list(errors or [])
        self.correlation_id = correlation_id
        self.retry_after = retry_after
        super().__init__(self._message())

    def _message(self) -> str:
        text = f"{self.status} {self.code}: {self.detail or self.title}"
        for item in self.errors[:5]:
            where = item.pointer or item.parameter
            text += f"\n  {where}: {item.message}" if where else f"\n  {item.message}"
        if len(self.errors) > 5:
            text += f"\n  (and {len(self.errors) - 5} more)"
        return text


class InvalidRequestError(ProblemError):
    """400 or 422: the request (a definition, an input, a parameter) is not acceptable; see ``errors``."""


class AuthenticationError(ProblemError):
    """401: no valid credential (a wrong password, an expired login, a revoked key)."""


class PermissionDeniedError(ProblemError):
    """403: the credential is valid but lacks the permission."""


class NotFoundError(ProblemError):
    """404: no such thing, or one the caller may not see."""


class ConflictError(ProblemError):
    """409: the request conflicts with the hub's state (an idempotency key reused with another body...)."""


class RateLimitedError(ProblemError):
    """429: too many requests; ``retry_after`` says how long to wait."""


class ServerError(ProblemError):
    """5xx: the hub failed; ``correlation_id`` finds it in the hub's log."""


_BY_STATUS: dict[int, type[ProblemError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: InvalidRequestError,
    429: RateLimitedError,
}


def error_class(status: int) -> type[ProblemError]:
    """The ``ProblemError`` subclass for an HTTP status."""
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, ProblemError)


def problem_error(status: int, body: bytes, *, reason: str = "", retry_after: str | None = None) -> ProblemError:
    """The error of a refused response: its problem document, or what can be said of another body."""
    try:
        problem = msgspec.json.decode(body, type=_ProblemBody)
    except (msgspec.DecodeError, RecursionError):
        shown = body[:MAX_SHOWN_BODY].decode("utf-8", "replace").strip()
        problem = _ProblemBody(status=status, code="http-error", title=reason, detail=shown or reason or None)
    wait: float | None = None
    if retry_after is not None:
        try:
            wait = float(retry_after)
        except ValueError:
            wait = None
    return error_class(status)(
        status,
        problem.code or "http-error",
        problem.detail,
        title=problem.title or reason,
        type=problem.type,
        errors=problem.errors,
        correlation_id=problem.correlation_id,
        retry_after=wait,
    )


def live_error(message: dict[str, Any]) -> ProblemError:
    """The error of a live ``error`` message (shaped like a problem body)."""
    status = message.get("status") if isinstance(message.get("status"), int) else 500
    assert isinstance(status, int)
    retry = message.get("retry_after")
    return error_class(status)(
        status,
        str(message.get("code") or "live-error"),
        str(message.get("detail") or ""),
        retry_after=float(retry) if isinstance(retry, int | float) else None,
    )
