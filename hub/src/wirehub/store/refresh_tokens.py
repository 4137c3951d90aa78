"""Refresh tokens as transactions: issue, use once (rotation), revoke a family or a user's every token.

A refresh token is ``whr_`` and 43 random characters; only its SHA-256 is stored.
Using one revokes it with a conditional UPDATE, so two concurrent uses of the same
token cannot both succeed: the loser is treated as a reuse.
"""

from __future__ import annotations

import datetime
import enum
import hashlib
import secrets
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from wirehub.store.models import RefreshToken

REFRESH_TOKEN_PREFIX = "whr_"  # noqa: S105 - a marker, not a secret


def token_digest(token: str) -> str:
    """The SHA-256 (hex) a token is stored as."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class LiveAccessToken:
    """An access token issued with a refresh token that is not expired yet."""

    jti: str
    expires_at: datetime.datetime


class RefreshOutcome(enum.Enum):
    """What using a refresh token came to."""

    ROTATED = "rotated"
    """It was valid; it is revoked now and the caller issues the next one."""
    REUSED = "reused"
    """It had been used or revoked already: its family is revoked."""
    INVALID = "invalid"
    """Unknown or expired."""


@dataclass(frozen=True)
class RefreshUse:
    """The result of :func:`use_refresh_token`.

    Attributes:
        outcome: What happened.
        token: The row, unless the token is unknown.
        revoked_access: For a reuse, the family's access tokens still live (to revoke by ``jti``).
    """

    outcome: RefreshOutcome
    token: RefreshToken | None = None
    revoked_access: tuple[LiveAccessToken, ...] = ()


async def add_refresh_token(
    session: AsyncSession,
    *,
    user_id: UUID,
    family_id: UUID,
    now: datetime.datetime,
    lifetime: datetime.timedelta,
    access_jti: str,
    access_expires_at: datetime.datetime,
) -> tuple[str, RefreshToken]:
    """A new refresh token of ``family_id`` (the raw token, shown once, and its row)."""
    raw = REFRESH_TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = RefreshToken(
        user_id=user_id,
        family_id=family_id,
        token_hash=token_digest(raw),
        expires_at=now + lifetime,
        access_jti=access_jti,
        access_expires_at=access_expires_at,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return raw, row


async def use_refresh_token(session: AsyncSession, raw: str, now: datetime.datetime) -> RefreshUse:
    """Uses ``raw`` once: revokes it if valid, revokes its whole family if it was used before."""
    row = await session.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_digest(raw)))
    if row is None:
        return RefreshUse(RefreshOutcome.INVALID)
    if not row.revoked and row.expires_at <= now:
        return RefreshUse(RefreshOutcome.INVALID, row)
    claimed: CursorResult[tuple[()]] = await session.execute(  # type: ignore[assignment]
        update(RefreshToken)
        .where(RefreshToken.id == row.id, RefreshToken.revoked.is_(False))
        .values(revoked=True, revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount == 1:
        return RefreshUse(RefreshOutcome.ROTATED, row)
    live = await revoke_family(session, row.family_id, now)
    return RefreshUse(RefreshOutcome.REUSED, row, live)


async def revoke_family(session: AsyncSession, family_id: UUID, now: datetime.datetime) -> tuple[LiveAccessToken, ...]:
    """Revokes every token of a family; returns the access tokens issued with them that are still live."""
    return await _revoke(session, RefreshToken.family_id == family_id, now)


async def revoke_user_tokens(
    session: AsyncSession, user_id: UUID, now: datetime.datetime
) -> tuple[LiveAccessToken, ...]:
    """Revokes every refresh token of a user; returns the access tokens issued with them that are still live."""
    return await _revoke(session, RefreshToken.user_id == user_id, now)


async def _revoke(session: AsyncSession, condition: object, now: datetime.datetime) -> tuple[LiveAccessToken, ...]:
    rows = (await session.scalars(select(RefreshToken).where(condition))).all()  # type: ignore[arg-type]
    await session.execute(
        update(RefreshToken)
        .where(condition, RefreshToken.revoked.is_(False))  # type: ignore[arg-type]
        .values(revoked=True, revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return tuple(LiveAccessToken(row.access_jti, row.access_expires_at) for row in rows if row.access_expires_at > now)


async def find_refresh_token(session: AsyncSession, raw: str) -> RefreshToken | None:
    """The row of a refresh token, used or not, if it exists."""
    found: RefreshToken | None = await session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == token_digest(raw))
    )
    return found
