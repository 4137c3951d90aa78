"""How an execution's errors are shown: in full with their tracebacks to admins, internal ones trimmed to others.

An error record (``wirehub.engine.ErrorInfo`` as JSON) names its kind, message,
step, node type and attempt, whether it was retryable, and the node's details.
An internal error (an unexpected exception in a node or the runtime, kind
``node.unexpected``) also has a traceback, kept in its attempt's row: a caller
holding ``execution:debug`` in the workspace (admins) sees it; any other sees
the internal error's kind, message and where it happened, never its details
or traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from wirehub.api.security import Principal
from wirehub.engine import INTERNAL_ERROR_KINDS

DEBUG_PERMISSION = "execution:debug"
_LOCATION = ("step_id", "node_type", "attempt")

Tracebacks = Mapping[tuple[str, int], str]
"""Internal errors' tracebacks by ``(step_id, attempt)`` (``wirehub.store.attempt_tracebacks``)."""


def may_debug(principal: Principal, workspace_id: UUID) -> bool:
    """Whether the caller sees internal errors in full, tracebacks included."""
    return principal.can(DEBUG_PERMISSION, workspace_id)


def is_internal(error: Any) -> bool:
    """Whether a stored error record is an internal error (one that may have a traceback)."""
    return isinstance(error, dict) and error.get("kind") in INTERNAL_ERROR_KINDS


def shown_error(error: Any, *, debug: bool, traceback: str | None = None) -> Any:
    """An error record as the caller may see it.

    Args:
        error: The stored error record (a JSON object), or ``None``.
        debug: The caller holds ``execution:debug``.
        traceback: The error's traceback, when it has one; added for a ``debug`` caller only.
    """
    if not isinstance(error, dict):
        return error
    if debug:
        shown = {key: value for key, value in error.items() if key != "traceback"}
        if traceback is not None:
            shown["traceback"] = traceback
        return shown
    if error.get("kind") in INTERNAL_ERROR_KINDS:
        kept = {"kind": error.get("kind"), "message": error.get("message")}
        kept.update((key, error[key]) for key in _LOCATION if error.get(key) is not None)
        return kept
    return {key: value for key, value in error.items() if key != "traceback"}


def traceback_of(
    error: Any, tracebacks: Tracebacks, step_id: str | None = None, attempt: int | None = None
) -> str | None:
    """The traceback of an error: of the attempt given, or of the attempt the (execution's) error names."""
    if not isinstance(error, dict) or not tracebacks:
        return None
    step_id = step_id if step_id is not None else error.get("step_id")
    attempt = attempt if attempt is not None else error.get("attempt")
    if not isinstance(step_id, str) or not isinstance(attempt, int):
        return None
    return tracebacks.get((step_id, attempt))
