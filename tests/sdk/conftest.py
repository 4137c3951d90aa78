"""Fixtures for the SDK's tests: the local HTTP(S) server."""

from tests.support.local_http import (  # noqa: F401  # fixtures, found by pytest by name
    certificate,
    client,
    other_server,
    server,
    tls_server,
    trusting,
)
