"""A login's tokens: an access token and a refresh token, rotated on each use, revoked on logout.

Each login starts a family of refresh tokens. Refreshing uses the token once
(it is revoked) and issues the next pair in the same family; presenting a
token that was used already revokes the whole family and the access tokens
issued with it, so whoever stole one of them is cut off too.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from uuid import UUID

from litestar import Litestar
from litestar.security.jwt import JWTAuth
from sqlalchemy.ext.asyncio import AsyncSession

from wirehub.api.security.principal import Principal
from wirehub.api.security.revocation import revoke_access_tokens
from wirehub.api.security.tokens import SignedToken, issue_access_token
from wirehub.api.services import HubServices
from wirehub.store import (
    LiveAccessToken,
    RefreshOutcome,
    User,
    add_refresh_token,
    find_refresh_token,
    revoke_family,
    revoke_user_tokens,
    use_refresh_token,
)


@dataclass(frozen=True)
class IssuedTokens:
    """A new pair.

    Attributes:
        access_token: The JWT for ``Authorization: Bearer``.
        refresh_token: Exchanged once for the next pair.
        expires_in: Seconds the access token lasts.
        refresh_expires_in: Seconds the refresh token lasts.
    """

    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int


class RefreshRefusedError(Exception):
    """A refresh token was refused.

    Attributes:
        reason: ``invalid`` (unknown or expired), ``reused`` (its family is revoked now) or ``disabled``.
        user: Whose token it was, when known.
    """

    def __init__(self, reason: str, user: User | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.user = user


def _auth(app: Litestar) -> JWTAuth[Principal, SignedToken]:
    auth: JWTAuth[Principal, SignedToken] = app.state.jwt_auth
    return auth


async def issue_tokens(
    services: HubServices, app: Litestar, session: AsyncSession, user_id: UUID, *, family_id: UUID | None = None
) -> IssuedTokens:
    """A new pair for ``user_id``, in ``family_id`` (a new family: a new login), written in ``session``."""
    settings = services.settings
    access = issue_access_token(_auth(app), user_id, issuer=settings.token_issuer, audience=settings.token_audience)
    refresh, _ = await add_refresh_token(
        session,
        user_id=user_id,
        family_id=family_id or uuid.uuid4(),
        now=services.store.now(),
        lifetime=datetime.timedelta(seconds=settings.refresh_token_seconds),
        access_jti=access.jti,
        access_expires_at=access.expires_at,
    )
    return IssuedTokens(
        access_token=access.token,
        refresh_token=refresh,
        expires_in=settings.access_token_seconds,
        refresh_expires_in=settings.refresh_token_seconds,
    )


async def refresh(services: HubServices, app: Litestar, raw: str) -> tuple[IssuedTokens, User]:
    """Uses a refresh token once for the next pair.

    Raises:
        RefreshRefusedError: The token is unknown or expired, was used before
            (its family and their access tokens are revoked now), or its user is disabled.
    """
    now = services.store.now()
    issued: IssuedTokens | None = None
    async with services.sessions.begin() as session:
        used = await use_refresh_token(session, raw, now)
        user = await session.get(User, used.token.user_id) if used.token is not None else None
        usable = user is not None and not user.disabled
        if used.outcome is RefreshOutcome.ROTATED and usable and used.token is not None:
            issued = await issue_tokens(services, app, session, used.token.user_id, family_id=used.token.family_id)
    if used.outcome is RefreshOutcome.REUSED:
        await revoke_access_tokens(app, used.revoked_access, now)
        raise RefreshRefusedError("reused", user)
    if issued is None or user is None:
        raise RefreshRefusedError("invalid" if used.outcome is RefreshOutcome.INVALID else "disabled", user)
    return issued, user


async def log_out(
    services: HubServices,
    app: Litestar,
    principal: Principal,
    access_expires_at: datetime.datetime | None,
    refresh_token: str | None,
) -> bool:
    """Revokes the caller's access token and, when it is theirs, the refresh token's family.

    Returns:
        Whether the refresh token was the caller's and is revoked now.
    """
    now = services.store.now()
    revoked: list[LiveAccessToken] = []
    if principal.token_id is not None and access_expires_at is not None:
        revoked.append(LiveAccessToken(principal.token_id, access_expires_at))
    found = False
    if refresh_token is not None:
        async with services.sessions.begin() as session:
            row = await find_refresh_token(session, refresh_token)
            if row is not None and row.user_id == principal.user_id:
                revoked.extend(await revoke_family(session, row.family_id, now))
                found = True
    await revoke_access_tokens(app, revoked, now)
    return found


async def end_sessions_of(services: HubServices, session: AsyncSession, user_id: UUID) -> tuple[LiveAccessToken, ...]:
    """Revokes a user's refresh tokens in ``session``; returns the access tokens to revoke once it commits."""
    return await revoke_user_tokens(session, user_id, services.store.now())
