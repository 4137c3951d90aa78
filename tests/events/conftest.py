"""The events tests' fixtures: databases of both kinds (from the store's tests), node types, channel prefixes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from tests.runtime import testing_plugin
from tests.store.conftest import engine, migrated, postgresql_url, sqlite_url, store_url
from wirehub.plugins import Registry, build_registry
from wirehub.runtime.registry import NodeRegistry
from wirehub.settings import Settings
from wirehub.store import ExecutionEvent
from wirehub.worker.embedded import EmbeddedHub, embedded_hub
from wirehub_core import core

__all__ = ["engine", "migrated", "postgresql_url", "sqlite_url", "store_url"]


@pytest.fixture
def prefix() -> str:
    """A channel prefix of this test's own: the shared Redis carries other tests' events too."""
    return f"wirehub-test-{uuid.uuid4().hex[:12]}"


class Recorder:
    """An ``EventPublisher`` that keeps what it is given, in order."""

    def __init__(self) -> None:
        self.events: list[ExecutionEvent] = []
        self.calls = 0

    def publish(self, events: Sequence[ExecutionEvent]) -> None:
        self.calls += 1
        self.events.extend(events)


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The built-in node types plus the test ones."""
    return build_registry(extra_plugins=[core, testing_plugin], load_entry_points=False)


@pytest.fixture
async def hub(tmp_path: Path, registry: NodeRegistry) -> AsyncIterator[EmbeddedHub]:
    """An embedded hub on a SQLite file: its transitions are published in memory."""
    settings = Settings(lease_seconds=3.0, shutdown_grace_seconds=2.0)
    async with asyncio.timeout(60):
        async with embedded_hub(settings, registry, database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}") as hub:
            yield hub
