"""Authentication and authorization: who calls (``Principal``), with what token, and whether they may.

- ``needs(permission)`` / ``PUBLIC``: what a route declares in its ``opt``; ``authorize``
  is the app-wide guard that denies by default.
- ``jwt_auth`` / ``issue_access_token``: access tokens (Litestar's ``JWTAuth``), verified
  by ``kid`` (``SignedToken``), revoked by ``jti`` (``revocation``); API keys beside them
  (``middleware``); ``logins``: refresh tokens, rotation and logout.
- ``hash_password`` / ``verify_password``: argon2id.
"""

from wirehub.api.security.guards import (
    PUBLIC,
    SIGNED_IN,
    WorkspaceHiddenError,
    authorize,
    declared_permission,
    is_public,
    needs,
    principal_of,
)
from wirehub.api.security.passwords import hash_password, password_problem, verify_password
from wirehub.api.security.principal import Principal, load_principal
from wirehub.api.security.revocation import REVOKED_TOKENS_STORE, revocation_store, revoke_access_tokens
from wirehub.api.security.tokens import (
    ALGORITHM,
    REQUIRED_CLAIMS,
    AccessToken,
    SignedToken,
    issue_access_token,
    jwt_auth,
    token_class,
)

__all__ = [
    "PUBLIC",
    "SIGNED_IN",
    "WorkspaceHiddenError",
    "needs",
    "authorize",
    "declared_permission",
    "is_public",
    "principal_of",
    "Principal",
    "load_principal",
    "ALGORITHM",
    "REQUIRED_CLAIMS",
    "jwt_auth",
    "token_class",
    "SignedToken",
    "AccessToken",
    "REVOKED_TOKENS_STORE",
    "revocation_store",
    "revoke_access_tokens",
    "issue_access_token",
    "hash_password",
    "verify_password",
    "password_problem",
]
