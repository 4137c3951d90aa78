"""Fixtures for the built-in plugins' tests.

The local HTTP server is the one the SDK's egress tests use
(``tests/sdk/conftest.py``): it is loaded from there rather than kept twice.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub_sdk import EgressClient, EgressPolicy


def _load_local_http():  # type: ignore[no-untyped-def]
    name = "hub_tests_local_http"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parents[1] / "sdk" / "conftest.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


local_http = _load_local_http()
LocalServer = local_http.LocalServer
server = local_http.server
other_server = local_http.other_server

LOOPBACK = EgressPolicy(allow_networks=("127.0.0.0/8",))
"""Egress rules that let a node reach the local server (loopback is forbidden by default)."""


@pytest.fixture
async def http() -> AsyncIterator[EgressClient]:
    """The HTTP client a node gets in ``ctx.http``, allowed to reach loopback."""
    client = EgressClient(LOOPBACK)
    yield client
    await client.aclose()
