"""The app's OpenAPI document and each operation's access rule, read from an app that is never started."""

from __future__ import annotations

import json
from typing import Any

from litestar import Litestar
from litestar.routes import HTTPRoute

from wirehub.api.app import create_app
from wirehub.api.openapi import complete_openapi
from wirehub.api.security.guards import access_rule
from wirehub.settings import Settings

Operation = tuple[str, str]
"""``(METHOD, path template)``."""

_PLACEHOLDER_KEY = "reference:" + "A" * 43 + "="
"""A well-formed credential key (32 zero bytes): the app is built, never served, so nothing is encrypted with it."""


def reference_app() -> Litestar:
    """The API as ``wirehub serve`` builds it, on settings that write nothing to disk and open nothing.

    The OpenAPI document depends on the routes alone, never on the settings.
    """
    settings = Settings(
        secret_key="reference-only-" + "0" * 40,
        credential_keys=(_PLACEHOLDER_KEY,),
        database_url="sqlite+aiosqlite://",
    )
    return create_app(settings)


def openapi_document(app: Litestar) -> dict[str, Any]:
    """The document ``GET /schema/openapi.json`` serves, completed as at startup (``complete_openapi``)."""
    complete_openapi(app)
    document: dict[str, Any] = app.openapi_schema.to_schema()
    return document


def openapi_text(document: dict[str, Any]) -> str:
    """The document as committed: pretty-printed with sorted keys, so it only changes when the API does."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def access_rules(app: Litestar) -> dict[Operation, str]:
    """Each HTTP operation's access rule (``public``, ``workflow:read``...), from what its handler declares."""
    rules: dict[Operation, str] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            rule = access_rule(handler)
            for method in handler.http_methods:
                rules[(method, route.path_format)] = rule if rule is not None else "nobody (declares no permission)"
    return rules
