"""Errors a node raises. Each says whether the engine may retry it."""

from __future__ import annotations

from typing import Any


class NodeError(Exception):
    """Root of every error a node raises on purpose.

    The engine reads three things from it: ``kind`` (a dotted name that retry
    policies and catch routes match on), ``retryable`` and ``retry_after``.
    An exception that is not a ``NodeError`` fails the step with kind
    ``node.unexpected`` and is never retried.

    Args:
        message: What went wrong, for a person.
        kind: Overrides the class's default kind, e.g. ``"http.status"``.
        retryable: Overrides the class's default.
        retry_after: Seconds the node asks the engine to wait before the next
            attempt (an HTTP ``Retry-After``, say). The engine honours it
            within the bounds of the step's retry policy.
        details: JSON-serialisable facts recorded with the error.
    """

    kind: str = "node.error"
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        kind: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if kind is not None:
            self.kind = kind
        if retryable is not None:
            self.retryable = retryable
        self.retry_after = retry_after
        self.details = details or {}


class RetryableError(NodeError):
    """A failure that may go away on its own: the retry policy decides."""

    kind = "node.retryable"
    retryable = True


class NonRetryableError(NodeError):
    """A failure that another attempt cannot fix. Never retried."""

    kind = "node.failed"
    retryable = False


class ConfigError(NonRetryableError):
    """The step's config or input does not fit the node type."""

    kind = "node.config"


class ExpressionError(NonRetryableError):
    """An expression could not be evaluated (bad data, or a bound was hit)."""

    kind = "expression"


class EgressDeniedError(NonRetryableError):
    """An outgoing request was refused by the egress rules."""

    kind = "http.egress_denied"
