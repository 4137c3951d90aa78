"""``/health/live`` and ``/health/ready``: public; ready checks the database (and Redis, distributed), 503 when down."""

from __future__ import annotations

from tests.api.conftest import Api
from wirehub.store import database_engine


async def test_live_and_ready_answer_without_a_token(api_everywhere: Api) -> None:
    api = api_everywhere
    assert (await api.client.get("/health/live")).json() == {"status": "ok", "checks": {}, "plugins": {}}
    ready = await api.client.get("/health/ready")
    assert ready.status_code == 200
    expected = {"database": "ok"} if api.mode == "sqlite" else {"database": "ok", "redis": "ok", "broker": "ok"}
    assert ready.json()["checks"] == expected


async def test_ready_is_a_503_naming_the_database_when_it_is_gone(api: Api) -> None:
    services = api.client.app.state.services
    original, services.engine = services.engine, database_engine("postgresql+asyncpg://postgres@127.0.0.1:1/gone")
    try:
        response = await api.client.get("/health/ready")
    finally:
        await services.engine.dispose()
        services.engine = original
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"].startswith("unreachable")
    assert "127.0.0.1:1" not in response.text
