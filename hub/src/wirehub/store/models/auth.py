"""What authenticates a caller besides a password: refresh tokens and service accounts' API keys.

Neither table holds a usable secret: each row keeps the SHA-256 of a random
token the client was shown once.
"""

from __future__ import annotations

import datetime
from uuid import UUID

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from wirehub.store.models.base import Record


class RefreshToken(Record):
    """One refresh token of a login's family; using it revokes it and issues the next.

    Attributes:
        user_id: Whose token it is.
        family_id: Every token rotated from one login shares it; reusing a revoked
            token revokes the whole family.
        token_hash: SHA-256 (hex) of the token.
        expires_at: After this it is refused.
        revoked: Used, logged out, or revoked with its family.
        revoked_at: When it was revoked.
        access_jti: The ``jti`` of the access token issued with it (revoked with the family).
        access_expires_at: When that access token expires.
    """

    __tablename__ = "refresh_tokens"
    __table_args__ = (Index(None, "family_id"),)

    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[UUID] = mapped_column(GUID(length=16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    access_jti: Mapped[str] = mapped_column(String(64))
    access_expires_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True))


class ApiKey(Record):
    """A service account's API key, ``whk_<prefix>_<secret>``.

    Attributes:
        user_id: The service account.
        name: What the key is for.
        prefix: The key's public id (its second part), unique; shown in lists.
        key_hash: SHA-256 (hex) of the whole key.
        expires_at: After this it is refused; ``None``: never expires.
        revoked_at: When it was revoked; ``None`` while usable.
    """

    __tablename__ = "api_keys"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    revoked_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
