"""Access tokens: every refusal (expiry, issuer, audience, claims, algorithm, key id, revocation, disabled user),
key rotation by ``kid``, and refresh tokens rotated on use with reuse revoking the whole login."""

from __future__ import annotations

import datetime
import time
import uuid
from typing import Any

import jwt
import msgspec
import pytest

from tests.api.conftest import ADMIN, SECRET, Api, running_api
from wirehub.api.keys import key_id
from wirehub.runtime.registry import NodeRegistry
from wirehub.settings import Settings

WORKSPACES = "/api/v1/workspaces"
OLD_KEY = "an-older-signing-key-that-is-long-enough-000000"


def subject(headers: dict[str, str]) -> str:
    """The ``sub`` of the bearer token in ``headers`` (read without verifying)."""
    token = headers["Authorization"].removeprefix("Bearer ")
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return str(claims["sub"])


def forge(sub: str, *, key: str = SECRET, kid: str | None = None, algorithm: str = "HS256", **changes: Any) -> str:
    """A token signed with ``key`` and the claims the hub issues, changed by ``changes`` (``None`` drops a claim)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub,
        "iat": now,
        "exp": now + 300,
        "iss": "wirehub",
        "aud": "wirehub-api",
        "jti": uuid.uuid4().hex,
    }
    claims.update(changes)
    claims = {name: value for name, value in claims.items() if value is not None}
    headers = {"kid": kid if kid is not None else key_id(key)}
    return jwt.encode(claims, key if algorithm != "none" else "", algorithm=algorithm, headers=headers)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def status(api: Api, token: str) -> int:
    return (await api.client.get(WORKSPACES, headers=bearer(token))).status_code


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # HS512 with the hub's key, on purpose
async def test_a_token_is_refused_when_any_check_fails(api: Api) -> None:
    sub = subject(api.admin)
    assert await status(api, forge(sub)) == 200  # the forgery helper signs what the hub accepts
    issued = api.admin["Authorization"].removeprefix("Bearer ")
    assert jwt.get_unverified_header(issued) == {"alg": "HS256", "typ": "JWT", "kid": key_id(SECRET)}
    refused = {
        "expired": forge(sub, exp=int(time.time()) - 5, iat=int(time.time()) - 60),
        "wrong issuer": forge(sub, iss="someone-else"),
        "wrong audience": forge(sub, aud="another-api"),
        "no exp": forge(sub, exp=None),
        "no iat": forge(sub, iat=None),
        "no jti": forge(sub, jti=None),
        "no iss": forge(sub, iss=None),
        "no aud": forge(sub, aud=None),
        "unknown subject": forge(str(uuid.uuid4())),
        "alg none": forge(sub, algorithm="none"),
        "another algorithm": forge(sub, algorithm="HS512"),
        "unknown kid": forge(sub, key="a-key-nobody-configured-0123456789abcdef"),
        "kid of the key, signed by another": forge(
            sub, key="a-key-nobody-configured-0123456789abcdef", kid=key_id(SECRET)
        ),
        "no kid": jwt.encode(jwt.decode(forge(sub), SECRET, algorithms=["HS256"], audience="wirehub-api"), SECRET),
        "a key id that looks like a path": forge(sub, kid="../../etc/passwd"),
        "garbage": "not-a-jwt",
    }
    statuses = {case: await status(api, token) for case, token in refused.items()}
    assert statuses == dict.fromkeys(refused, 401)
    body = (await api.client.get(WORKSPACES, headers=bearer(refused["alg none"]))).json()
    assert body["status"] == 401
    assert "traceback" not in str(body).lower()


async def test_a_former_key_verifies_while_it_is_listed_and_not_after(
    api_settings: Settings, registry: NodeRegistry
) -> None:
    rotated = msgspec.structs.replace(api_settings, previous_secret_keys=(OLD_KEY,))
    async with running_api(rotated, registry) as api:
        sub = subject(api.admin)
        old = forge(sub, key=OLD_KEY)
        assert await status(api, old) == 200
        new_header = jwt.get_unverified_header(api.admin["Authorization"].removeprefix("Bearer "))
        assert new_header["kid"] == key_id(SECRET)  # new tokens are signed with the current key
    async with running_api(api_settings, registry) as api:  # the old key is dropped from the settings
        assert await status(api, old) == 401
        assert await status(api, forge(sub)) == 200


async def test_logout_revokes_the_access_token_and_the_refresh_token(api: Api) -> None:
    login = await api.client.post("/api/v1/auth/token", json={"username": ADMIN[0], "password": ADMIN[1]})
    pair = login.json()
    assert set(pair) == {"access_token", "token_type", "expires_in", "refresh_token", "refresh_expires_in"}
    headers = bearer(pair["access_token"])
    assert (await api.client.get(WORKSPACES, headers=headers)).status_code == 200
    out = await api.client.post("/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]}, headers=headers)
    assert out.status_code == 204
    assert (await api.client.get(WORKSPACES, headers=headers)).status_code == 401
    again = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 401
    assert (await api.client.get(WORKSPACES, headers=api.admin)).status_code == 200  # another login is untouched
    assert (await api.client.post("/api/v1/auth/logout")).status_code == 401


async def test_a_refresh_token_is_rotated_and_its_reuse_revokes_the_whole_login(api: Api) -> None:
    first = (await api.client.post("/api/v1/auth/token", json={"username": ADMIN[0], "password": ADMIN[1]})).json()
    second = (await api.client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert (await api.client.get(WORKSPACES, headers=bearer(second["access_token"]))).status_code == 200
    third = (await api.client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})).json()
    # The first token again: a reuse. Every token of the login is revoked, the live access tokens too.
    reused = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    assert reused.json()["code"] == "invalid-refresh-token"
    assert (
        await api.client.post("/api/v1/auth/refresh", json={"refresh_token": third["refresh_token"]})
    ).status_code == 401
    assert (await api.client.get(WORKSPACES, headers=bearer(third["access_token"]))).status_code == 401
    assert (await api.client.get(WORKSPACES, headers=bearer(second["access_token"]))).status_code == 401
    assert (await api.client.get(WORKSPACES, headers=api.admin)).status_code == 200


@pytest.mark.parametrize("token", ["", "whr_unknown", "x" * 201])
async def test_a_bad_refresh_token_is_a_4xx_problem(api: Api, token: str) -> None:
    response = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": token})
    assert response.status_code in (400, 401)
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_disabled_user_is_refused_at_once_and_cannot_refresh(api: Api) -> None:
    viewer = await api.user("viewer", username="vera")
    pair = (
        await api.client.post("/api/v1/auth/token", json={"username": "vera", "password": "a long enough password"})
    ).json()
    assert (await api.client.get(WORKSPACES, headers=viewer)).status_code == 200
    users = (await api.client.get("/api/v1/users", headers=api.admin)).json()
    vera = next(user for user in users if user["username"] == "vera")
    disabled = await api.client.patch(f"/api/v1/users/{vera['id']}", json={"disabled": True}, headers=api.admin)
    assert disabled.status_code == 200
    assert disabled.json()["disabled"] is True
    assert (await api.client.get(WORKSPACES, headers=viewer)).status_code == 401
    assert (
        await api.client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    ).status_code == 401
    login = await api.client.post("/api/v1/auth/token", json={"username": "vera", "password": "a long enough password"})
    assert login.status_code == 401
    await api.client.patch(f"/api/v1/users/{vera['id']}", json={"disabled": False}, headers=api.admin)
    # Enabled again: disabling ended its logins (their refresh and access tokens are revoked); it logs in anew.
    assert (await api.client.get(WORKSPACES, headers=viewer)).status_code == 401
    refreshed = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 401
    assert (
        await api.client.get(WORKSPACES, headers=await api.login("vera", "a long enough password"))
    ).status_code == 200


def test_the_access_token_lifetime_is_what_the_settings_say() -> None:
    assert Settings().access_token_seconds == 900
    assert datetime.timedelta(seconds=Settings().refresh_token_seconds) == datetime.timedelta(days=14)


def test_verified_claims_are_reused_for_under_a_second_and_never_past_the_tokens_expiry() -> None:
    from wirehub.api.keys import KeyRing
    from wirehub.api.security.tokens import VERIFIED_SECONDS, token_class

    token_cls = token_class(KeyRing.of(SECRET))
    options: Any = {"verify_aud": True, "verify_iss": True}
    check = {"issuer": "wirehub", "audience": "wirehub-api", "options": options}
    lasting = forge(str(uuid.uuid4()))
    first = token_cls.decode_payload(lasting, SECRET, ["HS256"], **check)
    assert token_cls.decode_payload(lasting, SECRET, ["HS256"], **check) == first
    assert lasting in token_cls.verified
    assert token_cls.verified[lasting][0] - time.monotonic() <= VERIFIED_SECONDS < 1
    # A token verified once is refused once it expires, though that is sooner than the reuse window.
    expires = int(time.time()) + 1  # a whole second: PyJWT compares exp as an integer
    expiring = forge(str(uuid.uuid4()), exp=expires)
    token_cls.decode_payload(expiring, SECRET, ["HS256"], **check)
    kept_for = token_cls.verified[expiring][0] - time.monotonic()
    assert kept_for <= expires - time.time() + 0.01  # kept until its exp at most, even when that is under 0.9 s
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    with pytest.raises(jwt.ExpiredSignatureError):
        token_cls.decode_payload(expiring, SECRET, ["HS256"], **check)
    # Another app's ring keeps its own: the token is checked there against its keys, and refused.
    other = token_class(KeyRing.of(OLD_KEY))
    with pytest.raises(jwt.InvalidTokenError):
        other.decode_payload(lasting, OLD_KEY, ["HS256"], **check)
