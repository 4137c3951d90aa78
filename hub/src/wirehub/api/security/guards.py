"""Deny by default: every route declares the permission it needs, or is on the public list.

A route handler declares ``opt=needs("workflow:read")``; in a route under
``/workspaces/{workspace_id}`` the permission must be held in that workspace
(or, with ``globally=True``, globally), elsewhere globally (or, with
``anywhere=True``, in some workspace). ``SIGNED_IN`` routes take any
authenticated caller (logging out). A workspace
the caller is not a member of answers 404, never 403, so its existence does not
leak. A handler that declares nothing is refused, whoever calls it.

The ``OPTIONS`` answer Litestar adds to every path (204, ``Allow:`` the path's
methods) is public: it tells no more than the OpenAPI document. A CORS
preflight never reaches it: Litestar's CORS middleware answers those first.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from wirehub.api.problems import ApiError
from wirehub.api.security.principal import Principal
from wirehub.store.access import PERMISSIONS

PERMISSION_KEY = "permission"
ANYWHERE_KEY = "permission_anywhere"
GLOBALLY_KEY = "permission_globally"
PUBLIC_KEY = "public"
SIGNED_IN_KEY = "signed_in"

PUBLIC: dict[str, Any] = {PUBLIC_KEY: True, "exclude_from_auth": True}
"""The ``opt`` of a route anyone may call, authenticated or not (health, login, the docs)."""

SIGNED_IN: dict[str, Any] = {SIGNED_IN_KEY: True}
"""The ``opt`` of a route any authenticated caller may call, whatever its permissions."""

SCHEMA_PATH = "/schema"
"""Litestar's OpenAPI routes (the schema and its docs page) are public."""
_AUTOMATIC_OPTIONS = "HTTPRoute.create_options_handler.<locals>.options_handler"
"""The qualified name of the function Litestar makes for the ``OPTIONS`` of a path that declares none."""


class WorkspaceHiddenError(ApiError):
    """The 404 of a workspace the caller is not a member of (audited as a denial)."""

    def __init__(self) -> None:
        super().__init__(404, "not-found", "the workspace was not found")


def needs(permission: str, *, anywhere: bool = False, globally: bool = False) -> dict[str, Any]:
    """The ``opt`` of a route that needs ``permission``.

    Args:
        permission: A name from ``wirehub.store.access.PERMISSIONS``.
        anywhere: Outside a workspace route, holding it in any workspace is enough
            (the node catalogue, the list of one's workspaces).
        globally: In a workspace route, only a global grant will do (changing
            a workspace's settings, which a workspace's own admins may not).
    """
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    return {PERMISSION_KEY: permission, ANYWHERE_KEY: anywhere, GLOBALLY_KEY: globally}


def declared_permission(handler: BaseRouteHandler) -> str | None:
    """The permission a route handler declares, if any."""
    value = handler.opt.get(PERMISSION_KEY)
    return value if isinstance(value, str) else None


def access_rule(handler: BaseRouteHandler) -> str | None:
    """What a handler declares, as docs/api.md's permission tables write it.

    ``public``, ``authenticated``, a permission (``workflow:read``), or one marked
    `` (any workspace)`` or `` (global)``; ``None`` when it declares nothing (refused to everyone).
    """
    opt = handler.opt
    if opt.get(PUBLIC_KEY) or is_automatic_options(handler):
        return "public"
    if opt.get(SIGNED_IN_KEY):
        return "authenticated"
    permission = declared_permission(handler)
    if permission is None:
        return None
    if opt.get(ANYWHERE_KEY):
        return permission + " (any workspace)"
    if opt.get(GLOBALLY_KEY):
        return permission + " (global)"
    return permission


def is_automatic_options(handler: BaseRouteHandler) -> bool:
    """Whether ``handler`` is the ``OPTIONS`` answer Litestar adds to a path (not one a route declares)."""
    return getattr(handler.fn, "__qualname__", None) == _AUTOMATIC_OPTIONS


def is_public(handler: BaseRouteHandler, path: str) -> bool:
    """Whether anyone may call the route: public routes, the docs, and every path's automatic ``OPTIONS``."""
    return (
        bool(handler.opt.get(PUBLIC_KEY))
        or is_automatic_options(handler)
        or path == SCHEMA_PATH
        or path.startswith(SCHEMA_PATH + "/")
    )


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The authenticated caller (the authentication middleware put it there)."""
    user = connection.scope.get("user")
    if not isinstance(user, Principal):
        raise ApiError(401, "not-authenticated", "authentication is required")
    return user


async def authorize(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The app-wide guard: public, or the declared permission held where the route acts."""
    if is_public(handler, connection.scope["path"]):
        return
    if handler.opt.get(SIGNED_IN_KEY):
        principal_of(connection)
        return
    permission = declared_permission(handler)
    if permission is None:
        raise ApiError(403, "forbidden", "this route declares no permission, so nobody may call it")
    principal = principal_of(connection)
    workspace_id = connection.path_params.get("workspace_id")
    if isinstance(workspace_id, UUID):
        if not principal.sees(workspace_id):
            raise WorkspaceHiddenError
        if handler.opt.get(GLOBALLY_KEY) and not principal.can(permission):
            raise ApiError(403, "forbidden", f"this needs the {permission} permission globally")
        if not principal.can(permission, workspace_id):
            raise ApiError(403, "forbidden", f"this needs the {permission} permission in the workspace")
        return
    if principal.can(permission):
        return
    if handler.opt.get(ANYWHERE_KEY) and any(permission in granted for granted in principal.workspaces.values()):
        return
    raise ApiError(403, "forbidden", f"this needs the {permission} permission")
