"""Keeps a step's credential out of what the step records: its output, its error and so its events.

A remote API may echo what it was sent (an ``Authorization`` header copied into a
response body, a token quoted in an error message). Before an attempt's outcome
is recorded, every string in its output and error that holds one of the step
credential's secret values (or what the credential puts on the wire, such as
Basic authentication's base64 token) has that value replaced by ``[redacted]``.
The attempt's log lines (``ctx.logger`` included) get the same treatment.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import msgspec

from wirehub.engine import ErrorInfo, StepFailed, StepSucceeded, StepSuspended
from wirehub.runtime.attempts import AttemptOutcome
from wirehub_sdk import CredentialType

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 4
"""Shorter secret values are not searched for: they would blank out ordinary words."""

_AUTH_HEADERS = ("authorization", "proxy-authorization")


def secret_values(credential_type: CredentialType, fields: Mapping[str, Any], decoded: Any) -> frozenset[str]:
    """The strings to hide for a credential: its secret fields' values, URL-encoded too, and the
    credentials part of an ``Authorization`` header its type sets (``Basic <token>``).

    Args:
        credential_type: The credential's type.
        fields: Its fields as stored (secrets included).
        decoded: The same fields decoded into the type's ``Fields``.
    """
    values = {str(value) for name, value in fields.items() if name in credential_type.secret_fields and value}
    probe = httpx.Request("GET", "https://credential.invalid/")
    try:
        credential_type.apply(decoded, probe)
    except Exception:
        probe = httpx.Request("GET", "https://credential.invalid/")
    for name in _AUTH_HEADERS:
        header = probe.headers.get(name)
        if header:
            values.update((header, header.partition(" ")[2] or header))
    encoded = {form for value in values for form in (quote(value, safe=""), quote_plus(value, safe=""))}
    return frozenset(value for value in values | encoded if len(value) >= MIN_SECRET_LENGTH)


def redact(value: Any, secrets: frozenset[str]) -> Any:
    """``value`` (JSON) with every occurrence of each secret, in keys and strings, replaced by ``[redacted]``."""
    if not secrets:
        return value
    ordered = sorted(secrets, key=len, reverse=True)  # a longer value that contains a shorter one goes first
    return _walk(value, ordered)


def _walk(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {_walk(key, secrets): _walk(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_walk(item, secrets) for item in value]
    return value


def redact_outcome(outcome: AttemptOutcome, secrets: frozenset[str]) -> AttemptOutcome:
    """The outcome with ``secrets`` hidden in its output or its error (message, details and traceback)."""
    if not secrets:
        return outcome
    if isinstance(outcome, StepSucceeded | StepSuspended):
        return msgspec.structs.replace(outcome, output=redact(outcome.output, secrets))
    if isinstance(outcome, StepFailed):
        error: ErrorInfo = outcome.error
        cleaned = msgspec.structs.replace(
            error,
            message=redact(error.message, secrets),
            details=redact(error.details, secrets),
            traceback=redact(error.traceback, secrets),
        )
        return msgspec.structs.replace(outcome, error=cleaned)
    return outcome


class RedactingLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """An attempt's logger: its records carry the attempt's ids, and its messages never a secret.

    Each message is formatted with its arguments here and every value of ``hidden`` (filled once
    the credential is known) replaced by ``[redacted]``. A traceback attached to a record is not
    rewritten.
    """

    def __init__(self, logger: logging.Logger, extra: Mapping[str, object], hidden: Collection[str]) -> None:
        super().__init__(logger, extra)
        self.hidden = hidden

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if self.hidden and self.isEnabledFor(level):
            values: Any = args[0] if len(args) == 1 and isinstance(args[0], Mapping) and args[0] else args
            try:
                text = str(msg) % values if args else str(msg)
            except (TypeError, ValueError, KeyError):
                text = " ".join([str(msg), *(str(arg) for arg in args)])
            msg, args = redact(text, frozenset(self.hidden)), ()
        super().log(level, msg, *args, **kwargs)
