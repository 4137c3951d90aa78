"""Every operation of the app, what its guard declares, and the table in docs/api.md that documents it.

``operations(app)`` walks ``app.routes`` (HTTP and WebSocket); ``rule_of`` reads what a
handler declares in its ``opt`` (through the guard module's own keys); ``documented_rules``
parses the ``## Permissions by route`` table of docs/api.md, and ``markdown_table`` writes the
table the routes call for (the failure message of the permissions test prints it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from litestar import Litestar
from litestar.handlers.base import BaseRouteHandler
from litestar.routes import HTTPRoute, WebSocketRoute

from wirehub.api.security.guards import SCHEMA_PATH, access_rule, is_automatic_options

DOCS_API = Path(__file__).resolve().parents[2] / "docs" / "api.md"
TABLE_HEADING = "## Permissions by route"

PUBLIC_PATHS = frozenset(
    {
        "/health/live",
        "/health/ready",
        "/api/v1/auth/token",
        "/api/v1/auth/refresh",
        "/api/v1/live",  # the WebSocket: authenticated by its single-use ticket at the handshake
    }
)
"""The only routes anyone may call, with the docs (``/schema`` and everything under it) and ``PUBLIC_METHODS``."""
PUBLIC_METHODS = frozenset({"OPTIONS"})
"""Methods anyone may call on every path: Litestar's automatic ``OPTIONS`` (204, ``Allow:`` the path's methods)."""

PUBLIC = "public"
AUTHENTICATED = "authenticated"
ANYWHERE = " (any workspace)"
GLOBALLY = " (global)"
_ROW = re.compile(r"^\|\s*([A-Z]+)\s*\|\s*`?(/[^|`\s]*)`?\s*\|\s*`?([^|`]+?)`?\s*\|\s*$")


@dataclass(frozen=True)
class Operation:
    """One method of one route, as the app serves it.

    Attributes:
        method: ``GET``, ``POST``... (a WebSocket is its ``GET`` handshake).
        path: The path template without parameter types (``/api/v1/users/{user_id}``).
        handler: The route handler that answers it.
        websocket: Whether it is the WebSocket route.
    """

    method: str
    path: str
    handler: BaseRouteHandler
    websocket: bool = False

    @property
    def key(self) -> tuple[str, str]:
        """``(method, path)``, as in the docs table."""
        return self.method, self.path


def operations(app: Litestar) -> list[Operation]:
    """Every operation of ``app``, but the OPTIONS answers Litestar adds to each path (``automatic_options``)."""
    return [op for op in _all_operations(app) if not is_automatic_options(op.handler)]


def automatic_options(app: Litestar) -> list[Operation]:
    """The OPTIONS answer Litestar adds to each HTTP path: public, and in no table (one per path)."""
    return [op for op in _all_operations(app) if is_automatic_options(op.handler)]


def _all_operations(app: Litestar) -> list[Operation]:
    found: list[Operation] = []
    for route in app.routes:
        if isinstance(route, WebSocketRoute):
            found.append(Operation("GET", route.path_format, route.route_handler, websocket=True))
        elif isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                found += [Operation(method, route.path_format, handler) for method in sorted(handler.http_methods)]
    return sorted(found, key=lambda op: (op.path, op.method))


def is_docs_path(path: str) -> bool:
    """The OpenAPI schema, its docs page and the page's assets."""
    return path == SCHEMA_PATH or path.startswith(SCHEMA_PATH + "/")


def rule_of(operation: Operation) -> str | None:
    """What the handler declares, as the docs table writes it; ``None`` when it declares nothing."""
    return access_rule(operation.handler)


def markdown_table(rows: dict[tuple[str, str], str]) -> str:
    """The docs table of ``rows`` (``(method, path) -> rule``), ordered by path and method."""
    lines = ["| METHOD | path | permission |", "| --- | --- | --- |"]
    lines += [f"| {method} | {path} | {rule} |" for (method, path), rule in sorted(rows.items(), key=_by_path)]
    return "\n".join(lines)


def _by_path(item: tuple[tuple[str, str], str]) -> tuple[str, str]:
    (method, path), _ = item
    return path, method


def table_rows(text: str) -> dict[tuple[str, str], str]:
    """Every ``| METHOD | /path | rule |`` row in ``text``."""
    rows: dict[tuple[str, str], str] = {}
    for line in text.splitlines():
        match = _ROW.match(line.strip())
        if match and match.group(1) != "METHOD":
            rows[(match.group(1), match.group(2))] = match.group(3).strip()
    return rows


def section(text: str, heading: str) -> str:
    """The text under ``heading`` up to the next heading of the same level."""
    start = text.index(heading + "\n")
    level = heading.split(" ", 1)[0]
    rest = text[start + len(heading) + 1 :]
    end = re.search(rf"^{level} ", rest, flags=re.MULTILINE)
    return rest[: end.start()] if end else rest


def documented_rules() -> dict[tuple[str, str], str]:
    """The ``## Permissions by route`` table of docs/api.md."""
    return table_rows(section(DOCS_API.read_text(encoding="utf-8"), TABLE_HEADING))
