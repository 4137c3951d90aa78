"""Checking a workflow's ``input_schema`` when the definition is saved.

Besides being valid JSON Schema 2020-12, an input schema must be
self-contained: every ``$ref`` and ``$dynamicRef`` points inside it
(``#/$defs/...`` or ``#anchor``) and resolves there, and no subschema
declares an ``$id`` of its own (which would move the base that references
resolve against). Every ``pattern`` and ``patternProperties`` key must be a
regular expression RE2 accepts. Each problem points at the offending value.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema_specifications import REGISTRY as SPECIFICATIONS
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from wirehub.engine.language.problems import Problem, join
from wirehub.engine.validation.patterns import pattern_problem
from wirehub.engine.validation.schema_errors import SchemaErrorWriter

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_REFERENCES = ("$ref", "$dynamicRef")


@cache
def _meta_validator() -> Draft202012Validator:
    """Checks schemas as ``check_schema`` does, but lists every error.

    The ``regex`` format is left out: Python's ``re`` would judge the
    patterns, while RE2 is what runs them (see ``pattern_problems``).
    """
    formats = [name for name in Draft202012Validator.FORMAT_CHECKER.checkers if name != "regex"]
    # The metaschemas ship with jsonschema: this registry holds them and retrieves nothing.
    return Draft202012Validator(
        Draft202012Validator.META_SCHEMA, format_checker=FormatChecker(formats), registry=SPECIFICATIONS
    )


def schema_problems(schema: dict[str, Any], at: str) -> list[Problem]:
    """Every problem of an input schema: dialect, JSON Schema validity, references, patterns.

    Args:
        schema: The schema (a workflow's ``input_schema``).
        at: Pointer of the schema within the definition.
    """
    dialect = schema.get("$schema")
    if dialect is not None and dialect not in (SCHEMA_DIALECT, SCHEMA_DIALECT + "#"):
        return [
            Problem(
                join(at, "$schema"),
                f"Input schemas use JSON Schema 2020-12; remove $schema or set it to {SCHEMA_DIALECT}.",
                "invalid-input-schema",
            )
        ]
    writer = SchemaErrorWriter(Draft202012Validator.META_SCHEMA, at, "the input schema")
    found = writer.problems(_meta_validator().iter_errors(schema))
    problems = [
        Problem(
            problem.pointer, f"The input schema is not valid JSON Schema: {problem.message}", "invalid-input-schema"
        )
        for problem in found
    ]
    references: list[tuple[str, str]] = []
    for location, key, value, root in _members(schema, at):
        if key in _REFERENCES and isinstance(value, str):
            if value.startswith("#"):
                references.append((location, value))
            else:
                problems.append(_external(location, key, value))
        elif key == "$id" and isinstance(value, str) and not root:
            problems.append(
                Problem(
                    location,
                    "A subschema of the input schema cannot declare its own $id: references resolve within "
                    "the input schema only. Remove it, and point at the subschema with #/... or an $anchor.",
                    "schema-external-reference",
                )
            )
        elif key == "pattern" and isinstance(value, str):
            problems += _pattern(location, value, "pattern")
        elif key == "patternProperties" and isinstance(value, dict):
            for pattern in value:
                problems += _pattern(join(location, pattern), pattern, "patternProperties key")
    problems += _unresolved(schema, references)
    return problems


def _members(schema: dict[str, Any], at: str) -> list[tuple[str, str, Any, bool]]:
    """``(pointer, key, value, in the root object)`` of every object member anywhere in ``schema``.

    Every object counts, not only those in subschema positions: a ``$ref``
    may point anywhere in the document (into a ``const``, or an unknown
    keyword) and make the object there a schema.
    """
    found: list[tuple[str, str, Any, bool]] = []
    stack: list[tuple[Any, str]] = [(schema, at)]
    while stack:
        node, location = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                here = join(location, key)
                found.append((here, key, value, node is schema))
                stack.append((value, here))
        elif isinstance(node, list):
            stack.extend((value, join(location, index)) for index, value in enumerate(node))
    return found


def _external(location: str, key: str, value: str) -> Problem:
    shown = value if len(value) <= 100 else value[:97] + "..."
    return Problem(
        location,
        f'{key} "{shown}" points outside the input schema. Input schemas are self-contained: nothing is '
        "fetched or read for them. Copy the subschema under $defs and refer to it as #/$defs/<name>.",
        "schema-external-reference",
    )


def _pattern(location: str, pattern: str, what: str) -> list[Problem]:
    reason = pattern_problem(pattern)
    if reason is None:
        return []
    return [
        Problem(
            location,
            f"This {what} is not a regular expression the hub can run ({reason}). Patterns run on RE2, "
            "which has no backreferences or lookaround.",
            "schema-unsupported-pattern",
        )
    ]


def _unresolved(schema: dict[str, Any], references: list[tuple[str, str]]) -> list[Problem]:
    """Local references that do not resolve within the schema."""
    if not references:
        return []
    try:
        resource = DRAFT202012.create_resource(schema)
        base = resource.id() or ""
        resolver = Registry().with_resource(base, resource).resolver(base_uri=base)
    except Exception:
        return []  # not a valid schema: already reported by the metaschema check
    problems: list[Problem] = []
    for location, reference in references:
        try:
            resolver.lookup(reference)
        except Exception:
            # referencing's messages print the whole schema; ours name the reference only.
            shown = reference if len(reference) <= 100 else reference[:97] + "..."
            problems.append(
                Problem(
                    location,
                    f'The reference "{shown}" does not resolve within the input schema.',
                    "invalid-input-schema",
                )
            )
    return problems
