"""Service accounts' API keys (permission ``user:manage``): create (shown once), list, revoke."""

from __future__ import annotations

import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from wirehub.api import audit
from wirehub.api.problems import ApiError, ProblemItem, not_found
from wirehub.api.routes.users import user_or_404
from wirehub.api.security import needs
from wirehub.api.services import HubServices
from wirehub.store import ApiKey, api_keys_of, create_api_key

BASE = "/api/v1/users/{user_id:uuid}/api-keys"


class ApiKeyCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A new key.

    Attributes:
        name: What it is for.
        expires_at: When it stops working (RFC 3339 with a zone); never when omitted.
    """

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    expires_at: datetime.datetime | None = None


class ApiKeyOut(msgspec.Struct, frozen=True):
    """A key, without its secret.

    Attributes:
        prefix: Its public id: the part after ``whk_`` in the key.
        revoked_at: When it was revoked; ``null`` while it works (unless expired).
    """

    id: UUID
    user_id: UUID
    name: str
    prefix: str
    created_at: datetime.datetime
    expires_at: datetime.datetime | None
    revoked_at: datetime.datetime | None


class NewApiKey(msgspec.Struct, frozen=True):
    """A key just created: ``key`` is shown this once, keep it safe.

    Attributes:
        key: Send it as ``X-API-Key: <key>`` or ``Authorization: Bearer <key>``.
    """

    key: str
    api_key: ApiKeyOut


def _out(row: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


@post(BASE, opt=needs("user:manage"), tags=["users"], summary="Create an API key")
async def create_key(
    user_id: FromPath[UUID],
    data: JSONBody[ApiKeyCreate],
    services: NamedDependency[HubServices],
    request: Request[Any, Any, Any],
) -> NewApiKey:
    """Creates a key for a service account; the response is the only place the key appears."""
    now = services.store.now()
    if data.expires_at is not None and (data.expires_at.tzinfo is None or data.expires_at <= now):
        problem = "expires_at must be a time in the future, with a time zone"
        raise ApiError(
            422, "invalid-expiry", problem, errors=[ProblemItem(message=problem, code="invalid", pointer="/expires_at")]
        )
    async with services.sessions.begin() as session:
        user = await user_or_404(session, user_id)
        if not user.is_service:
            raise ApiError(409, "not-a-service-account", "only service accounts have API keys")
        key, row = await create_api_key(session, user.id, data.name, now=now, expires_at=data.expires_at)
        await audit.record(
            request,
            "api_key.create",
            target=("api_key", row.id),
            details={"user_id": str(user.id), "prefix": row.prefix, "name": row.name},
            session=session,
        )
    return NewApiKey(key=key, api_key=_out(row))


@get(BASE, opt=needs("user:manage"), tags=["users"], summary="List API keys")
async def list_keys(user_id: FromPath[UUID], services: NamedDependency[HubServices]) -> list[ApiKeyOut]:
    """A user's keys, revoked ones included, never their secrets."""
    async with services.sessions() as session:
        await user_or_404(session, user_id)
        return [_out(row) for row in await api_keys_of(session, user_id)]


@delete(BASE + "/{key_id:uuid}", opt=needs("user:manage"), tags=["users"], summary="Revoke an API key")
async def revoke_key(
    user_id: FromPath[UUID],
    key_id: FromPath[UUID],
    services: NamedDependency[HubServices],
    request: Request[Any, Any, Any],
) -> None:
    """Revokes a key: refused from the next request on this replica, within a second on the others."""
    async with services.sessions.begin() as session:
        row = await session.get(ApiKey, key_id)
        if row is None or row.user_id != user_id:
            raise not_found("the API key")
        if row.revoked_at is None:
            row.revoked_at = services.store.now()
        await audit.record(
            request, "api_key.revoke", target=("api_key", row.id), details={"prefix": row.prefix}, session=session
        )
    services.principals.forget_api_key(key_id)  # at once on this replica, within a second on the others
