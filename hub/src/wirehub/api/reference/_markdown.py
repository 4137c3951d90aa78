"""docs/api-reference.md, rendered from the OpenAPI document: a section per tag, an entry per operation, the schemas."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

_METHODS = ("get", "post", "put", "patch", "delete", "head")
_REF = "#/components/schemas/"
_SPACES = re.compile(r"\s+")


def render_markdown(document: Mapping[str, Any], rules: Mapping[tuple[str, str], str], *, command: str) -> str:
    """The API reference page.

    Args:
        document: The OpenAPI document (``/schema/openapi.json``).
        rules: Each operation's access rule, by ``(METHOD, path)`` (``wirehub.api.security.guards.access_rule``).
        command: The command that regenerates the page, quoted at its top.
    """
    by_tag: dict[str, list[tuple[str, str, Mapping[str, Any]]]] = {}
    for path, method, operation in _operations(document):
        tag = (operation.get("tags") or ["other"])[0]
        by_tag.setdefault(tag, []).append((path, method, operation))
    schemas: Mapping[str, Any] = document.get("components", {}).get("schemas", {})
    lines = _intro(document, command, sorted(by_tag)) + _statuses(document)
    for tag in sorted(by_tag):
        lines += [f"## {tag}", ""]
        for path, method, operation in by_tag[tag]:
            lines += _operation(path, method, operation, rules.get((method.upper(), path), "(not declared)"))
    lines += ["## Schemas", "", "The bodies named above, as the document's `components/schemas` define them.", ""]
    for name in sorted(schemas):
        lines += _schema(name, schemas[name])
    return "\n".join(lines).rstrip("\n") + "\n"


def _operations(document: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    paths: Mapping[str, Any] = document.get("paths", {})
    for path in sorted(paths):
        for method in _METHODS:
            operation = paths[path].get(method)
            if isinstance(operation, Mapping):
                yield path, method, operation


def _intro(document: Mapping[str, Any], command: str, tags: list[str]) -> list[str]:
    info = document.get("info", {})
    return [
        "# API reference",
        "",
        f"<!-- generated from the app's OpenAPI document by `{command}`; do not edit -->",
        "",
        f"Every operation of the {info.get('title', 'wirehub')} API {info.get('version', '')}, generated from its",
        "OpenAPI 3.1 document ([openapi.json](openapi.json), what `GET /schema/openapi.json` serves), one section",
        "per tag. [api.md](api.md) is the guide: authentication, pagination, errors, the WebSocket and",
        "examples that run. `tests/api/test_api_reference.py` fails when this page or openapi.json is not",
        "what the app generates.",
        "",
        "Each entry gives the operation's method and path, the permission its guard checks (as in",
        "[Permissions by route](api.md#permissions-by-route)), its parameters, its request body's schema",
        "and its responses. Every error is a problem-details body (`ProblemDetails`, `application/problem+json`)",
        "whose `code` is one of those listed with its status ([Errors](api.md#errors-and-bad-input)):",
        "",
        "Tags: " + ", ".join(f"[{tag}](#{_slug(tag)})" for tag in tags) + "; [schemas](#schemas).",
        "",
        "Error statuses, whichever operation answers them:",
        "",
    ]


def _statuses(document: Mapping[str, Any]) -> list[str]:
    """What each error status means, once (the operations' responses all say the same)."""
    meanings: dict[str, str] = {}
    for _, _, operation in _operations(document):
        for status, response in operation.get("responses", {}).items():
            if status.startswith(("4", "5")) and isinstance(response, Mapping):
                meanings.setdefault(status, _text(response.get("description", "")))
    lines = ["| error status | meaning |", "| --- | --- |"]
    lines += [_row([status, meanings[status]]) for status in sorted(meanings)]
    return [*lines, ""]


def _operation(path: str, method: str, operation: Mapping[str, Any], rule: str) -> list[str]:
    lines = [f"### {operation.get('summary') or method.upper() + ' ' + path}", ""]
    lines += [f"`{method.upper()} {path}` · permission: `{rule}`", ""]
    if operation.get("description"):
        lines += [_text(operation["description"]), ""]
    parameters = [p for p in operation.get("parameters", []) if isinstance(p, Mapping)]
    if parameters:
        lines += ["| parameter | in | type | required | description |", "| --- | --- | --- | --- | --- |"]
        for parameter in parameters:
            schema = parameter.get("schema", {})
            description = parameter.get("description") or schema.get("description") or ""
            cells = [
                f"`{parameter['name']}`",
                parameter.get("in", ""),
                _type(schema),
                "yes" if parameter.get("required") else "no",
                _text(description),
            ]
            lines.append(_row(cells))
        lines.append("")
    body = operation.get("requestBody")
    if isinstance(body, Mapping):
        kinds = [
            f"{_type(media.get('schema', {}))} (`{kind}`)" for kind, media in sorted(body.get("content", {}).items())
        ]
        required = ", required" if body.get("required") else ", optional"
        described = f": {_text(body['description'])}" if body.get("description") else ""
        lines += ["Request body: " + " or ".join(kinds) + required + described, ""]
    lines += ["| status | response | problem codes |", "| --- | --- | --- |"]
    responses: Mapping[str, Any] = operation.get("responses", {})
    for status in sorted(responses):
        lines.append(_row([status, *_response(responses[status])]))
    lines.append("")
    return lines


def _response(response: Mapping[str, Any]) -> tuple[str, str]:
    content: Mapping[str, Any] = response.get("content") or {}
    problem = content.get("application/problem+json")
    if isinstance(problem, Mapping):
        schema = problem.get("schema", {})
        codes = [_codes(part) for part in schema.get("allOf", [schema])]
        listed = next((found for found in codes if found), [])
        return "problem", ", ".join(f"`{code}`" for code in listed)
    bodies = [f"{_type(media.get('schema', {}))}" for _, media in sorted(content.items())]
    return (" or ".join(bodies) if bodies else _text(response.get("description", "no body"))), ""


def _codes(schema: Mapping[str, Any]) -> list[str]:
    code = schema.get("properties", {}).get("code", {})
    return [str(value) for value in code.get("enum", [])]


def _schema(name: str, schema: Mapping[str, Any]) -> list[str]:
    lines = [f"### {name} (schema)", ""]
    if schema.get("description"):
        lines += [_text(schema["description"]), ""]
    properties: Mapping[str, Any] = schema.get("properties") or {}
    if not properties:
        lines += [f"Type: {_type(schema)}.", ""]
        return lines
    required = set(schema.get("required", []))
    lines += ["| field | type | required | description |", "| --- | --- | --- | --- |"]
    for field in sorted(properties):
        value = properties[field]
        cells = [f"`{field}`", _type(value), "yes" if field in required else "no", _text(value.get("description", ""))]
        lines.append(_row(cells))
    lines.append("")
    return lines


def _type(schema: Any) -> str:
    """A schema in a few words: a named schema links to its entry, ``array of ...``, ``a or b``..."""
    if not isinstance(schema, Mapping):
        return "any"
    if "$ref" in schema:
        name = str(schema["$ref"]).removeprefix(_REF)
        return f"[`{name}`](#{_slug(name + ' (schema)')})"
    for combinator in ("oneOf", "anyOf"):
        if combinator in schema:
            options = [_type(option) for option in schema[combinator]]
            nullable = "null" in options
            text = " or ".join(option for option in options if option != "null") or "null"
            return text + (", nullable" if nullable else "")
    if "allOf" in schema:
        return " and ".join(_type(part) for part in schema["allOf"])
    if "enum" in schema:
        return "one of " + ", ".join(f"`{json.dumps(value)}`" for value in schema["enum"])
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(str(item) for item in kind)
    if kind == "array":
        return "array of " + _type(schema.get("items", {}))
    if kind is None:
        return "any"
    text = str(kind) + (f" ({schema['format']})" if "format" in schema else "")
    if "default" in schema:
        text += f", default `{json.dumps(schema['default'])}`"
    return text


def _slug(heading: str) -> str:
    """The anchor a Markdown renderer (GitHub's) gives a heading."""
    return re.sub(r"[^a-z0-9 _-]", "", heading.lower()).replace(" ", "-")


def _text(value: object) -> str:
    return _SPACES.sub(" ", str(value)).strip()


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"
