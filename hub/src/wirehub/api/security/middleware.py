"""Authentication by access token or by API key, in one Litestar authentication middleware.

JWTAuth builds this middleware (``authentication_middleware_class``): a request
with ``X-API-Key: whk_...`` or ``Authorization: Bearer whk_...`` is a service
account's; any other goes through JWTAuth's token checks. Either way the guard
sees a :class:`Principal`.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware.authentication import AuthenticationResult
from litestar.security.jwt import JWTAuthenticationMiddleware

from wirehub.api.security.principal import Principal, load_principal
from wirehub.store import API_KEY_PREFIX, api_key_digest, usable_api_key

API_KEY_HEADER = "x-api-key"
API_KEY_CACHE_PREFIX = "api-key:"
"""Where an API key's entries sit in the principal cache, apart from tokens' ``jti``."""


def api_key_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The API key the request carries, if any (``X-API-Key`` wins over ``Authorization``)."""
    given = connection.headers.get(API_KEY_HEADER)
    if given is not None:
        return given.strip()
    scheme, _, credentials = connection.headers.get("authorization", "").partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials.startswith(API_KEY_PREFIX):
        return credentials
    return None


async def api_key_principal(connection: ASGIConnection[Any, Any, Any, Any], key: str) -> Principal | None:
    """The service account a usable key belongs to; ``None`` for a bad, revoked or expired key or a disabled account.

    What this replica found less than a second ago when it has that (``PrincipalCache``, by the
    key's SHA-256, never past the key's expiry); else the database is asked and the answer kept.
    """
    services = connection.app.state.services
    cache_key = API_KEY_CACHE_PREFIX + api_key_digest(key)

    async def loaded() -> tuple[Principal | None, float | None]:
        now = services.store.now()
        async with services.sessions() as session:
            row = await usable_api_key(session, key, now)
            if row is None:
                return None, None
            principal = await load_principal(session, row.user_id, api_key_id=row.id)
        if principal is None or not principal.is_service:
            return None, None
        return principal, None if row.expires_at is None else (row.expires_at - now).total_seconds()

    principal: Principal | None = await services.principals.load(cache_key, loaded)
    return principal


class HubAuthenticationMiddleware(JWTAuthenticationMiddleware):
    """JWTAuth's middleware, also accepting service accounts' API keys."""

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        """A principal from the API key, or from the access token through JWTAuth.

        Raises:
            NotAuthorizedException: No credential, or one that is not valid.
        """
        key = api_key_of(connection)
        if key is None:
            return await super().authenticate_request(connection)
        principal = await api_key_principal(connection, key)
        if principal is None:
            raise NotAuthorizedException("the API key is not valid, or it expired or was revoked")
        return AuthenticationResult(user=principal, auth=None)
