"""Reaching the process's services from a request."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

from wirehub.api.services import HubServices


def services_of(connection: ASGIConnection[Any, Any, Any, Any]) -> HubServices:
    """The services the app's lifespan opened."""
    services = connection.app.state.get("services")
    if not isinstance(services, HubServices):
        raise RuntimeError("the API's services are not open (outside the app's lifespan)")
    return services


async def provide_services(request: ASGIConnection[Any, Any, Any, Any]) -> HubServices:
    """The ``services`` dependency of route handlers."""
    return services_of(request)
