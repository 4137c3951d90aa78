"""The audit log, written by handlers with one call.

Every mutation and every authentication event is recorded::

    from wirehub.api import audit

    await audit.record(request, "workflow.create", target=("workflow", row.id))
    await audit.record(request, "credential.delete", target=("credential", cid), session=session)

The actor (the authenticated principal), the client's address, the correlation
id, the time (the store's clock) and the workspace (the route's
``workspace_id``) are filled in. Pass ``session=`` inside a transaction to write
the entry atomically with the change; without it the entry is committed on its
own. :func:`entry` makes an entry without writing it, for a store method that
writes it in its own transaction (``ExecutionStore.start``'s ``record``).
``details`` must not carry secrets: keys that look like one (password, token,
secret...) are masked anyway. Denied requests (401, 403, and the 404 of
a workspace the caller may not see) are recorded by :func:`record_denial`, the
app's ``after_exception`` hook.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Literal
from uuid import UUID

import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException
from litestar.types import Scope
from sqlalchemy.ext.asyncio import AsyncSession

from wirehub.api.correlation import correlation_id
from wirehub.api.problems import ApiError
from wirehub.api.security import Principal, WorkspaceHiddenError, is_public
from wirehub.api.state import services_of
from wirehub.store import AuditEntry

logger = logging.getLogger("wirehub.api.audit")

Outcome = Literal["success", "failure", "denied"]
Target = tuple[str, UUID | str]
"""What was acted on: its type and id, e.g. ``("user", user.id)``."""
Actor = tuple[UUID | None, str | None]
"""Who acted, when the request is not authenticated (a login): an id and a name."""

MAX_DETAILS_BYTES = 8192
_SECRET_KEY = re.compile(
    r"(^|_)(password|passphrase|secret|token|authorization|cookie|key|credentials?)$", re.IGNORECASE
)
MASK = "***"


def scrub(value: Any, *, depth: int = 0) -> Any:
    """``value`` with every entry whose key looks like a secret masked, nested at most 10 deep."""
    if depth > 10:
        return MASK
    if isinstance(value, dict):
        return {
            str(key): MASK if _SECRET_KEY.search(str(key)) else scrub(item, depth=depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(item, depth=depth + 1) for item in value]
    return value


def _details(details: dict[str, Any] | None) -> Any:
    if not details:
        return None
    cleaned = scrub(details)
    try:
        encoded = msgspec.json.encode(cleaned)
    except (TypeError, msgspec.EncodeError):
        return {"unrecorded": "the details were not JSON"}
    if len(encoded) > MAX_DETAILS_BYTES:
        return {"truncated": True}
    return msgspec.json.decode(encoded)


def entry(
    connection: ASGIConnection[Any, Any, Any, Any],
    action: str,
    *,
    target: Target | None = None,
    outcome: Outcome = "success",
    workspace_id: UUID | None = None,
    details: dict[str, Any] | None = None,
    actor: Actor | None = None,
) -> AuditEntry:
    """One entry of the audit log, not yet written (for a store that writes it in its own transaction).

    Takes the arguments of :func:`record` but ``session``.
    """
    services = services_of(connection)
    principal = connection.scope.get("user")
    if actor is None and isinstance(principal, Principal):
        actor = (principal.user_id, principal.username)
    actor_id, actor_name = actor or (None, None)
    if workspace_id is None:
        path_workspace = connection.scope.get("path_params", {}).get("workspace_id")
        workspace_id = path_workspace if isinstance(path_workspace, UUID) else None
    client = connection.scope.get("client")
    return AuditEntry(
        at=services.store.now(),
        actor_id=actor_id,
        actor_name=actor_name[:100] if actor_name else None,
        action=action[:64],
        target_type=target[0][:64] if target else None,
        target_id=str(target[1])[:200] if target else None,
        workspace_id=workspace_id,
        client=str(client[0])[:100] if client else None,
        outcome=outcome,
        correlation_id=correlation_id(connection.scope)[:64],
        details=_details(details),
    )


async def record(
    connection: ASGIConnection[Any, Any, Any, Any],
    action: str,
    *,
    target: Target | None = None,
    outcome: Outcome = "success",
    workspace_id: UUID | None = None,
    details: dict[str, Any] | None = None,
    actor: Actor | None = None,
    session: AsyncSession | None = None,
) -> None:
    """Appends one entry to the audit log.

    Args:
        connection: The request (or WebSocket) it is about.
        action: ``<resource>.<verb>``: ``user.create``, ``auth.login``... (64 characters at most).
        target: The type and id of what was acted on.
        outcome: ``success``, ``failure`` or ``denied``.
        workspace_id: The workspace; the route's ``workspace_id`` by default.
        details: More facts as JSON; never a secret (secret-looking keys are masked).
        actor: Who acted, when nobody is authenticated (a login attempt names its user).
        session: Write in this transaction (committed with the change); else in one of its own.
    """
    made = entry(
        connection, action, target=target, outcome=outcome, workspace_id=workspace_id, details=details, actor=actor
    )
    if session is not None:
        session.add(made)
        return
    async with services_of(connection).sessions.begin() as own:
        own.add(made)


def _denied_status(exc: Exception) -> int | None:
    if isinstance(exc, WorkspaceHiddenError):
        return 404
    status = exc.status if isinstance(exc, ApiError) else exc.status_code if isinstance(exc, HTTPException) else None
    return status if status in (401, 403) else None


async def record_denial(exc: Exception, scope: Scope) -> None:
    """The app's ``after_exception`` hook: records a denied request (a public route records its own)."""
    status = _denied_status(exc)
    handler = scope.get("route_handler")
    if status is None or handler is None or is_public(handler, scope["path"]):
        return
    details = {"status": status, "method": scope.get("method"), "path": scope["path"][:500]}
    if isinstance(exc, ApiError):
        details["code"] = exc.code
    try:
        await record(ASGIConnection(scope), "access.denied", outcome="denied", details=details)
    except Exception:  # the refusal stands; the log says the entry is missing
        logger.exception("could not record a denied request in the audit log")
