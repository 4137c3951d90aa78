"""The HTTP API: a Litestar app over the store, the dispatcher and the event feed.

- ``create_app(settings)``: the ASGI app (``wirehub serve`` runs it with uvicorn).
- ``wirehub.api.security``: principals, access tokens, the deny-by-default guard.
- ``wirehub.api.problems``: every error as an RFC 9457 problem-details body.
- ``wirehub.api.routes``: the route handlers, one module per resource.
"""

from wirehub.api.app import create_app

__all__ = ["create_app"]
