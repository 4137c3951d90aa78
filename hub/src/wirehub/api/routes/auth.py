"""Logging in: a username and password for a short-lived access token."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from wirehub.api.problems import ApiError
from wirehub.api.security import PUBLIC, issue_access_token, verify_password
from wirehub.api.services import HubServices
from wirehub.store import user_named


class Credentials(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A username and password."""

    username: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


class TokenPair(msgspec.Struct, frozen=True):
    """An access token and how long it lasts.

    Attributes:
        access_token: Send it as ``Authorization: Bearer <access_token>``.
        token_type: Always ``bearer``.
        expires_in: Seconds until it expires.
    """

    access_token: str
    token_type: str
    expires_in: int


@post("/api/v1/auth/token", opt=PUBLIC, tags=["auth"], summary="Log in", status_code=200)
async def token(data: JSONBody[Credentials], services: NamedDependency[HubServices], request: Request) -> TokenPair:  # type: ignore[type-arg]
    """Exchanges a username and password for an access token; a wrong pair is a 401 that says no more."""
    async with services.sessions() as session:
        user = await user_named(session, data.username)
    usable = user is not None and not user.disabled and not user.is_service
    matches = await verify_password(data.password, user.password_hash if user is not None else None)
    if not (usable and matches) or user is None:
        raise ApiError(401, "invalid-credentials", "the username or the password is wrong")
    settings = services.settings
    access = issue_access_token(
        request.app.state.jwt_auth, user.id, issuer=settings.token_issuer, audience=settings.token_audience
    )
    return TokenPair(
        access_token=access,
        token_type="bearer",  # noqa: S106 - the scheme's name
        expires_in=settings.access_token_seconds,
    )
