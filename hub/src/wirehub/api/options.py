"""The answer to a plain ``OPTIONS``: 204, with ``Allow`` naming every method of the path.

Litestar adds an ``OPTIONS`` handler to each path, but when a path's handlers are registered
one by one (ours are) its ``Allow`` names only the first one's methods
(litestar-org/litestar#4169, fixed in Litestar 3). The app's ``before_request`` hook answers for it
with the methods of the path's whole route. The guard lets anyone call it
(:func:`wirehub.api.security.guards.is_automatic_options`); a CORS preflight never reaches it.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, Response
from litestar.routes import HTTPRoute
from litestar.status_codes import HTTP_204_NO_CONTENT

from wirehub.api.security.guards import is_automatic_options

ALLOW_KEY = "allowed_methods"
"""Where the app's state keeps each path template's ``Allow`` value."""


def allowed_methods(app: Litestar) -> dict[str, str]:
    """Each HTTP path template of ``app`` and its ``Allow`` value (``GET, OPTIONS, POST``)."""
    return {route.path_format: ", ".join(sorted(route.methods)) for route in app.routes if isinstance(route, HTTPRoute)}


def options_answer(request: Request[Any, Any, Any]) -> Response[None] | None:
    """The answer to the automatic ``OPTIONS`` of a path; ``None`` for any other request (its handler answers)."""
    if not is_automatic_options(request.route_handler):
        return None
    allow: dict[str, str] = request.app.state[ALLOW_KEY]
    return Response(None, status_code=HTTP_204_NO_CONTENT, headers={"Allow": allow[request.scope["path_template"]]})
