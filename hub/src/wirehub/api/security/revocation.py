"""Revoked access tokens by ``jti``, in a Litestar store every API replica shares.

Distributed, the store is Redis (``RedisStore``); embedded, the process's
memory. Each entry lives as long as the token it revokes could: after that the
token's ``exp`` refuses it anyway.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable
from typing import Any

from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.security.jwt import Token
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore

from wirehub.settings import Settings
from wirehub.store import LiveAccessToken

REVOKED_TOKENS_STORE = "wirehub_revoked_tokens"
"""The name of the store in the app's ``stores``."""


def revocation_store(settings: Settings) -> Store:
    """Redis when ``WIREHUB_REDIS_URL`` is set (shared by the replicas), memory otherwise."""
    if settings.redis_url is None:
        return MemoryStore()
    return RedisStore.with_client(url=settings.redis_url, namespace="wirehub_revoked_tokens")


def _store(app: Litestar) -> Store:
    return app.stores.get(REVOKED_TOKENS_STORE)


async def revoke_access_tokens(app: Litestar, tokens: Iterable[LiveAccessToken], now: datetime.datetime) -> None:
    """Refuses each token from now on, on every replica, until it expires (this one forgets it at once)."""
    store = _store(app)
    services = app.state.get("services")
    for token in tokens:
        if services is not None:
            services.principals.forget(token.jti)
        seconds = math.ceil((token.expires_at - now).total_seconds()) + 1
        if seconds > 0:
            await store.set(token.jti, b"1", expires_in=seconds)


async def is_revoked(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """Whether the token's ``jti`` was revoked (on any replica)."""
    jti = token.jti
    if not isinstance(jti, str):
        return True
    return await _store(connection.app).exists(jti)
