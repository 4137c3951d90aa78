"""Fixtures for the built-in plugins' tests: the local HTTP server and a client that may reach it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.local_http import LOOPBACK, other_server, server  # noqa: F401  # fixtures
from wirehub_sdk import EgressClient


@pytest.fixture
async def http() -> AsyncIterator[EgressClient]:
    """The HTTP client a node gets in ``ctx.http``, allowed to reach loopback."""
    client = EgressClient(LOOPBACK)
    yield client
    await client.aclose()
