"""Turning JSON Schema validation errors into problems a person can read.

``jsonschema`` reports every violation (msgspec stops at the first), so the
validator runs a document through the JSON Schema of its Structs to list
them all, and this module words each one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from jsonschema.exceptions import ValidationError

from wirehub.engine.language import limits
from wirehub.engine.language.problems import Problem, join, pointer

_TYPE_WORDS = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}
_PLACES = {"Workflow": "the workflow", "Step": "a step", "RetryPolicy": "a retry policy", "Catch": "a catch route"}


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def _show(value: Any, limit: int = 60) -> str:
    """A short rendering of a value for a message: strings quoted, numbers as is, others by type."""
    if isinstance(value, str):
        text = f'"{value}"'
        return text if len(text) <= limit else text[: limit - 4] + '..."'
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        return repr(value)[:limit]
    return _TYPE_WORDS.get(json_type(value), json_type(value))


class SchemaErrorWriter:
    """Words ``jsonschema`` errors as problems.

    Args:
        root_schema: The schema validated against (to resolve local ``$ref``s).
        base: Pointer of the validated document within the reported document.
        place: How to name an object with no title, e.g. ``"the config of core.http"``.
    """

    def __init__(self, root_schema: dict[str, Any], base: str = "", place: str = "this object") -> None:
        self.root = root_schema
        self.base = base
        self.place = place
        self._seen: set[tuple[str, str]] = set()

    def problems(self, errors: Iterable[ValidationError]) -> list[Problem]:
        """One problem per violation (a missing field or unknown field each count once)."""
        found: list[Problem] = []
        for error in errors:
            found.extend(self._describe(error))
        return found

    def _at(self, error: ValidationError, *extra: str | int) -> str:
        return join(self.base, *error.absolute_path, *extra)

    def _place(self, schema: dict[str, Any]) -> str:
        title = schema.get("title")
        return _PLACES.get(title, self.place) if isinstance(title, str) else self.place

    def _once(self, location: str, message: str, code: str) -> list[Problem]:
        if (location, message) in self._seen:
            return []
        self._seen.add((location, message))
        return [Problem(location, message, code)]

    def _describe(self, error: ValidationError) -> list[Problem]:
        kind, value, instance = str(error.validator), error.validator_value, error.instance
        schema = error.schema if isinstance(error.schema, dict) else {}
        if kind in ("anyOf", "oneOf") and error.context:
            return self._describe_union(error)
        if kind == "required" and isinstance(instance, dict):
            found: list[Problem] = []
            for name in _as_list(value):
                if name not in instance:
                    message = f'The field "{name}" is missing from {self._place(schema)}; it is required.'
                    found += self._once(self._at(error), message, "missing-field")
            return found
        if kind == "additionalProperties" and value is False and isinstance(instance, dict):
            known = list(schema.get("properties", {}))
            expected = f"; expected one of: {', '.join(known)}" if known else "; it takes no fields"
            return [
                *(
                    problem
                    for key in instance
                    if key not in known
                    for problem in self._once(
                        self._at(error, key),
                        f'Unknown field "{key}" in {self._place(schema)}{expected}.',
                        "unknown-field",
                    )
                )
            ]
        message, code = _wording(kind, value, instance, schema, error.message)
        return [Problem(self._at(error), message, code)]

    def _describe_union(self, error: ValidationError) -> list[Problem]:
        """Explains a value that fits none of several shapes, through the shape its type suggests."""
        branches: dict[int, list[ValidationError]] = {}
        for sub in error.context or ():
            branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
        depth = len(error.absolute_path)
        fitting: list[list[ValidationError]] = [
            errors
            for errors in branches.values()
            if not any(sub.validator in ("type", "const", "enum") and len(sub.absolute_path) == depth for sub in errors)
        ]
        if fitting:
            smallest: list[ValidationError] = min(fitting, key=len)
            return self.problems(smallest)
        for sub in error.context or ():
            if sub.validator in ("enum", "const") and len(sub.absolute_path) == depth:
                return self._describe(sub)
        wanted = [self._branch_type(branch) for branch in _as_list(error.validator_value)]
        words = [_TYPE_WORDS.get(name, name) for name in dict.fromkeys(wanted) if name]
        expected = ", ".join(words[:-1]) + f" or {words[-1]}" if len(words) > 1 else (words or ["another value"])[0]
        return [Problem(self._at(error), f"Expected {expected}, got {_show(error.instance)}.", "wrong-type")]

    def _branch_type(self, branch: Any) -> str:
        while isinstance(branch, dict) and "$ref" in branch and str(branch["$ref"]).startswith("#/"):
            target: Any = self.root
            for token in str(branch["$ref"])[2:].split("/"):
                target = target.get(token, {}) if isinstance(target, dict) else {}
            branch = target
        kind = branch.get("type", "") if isinstance(branch, dict) else ""
        return kind if isinstance(kind, str) else "/".join(kind)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


EXPRESSION_FORMAT = "wirehub-expression"
"""The JSON Schema ``format`` of expressions, in the language and in ``wirehub_sdk.Expression``."""


def _expression_wording(kind: str, instance: Any) -> tuple[str, str] | None:
    """An expression too long or empty is worded and coded as the expression checks word it, wherever it is."""
    if kind == "maxLength" and isinstance(instance, str):
        return (
            f"Invalid expression: the expression is {len(instance)} characters long; the limit is "
            f"{limits.MAX_EXPRESSION_LENGTH} (MAX_EXPRESSION_LENGTH).",
            "expression-too-long",
        )
    if kind == "minLength":
        return "Invalid expression: the expression is empty.", "expression-empty"
    return None


def _wording(kind: str, value: Any, instance: Any, schema: dict[str, Any], fallback: str) -> tuple[str, str]:
    """The message and code of a single-keyword violation."""
    if schema.get("format") == EXPRESSION_FORMAT:
        worded = _expression_wording(kind, instance)
        if worded is not None:
            return worded
    if kind == "type":
        names = [value] if isinstance(value, str) else list(value)
        expected = " or ".join(_TYPE_WORDS.get(name, name) for name in names)
        return f"Expected {expected}, got {_show(instance)}.", "wrong-type"
    if kind == "pattern":
        about = schema.get("description")
        tail = f": {about}" if isinstance(about, str) else "."
        return f"{_show(instance)} does not match the pattern {value}{tail}", "invalid-format"
    bounds = {
        "minimum": "at least",
        "maximum": "at most",
        "exclusiveMinimum": "greater than",
        "exclusiveMaximum": "less than",
    }
    if kind in bounds:
        return f"Must be {bounds[kind]} {value:g}, got {_show(instance)}.", "out-of-range"
    sizes = {
        "minLength": ("at least", "characters", len),
        "maxLength": ("at most", "characters", len),
        "minItems": ("at least", "items", len),
        "maxItems": ("at most", "items", len),
        "minProperties": ("at least", "members", len),
        "maxProperties": ("at most", "members", len),
    }
    if kind in sizes:
        how, unit, measure = sizes[kind]
        if kind in ("minLength", "minItems", "minProperties") and value == 1:
            return "Must not be empty.", "invalid-length"
        return f"Must have {how} {value} {unit}; it has {measure(instance)}.", "invalid-length"
    if kind == "enum":
        return (
            f"Must be one of: {', '.join(_show(choice) for choice in value)}; got {_show(instance)}.",
            "invalid-value",
        )
    if kind == "const":
        return f"Must be {_show(value)}, got {_show(instance)}.", "invalid-value"
    if kind == "format":
        return f"{_show(instance)} is not a valid {value}.", "invalid-format"
    if kind == "uniqueItems":
        return "The items must be unique.", "invalid-value"
    return (fallback if len(fallback) <= 300 else fallback[:297] + "..."), "invalid-value"


def problems_from_msgspec(message: str, base: str) -> Problem:
    """A problem from a ``msgspec.ValidationError`` message (``"... - at `$.a[0].b`"``).

    Used when msgspec rejects what the JSON Schema accepted (``1.0`` for an
    integer, say), so the one error msgspec gives is still located.
    """
    text, _, path = message.rpartition(" - at `")
    if not text:
        return Problem(base, message.rstrip(".") + ".", "invalid-value")
    tokens: list[str | int] = []
    for part in path.rstrip("`").removeprefix("$").replace("[", ".[").split("."):
        if not part:
            continue
        if part.startswith("["):
            inner = part[1:-1]
            if not inner.isdigit():
                break  # a dict key msgspec does not name: point at the object
            tokens.append(int(inner))
        else:
            tokens.append(part)
    return Problem(base + pointer(*tokens), text.rstrip(".") + ".", "invalid-value")
