"""Fixtures for the command's tests: the local HTTP server."""

from tests.support.local_http import server  # noqa: F401  # a fixture, found by pytest by name
