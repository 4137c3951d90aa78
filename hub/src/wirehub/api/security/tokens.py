"""Access tokens: JWT through Litestar's ``JWTAuth`` (PyJWT), HS256 only, every claim required, keys by ``kid``.

A token's header names its key by ``kid`` (a fingerprint, ``wirehub.api.keys.key_id``);
:class:`SignedToken` verifies it with that key from the configured ring and
nothing else: an unknown ``kid``, a missing one, or any algorithm but HS256
(``none`` included) is a 401. Former keys stay valid while they are listed in
``WIREHUB_PREVIOUS_SECRET_KEYS``.
"""

from __future__ import annotations

import dataclasses
import datetime
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, cast
from uuid import UUID

import jwt
from litestar.connection import ASGIConnection
from litestar.exceptions import ImproperlyConfiguredException
from litestar.security.jwt import JWTAuth, Token
from litestar.security.jwt.token import JWTDecodeOptions

from wirehub.api.keys import KeyRing, key_id
from wirehub.api.security.guards import SCHEMA_PATH
from wirehub.api.security.middleware import HubAuthenticationMiddleware
from wirehub.api.security.principal import Principal, load_principal
from wirehub.api.security.revocation import is_revoked

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("exp", "iat", "sub", "jti", "iss", "aud")


VERIFIED_SECONDS = 0.9
"""How long a verified token's claims are reused (never past its ``exp``): PyJWT's checks cost about 0.4 ms."""
MAX_VERIFIED = 10_000
"""Verified tokens kept at most; past it the oldest go first."""


class SignedToken(Token):
    """Litestar's ``Token``, signed with a ``kid`` header and verified by the key that ``kid`` names.

    ``keyring`` is set on the subclass :func:`token_class` makes for one app, with ``verified``: the
    claims of tokens it verified in the last ``VERIFIED_SECONDS`` (one app verifies with one set of
    options, so the encoded token is the key).
    """

    keyring: ClassVar[KeyRing]
    verified: ClassVar[dict[str, tuple[float, dict[str, Any]]]]

    @classmethod
    def decode_payload(
        cls,
        encoded_token: str,
        secret: str,
        algorithms: list[str],
        issuer: str | Sequence[str] | None = None,
        audience: str | Sequence[str] | None = None,
        options: JWTDecodeOptions | None = None,
    ) -> Any:
        """The token's claims, verified now or less than ``VERIFIED_SECONDS`` ago (and not expired since).

        Raises:
            jwt.InvalidTokenError: Not HS256, no ``kid`` or an unknown one, a bad signature or claim.
        """
        now = time.monotonic()
        found = cls.verified.get(encoded_token)
        if found is not None and found[0] > now:
            return dict(found[1])  # Litestar's decode changes what it gets
        claims = cls._verify(encoded_token, issuer, audience, options)
        expires = claims.get("exp")
        lifetime = min(VERIFIED_SECONDS, expires - time.time()) if isinstance(expires, int | float) else 0.0
        if lifetime > 0:
            cls.verified.pop(encoded_token, None)
            cls.verified[encoded_token] = (now + lifetime, dict(claims))
            while len(cls.verified) > MAX_VERIFIED:
                del cls.verified[next(iter(cls.verified))]
        return claims

    @classmethod
    def _verify(
        cls,
        encoded_token: str,
        issuer: str | Sequence[str] | None,
        audience: str | Sequence[str] | None,
        options: JWTDecodeOptions | None,
    ) -> dict[str, Any]:
        """Verifies the token with the ring's key for its ``kid`` and returns its claims.

        Raises:
            jwt.InvalidTokenError: Not HS256, no ``kid`` or an unknown one, a bad signature or claim.
        """
        header = jwt.get_unverified_header(encoded_token)
        if header.get("alg") != ALGORITHM:
            raise jwt.InvalidAlgorithmError("the token is not signed with HS256")
        key = cls.keyring.verification_key(header.get("kid"))
        if key is None:
            raise jwt.InvalidTokenError("the token's kid names no configured key")
        claims: dict[str, Any] = jwt.decode(
            jwt=encoded_token,
            key=key,
            algorithms=[ALGORITHM],
            issuer=issuer,
            audience=audience,
            options=cast("Any", options),
        )
        return claims

    def encode(self, secret: str, algorithm: str) -> str:
        """The signed token, with the ``kid`` of ``secret`` in its header (``algorithm`` is always HS256)."""
        claims = {name: value for name, value in dataclasses.asdict(self).items() if value is not None}
        claims.update(claims.pop("extras", {}))
        try:
            return jwt.encode(payload=claims, key=secret, algorithm=ALGORITHM, headers={"kid": key_id(secret)})
        except (jwt.DecodeError, NotImplementedError) as exc:
            raise ImproperlyConfiguredException("Failed to encode token") from exc


def token_class(keyring: KeyRing) -> type[SignedToken]:
    """A :class:`SignedToken` bound to ``keyring`` (one per app, so apps in one process keep their own keys)."""
    return cast("type[SignedToken]", type("SignedToken", (SignedToken,), {"keyring": keyring, "verified": {}}))


async def _retrieve(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """JWTAuth's ``retrieve_user_handler``: the token's principal, unless the token is revoked.

    Both are what this replica found less than a second ago when it has that (``PrincipalCache``);
    else the revocation store and then the database are asked, and the answer kept.
    """
    services = connection.app.state.services
    jti = token.jti if isinstance(token.jti, str) else None
    if jti is None:
        return None
    try:
        user_id = UUID(token.sub)
    except ValueError:
        return None

    async def loaded() -> tuple[Principal | None, float | None]:
        if await is_revoked(token, connection):
            return None, None
        async with services.sessions() as session:
            return await load_principal(session, user_id, token_id=jti), None

    principal: Principal | None = await services.principals.load(jti, loaded)
    # A jti names one token, signed for one user: anything else is refused, never served from the cache.
    return principal if principal is not None and principal.user_id == user_id else None


def jwt_auth(
    *, keyring: KeyRing, issuer: str, audience: str, lifetime: datetime.timedelta
) -> JWTAuth[Principal, SignedToken]:
    """Litestar's JWT authentication: ``kid``-verified HS256, ``iss``, ``aud`` and every claim of
    ``REQUIRED_CLAIMS`` checked, revoked ``jti`` refused (by ``_retrieve``, which keeps a token's principal
    and its revocation check for under a second), and API keys accepted beside tokens."""
    return JWTAuth[Principal, SignedToken](
        retrieve_user_handler=_retrieve,
        token_secret=keyring.current,
        token_cls=token_class(keyring),
        algorithm=ALGORITHM,
        accepted_issuers=[issuer],
        accepted_audiences=[audience],
        require_claims=list(REQUIRED_CLAIMS),
        default_token_expiration=lifetime,
        authentication_middleware_class=HubAuthenticationMiddleware,
        exclude=[f"^{SCHEMA_PATH}"],
        description="An access token from POST /api/v1/auth/token, or a service account's API key"
        " (`whk_...`), as `Authorization: Bearer <token>`; an API key may come as `X-API-Key` instead.",
    )


@dataclass(frozen=True)
class AccessToken:
    """A signed access token and what revoking it needs.

    Attributes:
        token: The encoded JWT.
        jti: Its id.
        expires_at: When it expires (at the latest).
    """

    token: str
    jti: str
    expires_at: datetime.datetime


def issue_access_token(
    auth: JWTAuth[Principal, SignedToken], user_id: UUID, *, issuer: str, audience: str
) -> AccessToken:
    """A signed access token for ``user_id`` with a fresh ``jti``."""
    jti = uuid.uuid4().hex
    expires_at = datetime.datetime.now(datetime.UTC) + auth.default_token_expiration
    encoded = auth.create_token(
        identifier=str(user_id), token_issuer=issuer, token_audience=audience, token_unique_jwt_id=jti
    )
    return AccessToken(token=encoded, jti=jti, expires_at=expires_at)
