"""Shared fixtures: the real services, used whenever they are reachable.

Locally a service that is down skips the tests that need it; in CI
(``CI=true`` or ``WIREHUB_TEST_REQUIRE_SERVICES=1``) it fails them.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def _require_services() -> bool:
    return os.environ.get("WIREHUB_TEST_REQUIRE_SERVICES") == "1" or os.environ.get("CI") == "true"


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=1):
            return True
    except OSError:
        return False


def _service_url(variable: str, default: str, name: str) -> str:
    url = os.environ.get(variable) or default
    if not _reachable(url):
        message = f"{name} is not reachable at {url} (set {variable})"
        if _require_services():
            pytest.fail(message + ": CI runs the suite against the real service")
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def database_url() -> str:
    """The PostgreSQL URL to test against."""
    return _service_url("WIREHUB_TEST_DATABASE_URL", DEFAULT_DATABASE_URL, "PostgreSQL")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis URL to test against."""
    return _service_url("WIREHUB_TEST_REDIS_URL", DEFAULT_REDIS_URL, "Redis")
