"""The worker tests' fixtures: the test node types, an embedded hub on a SQLite file, a private Redis."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.runtime import testing_plugin
from tests.worker.redis_server import RedisServer
from wirehub.plugins import build_registry
from wirehub.runtime.registry import NodeRegistry
from wirehub.settings import Settings
from wirehub.worker.embedded import EmbeddedHub, embedded_hub
from wirehub_core import core


@pytest.fixture
def calls() -> testing_plugin.Calls:
    testing_plugin.CALLS.__init__()  # type: ignore[misc]
    return testing_plugin.CALLS


@pytest.fixture(scope="session")
def registry() -> NodeRegistry:
    """The built-in node types plus the test ones."""
    return build_registry(extra_plugins=[core, testing_plugin], load_entry_points=False)


@pytest.fixture
async def hub(tmp_path: Path, registry: NodeRegistry) -> AsyncIterator[EmbeddedHub]:
    """An embedded hub on a SQLite file, with a short lease and grace."""
    settings = Settings(lease_seconds=3.0, shutdown_grace_seconds=2.0)
    async with asyncio.timeout(60):
        async with embedded_hub(settings, registry, database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}") as hub:
            yield hub


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A private redis-server a test may kill: the shared one is left alone."""
    try:
        server = RedisServer(tmp_path)
    except FileNotFoundError:
        if os.environ.get("WIREHUB_TEST_REQUIRE_SERVICES") == "1" or os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed: CI runs these tests against a real Redis")
        pytest.skip("redis-server is not installed")
    server.start()
    try:
        yield server
    finally:
        server.kill()
