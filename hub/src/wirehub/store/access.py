"""Who may do what: the permission catalogue, the built-in roles and the default workspace.

Roles are data (the ``roles`` table); what is fixed in code is the set of
permissions a role can grant and the built-in roles seeded at startup
(:func:`wirehub.store.identity.seed_access`). Admins may define more roles.
"""

from __future__ import annotations

from typing import Final
from uuid import UUID

DEFAULT_WORKSPACE_ID: Final = UUID("00000000-0000-7000-8000-000000000001")
"""The workspace every install starts with; ``wirehub run`` and pre-workspace rows live in it."""

DEFAULT_WORKSPACE_NAME: Final = "default"

PERMISSIONS: Final[dict[str, str]] = {
    "workspace:read": "See the workspace and its settings.",
    "workspace:manage": "Change the workspace's settings and members; create and archive workspaces.",
    "workflow:read": "List and read workflows, their versions, and validate definitions.",
    "workflow:write": "Create, update and archive workflows.",
    "execution:read": "List and read executions, their steps and history; follow their events.",
    "execution:start": "Start executions and retry failed ones.",
    "execution:cancel": "Cancel executions.",
    "execution:debug": "See the tracebacks and details of executions' internal errors.",
    "credential:use": "Save workflows that use the workspace's credentials; list them (never their secrets).",
    "credential:manage": "Create, update and delete credentials.",
    "node:read": "Read the catalogue of installed node types.",
    "audit:read": "Read the audit log.",
    "user:manage": "Manage users, service accounts, roles and memberships.",
    "metrics:read": "Scrape the Prometheus metrics at /metrics.",
}
"""Every permission a role may grant, with what it allows."""

_READ = ("workspace:read", "workflow:read", "execution:read", "node:read")

BUILTIN_ROLES: Final[dict[str, tuple[str, ...]]] = {
    "admin": tuple(PERMISSIONS),
    "editor": (*_READ, "workflow:write", "execution:start", "execution:cancel", "credential:use", "credential:manage"),
    "operator": (*_READ, "execution:start", "execution:cancel", "credential:use"),
    "viewer": _READ,
    "auditor": (*_READ, "audit:read"),
}
"""The roles every install has; their permissions are reset to these at startup."""


def unknown_permissions(permissions: tuple[str, ...] | list[str]) -> list[str]:
    """The names in ``permissions`` that are not in the catalogue."""
    return [name for name in permissions if name not in PERMISSIONS]
