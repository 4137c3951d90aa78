"""Which problem ``code`` each operation can answer with each error status.

The OpenAPI document (``wirehub.api.openapi``) lists them as an ``enum`` on the problem
body's ``code``, so a client (and schemathesis) knows the codes to match on, and the API
reference (docs/api-reference.md) prints them. A code is either answered on any operation
with that status (``EVERYWHERE``: the app-wide handlers of ``wirehub.api.problems``, the
guards and the bounds), or by the operations of ``BY_ROUTE``, which name the codes their
handlers (and the store errors they let through) raise. ``tests/api/test_api_reference.py``
checks that every code a route module raises is listed for one of its operations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

EVERYWHERE: Mapping[int, tuple[str, ...]] = {
    400: ("bad-request", "invalid-body", "invalid-host", "invalid-request"),
    401: ("not-authenticated",),
    403: ("forbidden",),
    404: ("not-found",),
    409: ("conflict",),
    413: ("request-too-large",),
    422: ("unprocessable",),
    429: ("rate-limited",),
    431: ("headers-too-large",),
    500: ("internal-error",),
    503: ("unavailable",),
}
"""The codes any operation that answers the status may give."""

PAGED: Mapping[int, tuple[str, ...]] = {400: ("invalid-cursor",)}
"""The codes of an operation that takes a ``cursor``."""

_WORKSPACES = "/api/v1/workspaces/{workspace_id}"
_WORKFLOW = _WORKSPACES + "/workflows/{workflow_id}"
_EXECUTION = _WORKSPACES + "/executions/{execution_id}"
_CREDENTIAL_CHANGE: Mapping[int, tuple[str, ...]] = {
    409: ("credential-exists",),
    422: ("invalid-credential",),
}

BY_ROUTE: Mapping[tuple[str, str], Mapping[int, tuple[str, ...]]] = {
    ("POST", "/api/v1/auth/token"): {401: ("invalid-credentials",)},
    ("POST", "/api/v1/auth/refresh"): {401: ("invalid-refresh-token",)},
    ("POST", "/api/v1/users"): {409: ("user-exists",), 422: ("invalid-password", "invalid-user")},
    ("PATCH", "/api/v1/users/{user_id}"): {409: ("self-disable",), 422: ("invalid-password", "invalid-user")},
    ("DELETE", "/api/v1/users/{user_id}"): {409: ("self-delete",)},
    ("POST", "/api/v1/users/{user_id}/api-keys"): {409: ("not-a-service-account",), 422: ("invalid-expiry",)},
    ("POST", "/api/v1/roles"): {409: ("role-exists",), 422: ("unknown-permission",)},
    ("PATCH", "/api/v1/roles/{role_id}"): {409: ("builtin-role", "role-exists"), 422: ("unknown-permission",)},
    ("DELETE", "/api/v1/roles/{role_id}"): {409: ("builtin-role", "role-in-use")},
    ("POST", "/api/v1/memberships"): {422: ("unknown-role",)},
    ("POST", "/api/v1/workspaces"): {409: ("workspace-exists",)},
    ("PATCH", _WORKSPACES): {409: ("workspace-exists",)},
    ("POST", _WORKSPACES + "/credentials"): _CREDENTIAL_CHANGE,
    ("PATCH", _WORKSPACES + "/credentials/{credential_id}"): {
        **_CREDENTIAL_CHANGE,
        503: ("credential-key-missing",),
    },
    ("POST", _WORKSPACES + "/workflows"): {422: ("invalid-definition",)},
    ("POST", _WORKSPACES + "/workflows/validate"): {422: ("invalid-definition",)},
    ("PUT", _WORKFLOW): {409: ("workflow-archived",), 422: ("invalid-definition",)},
    ("PATCH", _WORKFLOW): {409: ("workflow-archived",), 422: ("invalid-definition",)},
    ("POST", _WORKFLOW + "/executions"): {
        409: ("idempotency-conflict", "node-type-not-allowed", "workflow-archived"),
        422: ("invalid-input",),
    },
    ("POST", _EXECUTION + "/cancel"): {409: ("concurrent-change", "execution-over")},
    ("POST", _EXECUTION + "/retry"): {
        409: ("concurrent-change", "node-type-not-allowed", "not-retryable", "workflow-archived"),
    },
}
"""The codes particular to an operation, by ``(METHOD, path template)``."""


def problem_codes(method: str, path: str, status: int, parameters: Iterable[str] = ()) -> tuple[str, ...]:
    """The codes the operation may answer with ``status``, sorted.

    Args:
        method: ``GET``, ``POST``...
        path: The path template (``/api/v1/users/{user_id}``).
        status: The error status.
        parameters: The names of the operation's parameters (``cursor`` adds ``invalid-cursor``).
    """
    found = set(EVERYWHERE.get(status, ()))
    found.update(BY_ROUTE.get((method.upper(), path), {}).get(status, ()))
    if "cursor" in parameters:
        found.update(PAGED.get(status, ()))
    return tuple(sorted(found))


__all__ = ["BY_ROUTE", "EVERYWHERE", "PAGED", "problem_codes"]
