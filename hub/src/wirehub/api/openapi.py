"""What Litestar's generated OpenAPI cannot know: the problem responses, public routes, raw definition bodies.

``complete_openapi`` runs at startup, before the schema is first served, and completes the
operations Litestar built from the route handlers:

- every operation lists the problem-details responses it can answer (``application/problem+json``,
  ``ProblemDetails``): 400, 429, 431, 500 and 503 everywhere; 401 and 403 where a credential is
  needed; 404 where the path names something (or a workspace); 409 on changes; 413 and 422 where a
  body is read. Litestar's own 400 (its validation error shape) is replaced, since the hub answers
  every error as a problem. Each problem body's ``code`` is an ``enum`` of the codes the operation
  answers with that status (``wirehub.api.problem_codes``);
- public operations (health, login, refresh) need no credential (``security: []``);
- handlers that read the definition themselves (``RawBody``) get its JSON Schema as their body,
  from the definition language (``wirehub.engine.Workflow``); a merge patch is an object.
"""

from __future__ import annotations

from typing import cast

import msgspec
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Parameter,
    PathItem,
    Reference,
    RequestBody,
    Schema,
)
from litestar.openapi.spec.enums import OpenAPIType
from litestar.params import RawBody
from litestar.routes import HTTPRoute

from wirehub.api.problem_codes import problem_codes
from wirehub.api.problems import PROBLEM_MEDIA_TYPE, ProblemDetails
from wirehub.api.security.guards import PUBLIC_KEY, SIGNED_IN_KEY
from wirehub.engine import Workflow

COMPONENTS = "#/components/schemas/{name}"
_CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_WHEN = {
    400: "A parameter or the body is not valid (each problem with its parameter or JSON pointer), or the Host"
    " is not served.",
    401: "No credential, or one that is not valid.",
    403: "The credential lacks the route's permission.",
    404: "What the path names does not exist, or is in a workspace the caller is not a member of.",
    409: "The change conflicts with the current state (see the problem's code).",
    413: "The body is larger than the limit (WIREHUB_API_MAX_BODY_BYTES).",
    422: "The body is well formed but not acceptable (each problem with its JSON pointer).",
    429: "Past the rate limit; Retry-After says when to try again.",
    431: "The request's headers are too large.",
    500: "An internal error; the body holds only the correlation id to quote.",
    503: "A service the hub needs (the database, Redis) is not reachable; Retry-After says when to try again.",
}
_RETRY_AFTER = OpenAPIHeader(
    description="Seconds to wait before trying again.", schema=Schema(type=OpenAPIType.INTEGER)
)


def _problem_statuses(
    handler: HTTPRouteHandler, method: str, path: str, *, has_body: bool, names_something: bool
) -> list[int]:
    public = bool(handler.opt.get(PUBLIC_KEY))
    statuses = [400, 429, 431, 500, 503]
    if not public or has_body:  # the public routes that read a body are the ones that authenticate
        statuses += [401]
    if not public and not handler.opt.get(SIGNED_IN_KEY):
        statuses += [403]
    if "{" in path or names_something:
        statuses += [404]
    if method in _CHANGES and not public:
        statuses += [409]
    if has_body:
        statuses += [413, 422]
    return sorted(statuses)


def _problem_response(status: int, codes: tuple[str, ...]) -> OpenAPIResponse:
    headers: dict[str, OpenAPIHeader | Reference] | None = (
        {"Retry-After": _RETRY_AFTER} if status in (429, 503) else None
    )
    # The problem body, its ``code`` one of those this operation answers with this status.
    schema = Schema(
        all_of=[
            Reference(ref=COMPONENTS.format(name="ProblemDetails")),
            Schema(type=OpenAPIType.OBJECT, properties={"code": Schema(type=OpenAPIType.STRING, enum=list(codes))}),
        ]
    )
    return OpenAPIResponse(
        description=_WHEN[status],
        content={PROBLEM_MEDIA_TYPE: OpenAPIMediaType(schema=schema)},
        headers=headers,
    )


def _parameter_names(operation: Operation) -> list[str]:
    return [parameter.name for parameter in operation.parameters or () if isinstance(parameter, Parameter)]


def _reads_raw_body(handler: HTTPRouteHandler) -> bool:
    parameter = handler.parsed_fn_signature.parameters.get("body")
    return parameter is not None and parameter.annotation is RawBody


def _raw_body(method: str) -> RequestBody:
    if method == "PATCH":
        return RequestBody(
            required=True,
            description="A JSON Merge Patch (RFC 7396) of the latest version's definition.",
            content={"application/json": OpenAPIMediaType(schema=Schema(type=OpenAPIType.OBJECT))},
        )
    return RequestBody(
        required=True,
        description="A workflow definition (docs/definition-language.md).",
        content={"application/json": OpenAPIMediaType(schema=Reference(ref=COMPONENTS.format(name="Workflow")))},
    )


def _body_names_something(operation: Operation, schemas: dict[str, Schema] | None) -> bool:
    """Whether the body refers to another object by id (``user_id``...), which may not exist (a 404)."""
    body = operation.request_body
    if not isinstance(body, RequestBody) or "application/json" not in body.content:
        return False
    reference = body.content["application/json"].schema
    if not isinstance(reference, Reference) or schemas is None:
        return False
    target = schemas.get(reference.ref.rpartition("/")[2])
    properties = getattr(target, "properties", None) or {}
    return any(name.endswith("_id") for name in properties)


def _operation(item: PathItem, method: str) -> Operation | None:
    found = getattr(item, method.lower(), None)
    return found if isinstance(found, Operation) else None


def _component_schemas() -> dict[str, Schema]:
    """The problem body's and the definition's JSON Schemas, as msgspec writes them (OpenAPI 3.1 is JSON Schema)."""
    _, components = msgspec.json.schema_components([ProblemDetails, Workflow], ref_template=COMPONENTS)
    # Litestar writes a plain dict out as it is (dropping null values: only "default": null here).
    return cast("dict[str, Schema]", components)


def complete_openapi(app: Litestar) -> None:
    """Completes the app's OpenAPI document (an ``on_startup`` hook; see the module's docstring)."""
    schema = app.openapi_schema
    paths = schema.paths or {}
    components = schema.components
    existing = components.schemas or {}
    added = _component_schemas()
    clash = sorted(set(existing) & set(added))
    if clash:
        raise RuntimeError(f"OpenAPI component names used twice: {clash}")
    components.schemas = {**existing, **added}
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path_format not in paths:
            continue
        item = paths[route.path_format]
        for handler in route.route_handlers:
            for method in handler.http_methods:
                operation = _operation(item, method)
                if operation is None:
                    continue
                if _reads_raw_body(handler):
                    operation.request_body = _raw_body(method)
                if handler.opt.get(PUBLIC_KEY):
                    operation.security = []
                has_body = operation.request_body is not None
                names = _body_names_something(operation, components.schemas)
                responses = dict(operation.responses or {})
                statuses = _problem_statuses(
                    handler, method, route.path_format, has_body=has_body, names_something=names
                )
                parameters = _parameter_names(operation)
                for status in statuses:
                    codes = problem_codes(method, route.path_format, status, parameters)
                    responses[str(status)] = _problem_response(status, codes)
                operation.responses = responses
