"""Checking an execution's input: JSON it can carry, within its limits, then against ``input_schema``.

The size and depth limits and the value checks run first, without
recursion, so the schema validator (which recurses with the data) only ever
sees a bounded, well-formed value. The schema's validator comes from
``user_schema``: it fetches nothing, reads nothing and matches patterns with
RE2.
"""

from __future__ import annotations

from typing import Any

import msgspec

from wirehub.engine.language import limits
from wirehub.engine.language.jsonsource import INPUT, parse_document, value_problems
from wirehub.engine.language.problems import Problem, sort_key
from wirehub.engine.plan import Plan
from wirehub.engine.validation.patterns import UnsupportedPatternError
from wirehub.engine.validation.schema_errors import SchemaErrorWriter
from wirehub.engine.validation.user_schema import SchemaTooCostlyError, cached_user_validator, keyword_budget

MAX_INPUT_PROBLEMS = 1_000
"""A list of input problems stops at this many."""


def read_input(source: str | bytes) -> tuple[Any, list[Problem]]:
    """Decodes an execution input written as JSON text (a command line's ``--input``, a file).

    Applies the input's limits (``MAX_INPUT_BYTES``, ``MAX_INPUT_DEPTH``) and
    refuses what JSON consumers cannot carry (integers past 64 bits, lone
    surrogates), each with a pointer; duplicate keys are problems too.

    Returns:
        The value and the problems; use the value only when there are none.
    """
    document = parse_document(source, kind=INPUT)
    return document.value, document.problems


def validate_input(plan: Plan, value: Any, *, at: str = "") -> list[Problem]:
    """Checks an execution's input: its limits and values, then the workflow's ``input_schema``.

    Pointers point into the input itself (``""`` is the whole input,
    ``/order_id`` one member). A caller that received the input inside a
    larger document passes where it sits there as ``at`` (the API passes
    ``"/input"``).

    Args:
        plan: The compiled workflow.
        value: The execution input (decoded JSON).
        at: Pointer prefix for the problems.

    Returns:
        Every problem, in document order; empty when the input fits.
    """
    problems = value_problems(value, INPUT, at)
    if problems:
        return _finish(problems)
    if plan.input_schema is None:
        return []
    validator = cached_user_validator(msgspec.json.encode(plan.input_schema))
    writer = SchemaErrorWriter(plan.input_schema, at, "the input")
    try:
        with keyword_budget(limits.MAX_INPUT_SCHEMA_STEPS):
            found = writer.problems(validator.iter_errors(value))
    except SchemaTooCostlyError:
        return [
            Problem(
                at,
                f"Checking the input against the input schema took more than {limits.MAX_INPUT_SCHEMA_STEPS} "
                "keyword evaluations (MAX_INPUT_SCHEMA_STEPS): simplify the schema (nested anyOf/oneOf over "
                "references multiply) or send a smaller input.",
                "input-too-costly",
            )
        ]
    except UnsupportedPatternError as exc:
        # Refused when the definition is validated; a plan built another way still gets a clear answer.
        return [Problem(at, f"The input schema has a pattern the hub cannot run: {exc}.", "invalid-input-schema")]
    except RecursionError:
        return [
            Problem(
                at,
                "The input could not be checked: the input schema refers to itself without reaching the input's end.",
                "invalid-input-schema",
            )
        ]
    except Exception as exc:
        # An unresolvable $ref (or a schema jsonschema cannot apply) only shows when validating.
        reason = type(exc).__name__
        return [
            Problem(at, f"The input could not be checked against the input schema ({reason}).", "invalid-input-schema")
        ]
    return _finish([Problem(p.pointer, p.message, "invalid-input") for p in found])


def _finish(problems: list[Problem]) -> list[Problem]:
    ordered = sorted(problems, key=sort_key)
    return ordered[:MAX_INPUT_PROBLEMS]
