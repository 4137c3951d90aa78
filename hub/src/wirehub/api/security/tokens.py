"""Access tokens: JWT through Litestar's ``JWTAuth`` (PyJWT), one fixed algorithm, every claim required."""

from __future__ import annotations

import datetime
import uuid
from typing import Any
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.security.jwt import JWTAuth, Token

from wirehub.api.security.guards import SCHEMA_PATH
from wirehub.api.security.principal import Principal, load_principal

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("exp", "iat", "sub", "jti", "iss", "aud")


async def _retrieve(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    services = connection.app.state.services
    try:
        user_id = UUID(token.sub)
    except ValueError:
        return None
    async with services.sessions() as session:
        return await load_principal(session, user_id, token_id=token.jti if isinstance(token.jti, str) else None)


def jwt_auth(*, secret: str, issuer: str, audience: str, lifetime: datetime.timedelta) -> JWTAuth[Principal, Token]:
    """Litestar's JWT authentication, verifying ``iss``, ``aud`` and every claim of ``REQUIRED_CLAIMS``."""
    return JWTAuth[Principal, Token](
        retrieve_user_handler=_retrieve,
        token_secret=secret,
        algorithm=ALGORITHM,
        accepted_issuers=[issuer],
        accepted_audiences=[audience],
        require_claims=list(REQUIRED_CLAIMS),
        default_token_expiration=lifetime,
        exclude=[f"^{SCHEMA_PATH}"],
        description="An access token from POST /api/v1/auth/token, as `Authorization: Bearer <token>`.",
    )


def issue_access_token(auth: JWTAuth[Principal, Token], user_id: UUID, *, issuer: str, audience: str) -> str:
    """A signed access token for ``user_id`` with a fresh ``jti``."""
    return auth.create_token(
        identifier=str(user_id),
        token_issuer=issuer,
        token_audience=audience,
        token_unique_jwt_id=uuid.uuid4().hex,
    )
