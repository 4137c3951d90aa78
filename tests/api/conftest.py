"""The API under test: the real app over the embedded hub (SQLite) and, where it matters, the distributed one.

- ``api``: the app on a SQLite file with its in-process worker (fast; most tests).
- ``api_everywhere``: the same, and then on PostgreSQL with dispatches over a Redis stream
  of the test's own, read by a worker in this process (``tests.behaviour.conftest.distributed_hub``).

The first admin comes from the settings (``ADMIN``); ``Api.login`` and ``Api.user`` give
the headers of any user with any role (made over HTTP by the admin). ``Api.in_app`` runs
database work on the app's own event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from tests.behaviour.conftest import (  # noqa: F401 - fixtures, registered by name
    distributed_hub,
    migrated_template,
    new_stream,
    postgresql_url,
    registry,
)
from tests.support.local_http import server  # noqa: F401 - a fixture: a local HTTP server for steps to call
from wirehub.api import create_app
from wirehub.api.services import HubServices
from wirehub.runtime.registry import NodeRegistry
from wirehub.settings import Settings
from wirehub.store import DEFAULT_WORKSPACE_ID, credential_keyring, database_engine, session_factory
from wirehub.worker.credentials import StoreCredentialSource

ADMIN = ("admin", "correct horse battery staple")
SECRET = "test-secret-key-that-is-long-enough-0123456789"
CREDENTIAL_KEY = "test:" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="  # 32 bytes, base64
SETTINGS = Settings(
    secret_key=SECRET,
    credential_keys=(CREDENTIAL_KEY,),
    admin_username=ADMIN[0],
    admin_password=ADMIN[1],
    lease_seconds=3.0,
    shutdown_grace_seconds=2.0,
    sweep_interval_seconds=0.05,
    rate_limit_user=100_000,  # the tests of rate limits set their own
    rate_limit_anonymous=100_000,
    rate_limit_login=100_000,
)
DEFAULT_WORKSPACE = DEFAULT_WORKSPACE_ID

Headers = dict[str, str]
T = TypeVar("T")


@dataclass
class Api:
    """A running app and a client for it.

    Attributes:
        client: Sends requests to the app (its lifespan runs for the test).
        mode: ``sqlite`` or ``distributed``.
        admin: The first admin's headers.
    """

    client: AsyncTestClient[Any]
    mode: str
    admin: Headers = field(default_factory=dict)

    async def login(self, username: str, password: str) -> Headers:
        """The ``Authorization`` header of a fresh access token for the user."""
        response = await self.client.post("/api/v1/auth/token", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def user(
        self, role: str | None, *, workspace_id: UUID | None = DEFAULT_WORKSPACE, username: str | None = None
    ) -> Headers:
        """A new user holding ``role`` in ``workspace_id`` (``None``: globally), made over HTTP, logged in."""
        name = username or f"user-{uuid.uuid4().hex[:8]}"
        password = "a long enough password"
        created = await self.client.post(
            "/api/v1/users", json={"username": name, "password": password}, headers=self.admin
        )
        assert created.status_code == 201, created.text
        if role is not None:
            grant = {"user_id": created.json()["id"], "role": role, "workspace_id": workspace_id and str(workspace_id)}
            granted = await self.client.post("/api/v1/memberships", json=grant, headers=self.admin)
            assert granted.status_code == 201, granted.text
        return await self.login(name, password)

    async def in_app(self, work: Callable[[HubServices], Awaitable[T]]) -> T:
        """Runs ``work`` with the app's services on the app's event loop (the test client's portal thread).

        The app's lifespan, its worker and every request run on that loop; a session opened on the
        test's own loop would share the connection pool across two loops.
        """
        services = self.client.app.state.services
        return await asyncio.to_thread(self.client.blocking_portal.call, work, services)


@contextlib.asynccontextmanager
async def running_api(
    settings: Settings,
    registry: NodeRegistry,  # noqa: F811 - the fixture's value, passed in
    *,
    redis_url: str | None = None,
    stream: str | None = None,
    namespace: str | None = None,
) -> AsyncIterator[Api]:
    """The app on ``settings`` with a client; distributed when ``redis_url`` is given (a worker runs beside it).

    Its shared Redis keys live under ``namespace``, one of its own unless given (two apps given the
    same one are two replicas of one hub).
    """
    namespace = namespace or f"test-{uuid.uuid4().hex[:12]}"
    async with contextlib.AsyncExitStack() as stack:
        if redis_url is not None:
            stream = stream or new_stream()
            settings = msgspec.structs.replace(settings, redis_url=redis_url)
            engine = database_engine(settings.database_url)
            stack.push_async_callback(engine.dispose)
            credentials = StoreCredentialSource(session_factory(engine), credential_keyring(settings))
            await stack.enter_async_context(
                distributed_hub(
                    settings, registry, settings.database_url, redis_url, stream=stream, credentials=credentials
                )
            )
            app = create_app(settings, registry=registry, stream=stream, namespace=namespace)
        else:
            app = create_app(settings, registry=registry)
        client = await stack.enter_async_context(AsyncTestClient(app=app))
        api = Api(client, "distributed" if redis_url else "sqlite")
        api.admin = await api.login(*ADMIN)
        yield api


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    """``SETTINGS`` on a SQLite file of this test's own."""
    return msgspec.structs.replace(SETTINGS, database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")


@pytest.fixture
async def api(api_settings: Settings, registry: NodeRegistry) -> AsyncIterator[Api]:  # noqa: F811
    """The app on the embedded hub (SQLite, in-process worker)."""
    async with running_api(api_settings, registry) as running:
        yield running


@pytest.fixture(params=["sqlite", "distributed"])
def api_backend(request: pytest.FixtureRequest, api_settings: Settings) -> tuple[Settings, str | None]:
    """The settings and Redis URL of each mode (the services resolved before any loop runs)."""
    if request.param == "sqlite":
        return api_settings, None
    database = str(request.getfixturevalue("postgresql_url"))
    redis_url = str(request.getfixturevalue("redis_url"))
    return msgspec.structs.replace(api_settings, database_url=database), redis_url


@pytest.fixture
async def api_everywhere(
    api_backend: tuple[Settings, str | None],
    registry: NodeRegistry,  # noqa: F811
) -> AsyncIterator[Api]:
    """The app on the embedded hub, then on PostgreSQL and Redis with a worker beside it."""
    settings, redis_url = api_backend
    async with running_api(settings, registry, redis_url=redis_url) as running:
        yield running
