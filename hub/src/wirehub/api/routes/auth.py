"""Logging in, refreshing and logging out: an access token and a refresh token per login."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from wirehub.api import audit
from wirehub.api.problems import ApiError
from wirehub.api.security import PUBLIC, SIGNED_IN, principal_of, verify_password
from wirehub.api.security.logins import IssuedTokens, RefreshRefusedError, issue_tokens, log_out, refresh
from wirehub.api.services import HubServices
from wirehub.store import user_named

_REFRESH_TOKEN = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class Credentials(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A username and password."""

    username: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


class RefreshRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A refresh token to exchange for the next pair."""

    refresh_token: _REFRESH_TOKEN


class LogoutRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What to revoke besides the access token of the request.

    Attributes:
        refresh_token: The login's refresh token; its whole family is revoked.
    """

    refresh_token: _REFRESH_TOKEN | None = None


class TokenPair(msgspec.Struct, frozen=True):
    """An access token and a refresh token.

    Attributes:
        access_token: Send it as ``Authorization: Bearer <access_token>``.
        token_type: Always ``bearer``.
        expires_in: Seconds until the access token expires.
        refresh_token: Exchange it once at ``POST /api/v1/auth/refresh`` for the next pair.
        refresh_expires_in: Seconds until the refresh token expires.
    """

    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


def _pair(issued: IssuedTokens) -> TokenPair:
    return TokenPair(
        access_token=issued.access_token,
        token_type="bearer",  # noqa: S106 - the scheme's name
        expires_in=issued.expires_in,
        refresh_token=issued.refresh_token,
        refresh_expires_in=issued.refresh_expires_in,
    )


@post("/api/v1/auth/token", opt=PUBLIC, tags=["auth"], summary="Log in", status_code=200)
async def token(data: JSONBody[Credentials], services: NamedDependency[HubServices], request: Request) -> TokenPair:  # type: ignore[type-arg]
    """Exchanges a username and password for a token pair; a wrong pair is a 401 that says no more."""
    async with services.sessions() as session:
        user = await user_named(session, data.username)
    usable = user is not None and not user.disabled and not user.is_service
    matches = await verify_password(data.password, user.password_hash if user is not None else None)
    if not (usable and matches) or user is None:
        target = ("user", user.id) if user is not None else None
        actor = (user.id if user is not None else None, data.username)
        await audit.record(request, "auth.login", outcome="failure", actor=actor, target=target)
        raise ApiError(401, "invalid-credentials", "the username or the password is wrong")
    async with services.sessions.begin() as session:
        issued = await issue_tokens(services, request.app, session, user.id)
        await audit.record(
            request, "auth.login", actor=(user.id, user.username), target=("user", user.id), session=session
        )
    return _pair(issued)


@post("/api/v1/auth/refresh", opt=PUBLIC, tags=["auth"], summary="Refresh a login", status_code=200)
async def refresh_token(
    data: JSONBody[RefreshRequest],
    services: NamedDependency[HubServices],
    request: Request,  # type: ignore[type-arg]
) -> TokenPair:
    """Uses a refresh token once for a new pair; reusing one revokes every token of its login."""
    try:
        issued, user = await refresh(services, request.app, data.refresh_token)
    except RefreshRefusedError as exc:
        actor = (exc.user.id, exc.user.username) if exc.user is not None else None
        await audit.record(request, "auth.refresh", outcome="failure", actor=actor, details={"reason": exc.reason})
        raise ApiError(401, "invalid-refresh-token", "the refresh token is not valid; log in again") from exc
    await audit.record(request, "auth.refresh", actor=(user.id, user.username), target=("user", user.id))
    return _pair(issued)


@post("/api/v1/auth/logout", opt=SIGNED_IN, tags=["auth"], summary="Log out", status_code=204)
async def logout(
    services: NamedDependency[HubServices],
    request: Request[Any, Any, Any],
    data: JSONBody[LogoutRequest | None] = None,
) -> None:
    """Revokes the request's access token at once, on every replica, and the login's refresh tokens."""
    principal = principal_of(request)
    expires_at = getattr(request.auth, "exp", None)
    given = data.refresh_token if data is not None else None
    found = await log_out(services, request.app, principal, expires_at, given)
    await audit.record(request, "auth.logout", target=("user", principal.user_id), details={"login_ended": found})
