"""Every route of the app, for every built-in role, allowed or denied exactly as docs/api.md says.

The walk runs the app's real guard (``authorize``) on each operation with the principal of each
built-in role, held globally, in the route's workspace and in another workspace, and compares its
answer with the one the docs table's rule gives. A second test calls every HTTP operation of the
running app with a token of each role and checks the same answers end to end. The ``OPTIONS``
Litestar adds to every path is public (``PUBLIC_METHODS``), for everyone, and in no table.
"""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.connection import ASGIConnection

from tests.api.conftest import DEFAULT_WORKSPACE, Api, Headers
from tests.api.routes_walk import (
    ANYWHERE,
    AUTHENTICATED,
    DOCS_API,
    GLOBALLY,
    PUBLIC,
    PUBLIC_METHODS,
    PUBLIC_PATHS,
    TABLE_HEADING,
    Operation,
    automatic_options,
    documented_rules,
    is_docs_path,
    markdown_table,
    operations,
    rule_of,
    section,
    table_rows,
)
from wirehub.api.problems import ApiError
from wirehub.api.security import Principal, authorize
from wirehub.store.access import BUILTIN_ROLES

WORKSPACE = UUID("00000000-0000-7000-8000-0000000000aa")
OTHER_WORKSPACE = UUID("00000000-0000-7000-8000-0000000000bb")
ALLOWED = "allowed"
SCOPES = ("global", "member", "outsider")
"""Where the role is held: globally, in the route's workspace, or only in another workspace."""


def _app(api: Api) -> Litestar:
    app: Litestar = api.client.app
    return app


def _principal(role: str | None, scope: str) -> Principal | None:
    if role is None:
        return None
    granted = frozenset(BUILTIN_ROLES[role])
    if scope == "global":
        return Principal(user_id=uuid.uuid4(), username=role, global_permissions=granted)
    where = WORKSPACE if scope == "member" else OTHER_WORKSPACE
    return Principal(user_id=uuid.uuid4(), username=role, workspaces={where: granted})


def _in_workspace(operation: Operation) -> bool:
    return "{workspace_id}" in operation.path


def expected(rule: str, operation: Operation, role: str | None, scope: str) -> str | int:
    """What the docs' rule says the caller gets: ``allowed``, or the status of the refusal."""
    if rule == PUBLIC:
        return ALLOWED
    if role is None:
        return 401
    if rule == AUTHENTICATED:
        return ALLOWED
    permission = rule.removesuffix(ANYWHERE).removesuffix(GLOBALLY)
    held = permission in BUILTIN_ROLES[role]
    if _in_workspace(operation):
        if scope == "outsider":
            return 404
        if rule.endswith(GLOBALLY) and scope != "global":
            return 403
        return ALLOWED if held else 403
    if scope == "global" or (rule.endswith(ANYWHERE) and scope != "global"):
        return ALLOWED if held else 403
    return 403


async def guard_answer(operation: Operation, principal: Principal | None) -> str | int:
    """What the app's guard answers: ``allowed``, or the status of the problem it raises."""
    path = operation.path.replace("{workspace_id}", str(WORKSPACE))
    scope: dict[str, Any] = {
        "type": "websocket" if operation.websocket else "http",
        "path": path,
        "method": operation.method,
        "path_params": {"workspace_id": WORKSPACE} if _in_workspace(operation) else {},
        "headers": [],
    }
    if principal is not None:
        scope["user"] = principal
    try:
        await authorize(ASGIConnection(scope), operation.handler)  # type: ignore[arg-type] # a scope with what the guard reads
    except ApiError as exc:
        return exc.status
    return ALLOWED


def test_every_route_declares_a_permission_or_is_on_the_public_list(api_app: Litestar) -> None:
    undeclared = [op.key for op in operations(api_app) if rule_of(op) is None and not is_docs_path(op.path)]
    assert undeclared == [], "these routes declare no permission: add opt=needs(...) or make them public"
    public = {op.path for op in operations(api_app) if rule_of(op) == PUBLIC and not is_docs_path(op.path)}
    assert public == PUBLIC_PATHS


def test_every_http_path_has_a_public_options_answer_and_nothing_else_is_public_by_method(api_app: Litestar) -> None:
    options = automatic_options(api_app)
    http_paths = {op.path for op in operations(api_app) if not op.websocket}
    assert {op.path for op in options} == http_paths
    assert {op.method for op in options} == PUBLIC_METHODS
    assert {rule_of(op) for op in options} == {PUBLIC}
    assert not any(op.method in PUBLIC_METHODS for op in operations(api_app)), "a route declares its own OPTIONS"


def test_the_docs_table_lists_every_route_with_its_permission(api_app: Litestar) -> None:
    actual = {op.key: rule_of(op) or PUBLIC for op in operations(api_app)}
    assert documented_rules() == actual, (
        f"docs/api.md's {TABLE_HEADING!r} is out of date; it should be:\n\n{markdown_table(actual)}"
    )


def test_every_other_table_of_routes_in_the_docs_agrees(api_app: Litestar) -> None:
    actual = {op.key: rule_of(op) or PUBLIC for op in operations(api_app)}
    text = DOCS_API.read_text(encoding="utf-8")
    rest = text.replace(section(text, TABLE_HEADING), "")
    wrong = {key: rule for key, rule in table_rows(rest).items() if actual.get(key) != rule}
    assert wrong == {}, "rows that name a route that does not exist, or another permission than its own"


@pytest.mark.parametrize("role", [None, *BUILTIN_ROLES])
async def test_the_guard_allows_and_denies_every_route_as_the_table_says(api_app: Litestar, role: str | None) -> None:
    table = documented_rules()
    mismatches = []
    checked = 0
    table.update({op.key: PUBLIC for op in automatic_options(api_app)})
    for operation in [*operations(api_app), *automatic_options(api_app)]:
        rule = table[operation.key]
        for scope in SCOPES if role is not None else ("anonymous",):
            want = expected(rule, operation, role, scope)
            got = await guard_answer(operation, _principal(role, scope))
            checked += 1
            if got != want:
                mismatches.append((operation.key, scope, want, got))
    assert checked >= 100
    assert mismatches == []


@pytest.fixture
def api_app(api: Api) -> Litestar:
    """The running app (its routes are what is walked)."""
    return _app(api)


# --- end to end: a token of each role against every HTTP operation -------------------------------

ROLE_SCOPES = [(role, scope) for role in BUILTIN_ROLES for scope in ("global", "member")]


def _concrete(operation: Operation, workspace: UUID) -> str:
    values = {
        "workspace_id": str(workspace),
        "version": "1",
        "name": "core.transform",
        "file_path": "swagger-ui.css",
        "path": "openapi.json",
    }
    path = operation.path
    for name in [part[1:-1] for part in path.split("/") if part.startswith("{")]:
        path = path.replace("{" + name + "}", values.get(name, str(uuid.uuid4())))
    return path


def _skipped(operation: Operation) -> bool:
    # Logging out revokes the token the rest of the test uses; the WebSocket has its own tests.
    return operation.websocket or operation.key == ("POST", "/api/v1/auth/logout")


async def test_a_token_of_each_role_gets_what_the_table_says_on_every_route(api: Api) -> None:
    table = documented_rules()
    table.update({op.key: PUBLIC for op in automatic_options(_app(api))})
    callers: dict[tuple[str | None, str], Headers] = {(None, "anonymous"): {}}
    for granted, where in ROLE_SCOPES:
        home = None if where == "global" else DEFAULT_WORKSPACE
        callers[(granted, where)] = await api.user(granted, workspace_id=home)
    wrong = []
    calls = 0
    for operation in [*operations(_app(api)), *automatic_options(_app(api))]:
        if _skipped(operation):
            continue
        for (role, scope), headers in callers.items():
            # "member" is a member of the default workspace; the route is called in it
            want = expected(table[operation.key], operation, role, scope)
            response = await api.client.request(
                operation.method, _concrete(operation, DEFAULT_WORKSPACE), headers=headers
            )
            calls += 1
            got = response.status_code
            refused_wrongly = want == ALLOWED and got in (401, 403)
            if got >= 500 or refused_wrongly or (want != ALLOWED and got != want):
                wrong.append((operation.key, role, scope, want, got, response.text[:200]))
    assert calls > 600
    assert wrong == []


async def test_a_member_of_one_workspace_gets_404_from_every_route_of_another(api: Api) -> None:
    other = await api.client.post("/api/v1/workspaces", json={"name": "elsewhere"}, headers=api.admin)
    elsewhere = UUID(other.json()["id"])
    headers = {role: await api.user(role) for role in BUILTIN_ROLES}
    answers = set()
    for operation in operations(_app(api)):
        if "{workspace_id}" not in operation.path:
            continue
        for role_headers in headers.values():
            response = await api.client.request(operation.method, _concrete(operation, elsewhere), headers=role_headers)
            answers.add((response.status_code, response.json()["code"]))
    assert answers == {(404, "not-found")}
