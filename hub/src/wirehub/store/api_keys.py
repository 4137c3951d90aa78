"""Service accounts' API keys: ``whk_<prefix>_<secret>``, stored as the SHA-256 of the whole key.

The prefix (12 hex digits) is the key's public id: it finds the row, and the
hash comparison (constant time) decides. A key is shown once, when created.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import secrets
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wirehub.store.models import ApiKey

API_KEY_PREFIX = "whk_"
_SHAPE = re.compile(r"whk_(?P<prefix>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{43})")


def api_key_digest(key: str) -> str:
    """The SHA-256 of a key, as stored (hex)."""
    return hashlib.sha256(key.encode()).hexdigest()


async def create_api_key(
    session: AsyncSession,
    user_id: UUID,
    name: str,
    *,
    now: datetime.datetime,
    expires_at: datetime.datetime | None = None,
) -> tuple[str, ApiKey]:
    """A new key for ``user_id``: the key itself (to show once) and its row."""
    prefix = secrets.token_hex(6)
    key = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        user_id=user_id, name=name, prefix=prefix, key_hash=api_key_digest(key), expires_at=expires_at, created_at=now
    )
    session.add(row)
    await session.flush()
    return key, row


async def usable_api_key(session: AsyncSession, key: str, now: datetime.datetime) -> ApiKey | None:
    """The row of ``key`` when it is well formed, matches, is not revoked and not expired; else ``None``."""
    shape = _SHAPE.fullmatch(key)
    if shape is None:
        return None
    row = await session.scalar(select(ApiKey).where(ApiKey.prefix == shape.group("prefix")))
    if row is None or not hmac.compare_digest(row.key_hash, api_key_digest(key)):
        return None
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    return row


async def api_keys_of(session: AsyncSession, user_id: UUID) -> list[ApiKey]:
    """A user's keys, revoked ones included, oldest first."""
    query = select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.created_at, ApiKey.id)
    return list((await session.scalars(query)).all())
