"""The Litestar application: routes, authentication, the deny-by-default guard, problem details, OpenAPI."""

from __future__ import annotations

import contextlib
import datetime
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import swagger_ui_bundle  # type: ignore[import-untyped]
from litestar import Litestar, Request, Response
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.router import Router
from litestar.static_files import create_static_files_router
from opentelemetry import trace
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wirehub.api.audit import record_denial
from wirehub.api.correlation import CorrelationMiddleware
from wirehub.api.hosts import allowed_hosts_middleware
from wirehub.api.input_bounds import HeaderLimitMiddleware, check_request
from wirehub.api.keys import signing_keys
from wirehub.api.limits import rate_limit
from wirehub.api.openapi import complete_openapi
from wirehub.api.options import ALLOW_KEY, allowed_methods, options_answer
from wirehub.api.problems import exception_handlers
from wirehub.api.routes import ROUTES
from wirehub.api.routes.metrics import METRICS_CONFIG, MetricsController
from wirehub.api.security import (
    PUBLIC,
    REVOKED_TOKENS_STORE,
    authorize,
    hash_password,
    jwt_auth,
    password_problem,
    revocation_store,
)
from wirehub.api.services import DEFAULT_NAMESPACE, open_services
from wirehub.api.state import provide_services
from wirehub.settings import Settings, SettingsError
from wirehub.store import create_user, credential_keyring, seed_access
from wirehub.store.models import User
from wirehub.tracing import configure_tracing
from wirehub.worker import STREAM

if TYPE_CHECKING:
    from wirehub.runtime.registry import NodeRegistry

logger = logging.getLogger("wirehub.api")

API_TITLE = "wirehub"
API_VERSION = "1.0.0"
ASSETS_PATH = "/schema/assets"
FIRST_ADMIN_HINT = (
    "the hub has no user yet: create the first admin with `wirehub users create-admin NAME`"
    " (or set WIREHUB_ADMIN_USERNAME and WIREHUB_ADMIN_PASSWORD and restart)"
)
_SWAGGER_DIR = next(Path(swagger_ui_bundle.__file__).parent.joinpath("vendor").glob("swagger-ui-*"))


def create_app(
    settings: Settings | None = None,
    *,
    registry: NodeRegistry | None = None,
    stream: str = STREAM,
    announce: Callable[[str], None] | None = None,
    namespace: str = DEFAULT_NAMESPACE,
) -> Litestar:
    """The hub's API as an ASGI app; its lifespan opens the database, the store, dispatch and events.

    Args:
        settings: The settings; read from the environment by default.
        registry: The node types; the installed plugins by default.
        stream: The Redis stream the workers read (distributed).
        announce: Where startup news for the operator goes (``wirehub serve`` prints it):
            how to create the first admin when the hub has no user.
        namespace: The prefix of the Redis keys the API's replicas share (distributed).

    Raises:
        SettingsError: A setting the API needs is missing or unsafe.
    """
    settings = settings if settings is not None else Settings.from_env()
    credential_keyring(settings)  # checked now: a distributed hub without its credential keys does not start
    auth = jwt_auth(
        keyring=signing_keys(settings),
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        lifetime=datetime.timedelta(seconds=settings.access_token_seconds),
    )

    middleware: list[Any] = [
        CorrelationMiddleware,
        *allowed_hosts_middleware(settings.allowed_hosts),
        HeaderLimitMiddleware,
        METRICS_CONFIG.middleware,
    ]
    before_request: Callable[[Request[Any, Any, Any]], Response[None] | None] = options_answer
    if configure_tracing(settings.tracing, service="wirehub-api"):
        from litestar.plugins.opentelemetry import OpenTelemetryConfig

        otel = OpenTelemetryConfig(
            exclude=["^/health/", "^/metrics$"],
            exclude_spans=["receive", "send"],
            # Named by method until routing gives the template (_name_span_by_route): never by a raw path.
            scope_span_details_extractor=lambda scope: (str(scope.get("method", "WEBSOCKET")), {}),
        )
        middleware.append(otel.middleware)
        before_request = _traced(options_answer)

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_services(settings, registry=registry, stream=stream, namespace=namespace) as services:
            async with services.sessions.begin() as session:
                await seed_access(session)
                missing = not await _first_admin(session, settings)
            if missing and announce is not None:
                announce(FIRST_ADMIN_HINT)
            elif missing:
                logger.warning(FIRST_ADMIN_HINT)
            app.state.services = services
            yield

    app = Litestar(
        route_handlers=[*ROUTES, MetricsController, _swagger_assets()],
        logging_config=None,  # the process configures logging (wirehub.cli.logs); Litestar's would replace it
        lifespan=[lifespan],
        on_startup=[complete_openapi],
        guards=[rate_limit, authorize, check_request],
        after_exception=[record_denial],
        stores={REVOKED_TOKENS_STORE: revocation_store(settings)},
        on_app_init=[auth.on_app_init],
        middleware=middleware,
        before_request=before_request,
        dependencies={"services": Provide(provide_services)},
        exception_handlers=exception_handlers(),
        request_max_body_size=settings.api_max_body_bytes,
        cors_config=CORSConfig(allow_origins=list(settings.cors_allow_origins))
        if settings.cors_allow_origins
        else None,
        openapi_config=OpenAPIConfig(
            title=API_TITLE,
            version=API_VERSION,
            path="/schema",
            render_plugins=[
                SwaggerRenderPlugin(
                    path="/swagger",
                    js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
                    css_url=f"{ASSETS_PATH}/swagger-ui.css",
                    standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
                    favicon=f"<link rel='icon' href='{ASSETS_PATH}/favicon-32x32.png'>",
                )
            ],
        ),
        state=State({"jwt_auth": auth}),
        debug=False,
    )
    app.state[ALLOW_KEY] = allowed_methods(app)
    return app


def _traced(
    then: Callable[[Request[Any, Any, Any]], Response[None] | None],
) -> Callable[[Request[Any, Any, Any]], Response[None] | None]:
    """``then``, after naming the request's span by its route (:func:`_name_span_by_route`)."""

    def before_request(request: Request[Any, Any, Any]) -> Response[None] | None:
        _name_span_by_route(request)
        return then(request)

    return before_request


def _name_span_by_route(request: Request[Any, Any, Any]) -> None:
    """Names the request's span by its route template (``GET /api/v1/workspaces/{workspace_id}/...``)."""
    span = trace.get_current_span()
    template = request.scope.get("path_template")
    if span.is_recording() and isinstance(template, str):
        span.update_name(f"{request.method} {template}")
        span.set_attribute("http.route", template)


def _swagger_assets() -> Router:
    return create_static_files_router(path=ASSETS_PATH, directories=[_SWAGGER_DIR], opt=PUBLIC, name="swagger-assets")


async def _first_admin(session: AsyncSession, settings: Settings) -> bool:
    """Creates the first admin from the settings if the hub has no user; returns whether it has one now."""
    if await session.scalar(select(User.id).limit(1)) is not None:
        return True
    if settings.admin_username and settings.admin_password:
        problem = password_problem(settings.admin_password)
        if problem is not None:
            raise SettingsError(f"WIREHUB_ADMIN_PASSWORD: {problem}")
        await create_user(
            session, settings.admin_username, password_hash=hash_password(settings.admin_password), role="admin"
        )
        logger.info("created the first admin, %s, from the settings", settings.admin_username)
        return True
    return False
