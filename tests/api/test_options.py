"""``OPTIONS``: a plain one lists the methods of a path, to anyone; a preflight gets the CORS rules' answer."""

from __future__ import annotations

import msgspec
import pytest

from tests.api.conftest import DEFAULT_WORKSPACE, Api, running_api
from wirehub.runtime.registry import NodeRegistry
from wirehub.settings import Settings

WS = f"/api/v1/workspaces/{DEFAULT_WORKSPACE}"
LISTED = "https://app.hub.test"
PREFLIGHT = {"access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type"}


def _allowed(header: str) -> set[str]:
    return {method.strip() for method in header.split(",")}


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        (f"{WS}/workflows", {"GET", "POST", "OPTIONS"}),
        (f"{WS}/workflows/00000000-0000-7000-8000-00000000dead", {"GET", "PUT", "PATCH", "OPTIONS"}),
        ("/api/v1/users/00000000-0000-7000-8000-00000000dead", {"GET", "PATCH", "DELETE", "OPTIONS"}),
        ("/api/v1/auth/token", {"POST", "OPTIONS"}),
        ("/health/live", {"GET", "OPTIONS"}),
    ],
)
async def test_a_plain_options_lists_the_paths_methods_with_or_without_a_credential(
    api: Api, path: str, methods: set[str]
) -> None:
    viewer = await api.user("viewer")
    for headers in ({}, viewer, api.admin, {"Authorization": "Bearer not-a-token"}):
        response = await api.client.options(path, headers=headers)
        assert response.status_code == 204, (headers, response.text)
        assert _allowed(response.headers["allow"]) == methods
        assert response.content == b""
        assert "access-control-allow-origin" not in response.headers


async def test_options_is_no_denial_and_a_path_that_does_not_exist_is_a_404_problem(api: Api) -> None:
    assert (await api.client.options(f"{WS}/executions")).status_code == 204
    audit = await api.client.get("/api/v1/audit", params={"action": "access.denied"}, headers=api.admin)
    assert audit.status_code == 200
    assert audit.json()["items"] == []
    missing = await api.client.options("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not-found"


@pytest.fixture
def cors_settings(api_settings: Settings) -> Settings:
    return msgspec.structs.replace(api_settings, cors_allow_origins=(LISTED,))


async def test_a_preflight_from_a_listed_origin_gets_the_cors_answer(
    cors_settings: Settings, registry: NodeRegistry
) -> None:
    async with running_api(cors_settings, registry) as api:
        response = await api.client.options(f"{WS}/workflows", headers={"origin": LISTED, **PREFLIGHT})
        assert response.status_code == 204
        assert response.headers["access-control-allow-origin"] == LISTED
        assert "POST" in _allowed(response.headers["access-control-allow-methods"]) or (
            response.headers["access-control-allow-methods"] == "*"
        )
        assert response.headers["vary"] == "Origin"
        assert int(response.headers["access-control-max-age"]) > 0
        # The request it prepared for: the origin is named on the answer, and the token still decides.
        created = await api.client.get(f"{WS}/workflows", headers={"origin": LISTED, **api.admin})
        assert created.status_code == 200
        assert created.headers["access-control-allow-origin"] == LISTED
        refused = await api.client.get(f"{WS}/workflows", headers={"origin": LISTED})
        assert refused.status_code == 401


async def test_a_preflight_from_an_origin_not_listed_gets_no_cors_headers(
    cors_settings: Settings, registry: NodeRegistry
) -> None:
    async with running_api(cors_settings, registry) as api:
        response = await api.client.options(f"{WS}/workflows", headers={"origin": "https://evil.example", **PREFLIGHT})
        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers
        assert "access-control-allow-methods" not in response.headers


async def test_without_listed_origins_a_preflight_is_a_plain_options_without_cors_headers(api: Api) -> None:
    response = await api.client.options(f"{WS}/workflows", headers={"origin": LISTED, **PREFLIGHT})
    assert response.status_code == 204
    assert _allowed(response.headers["allow"]) == {"GET", "POST", "OPTIONS"}
    assert not [name for name in response.headers if name.lower().startswith("access-control-")]
