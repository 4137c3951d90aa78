"""Retry and catch decisions: which error kinds match, and how long to wait.

Everything here is a pure function. The jitter of a retry delay is derived
from a hash of ``(execution_id, step_id, attempt)``, so replaying an
execution gives the same delays.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from wirehub.engine.execution.state import ErrorInfo
from wirehub.engine.language.definition import Catch, RetryPolicy

WILDCARD = "*"


def kind_matches(patterns: Iterable[str], kind: str) -> bool:
    """Whether an error ``kind`` matches any of ``patterns``.

    ``"*"`` matches every kind; ``"http"`` matches ``"http"`` and
    ``"http.status"`` (a prefix on a dot boundary) but not ``"https"``.
    """
    return any(pattern == WILDCARD or kind == pattern or kind.startswith(pattern + ".") for pattern in patterns)


def will_retry(policy: RetryPolicy, error: ErrorInfo, attempt: int) -> bool:
    """Whether attempt ``attempt``, failed with ``error``, is followed by another.

    It is when the error is retryable, its kind matches ``policy.retry_on``
    and ``attempt`` is below ``policy.max_attempts``.
    """
    return error.retryable and attempt < policy.max_attempts and kind_matches(policy.retry_on, error.kind)


def jitter_fraction(execution_id: str, step_id: str, attempt: int) -> float:
    """A pseudo-random number in ``[0, 1)``, the same for the same arguments."""
    key = f"{execution_id}\x1f{step_id}\x1f{attempt}".encode()
    digest = hashlib.blake2b(key, digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def retry_delay(
    policy: RetryPolicy,
    attempt: int,
    *,
    execution_id: str,
    step_id: str,
    retry_after: float | None = None,
) -> float:
    """Seconds to wait after failed attempt ``attempt`` before the next one.

    ``base = min(interval * backoff_rate ** (attempt - 1), max_delay)``, less
    ``base * jitter * jitter_fraction(execution_id, step_id, attempt)``; a
    ``retry_after`` the node asked for raises it to at least
    ``min(retry_after, max_delay)``.

    Args:
        policy: The step's retry policy.
        attempt: The attempt that failed (1 for the first).
        execution_id: Seeds the jitter.
        step_id: Seeds the jitter.
        retry_after: Seconds the failing node asked to wait, if any.
    """
    try:
        growth = policy.backoff_rate ** (attempt - 1)
    except OverflowError:  # only reachable past the language's limits
        growth = float("inf")
    base = min(policy.interval_seconds * growth, policy.max_delay_seconds) if policy.interval_seconds else 0.0
    delay = base
    if policy.jitter:
        delay = base - base * policy.jitter * jitter_fraction(execution_id, step_id, attempt)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(retry_after, policy.max_delay_seconds))
    return delay


def matching_catch(routes: Iterable[Catch], kind: str) -> Catch | None:
    """The first catch route whose ``errors`` match ``kind``, if any."""
    for route in routes:
        if kind_matches(route.errors, kind):
            return route
    return None
