"""Validators for schemas a user wrote: nothing fetched, nothing read, patterns matched by RE2.

Left to its defaults, jsonschema resolves a ``$ref`` it does not know by
fetching it (``urlopen`` on any ``http(s)://`` or ``file:`` URI) and matches
``pattern`` and ``patternProperties`` with Python's backtracking ``re``. A
validator built by ``user_validator`` has an empty ``referencing.Registry``,
so an unknown reference raises ``Unresolvable`` instead, and matches every
pattern with RE2 (``patterns``), including where ``additionalProperties``
and ``unevaluatedProperties`` consult ``patternProperties``.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import msgspec
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError
from referencing import Registry

from wirehub.engine.validation.patterns import search

# The keyword functions below are jsonschema's own (4.26), with ``re.search``
# replaced by RE2's; their signatures follow jsonschema's keyword protocol.


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Any, properties: dict[str, Any], instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in properties.items():
        for key, value in instance.items():
            if search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional(instance: dict[str, Any], schema: dict[str, Any]) -> Iterator[str]:
    properties = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    for key in instance:
        if key not in properties and not any(search(pattern, key) for pattern in patterns):
            yield key


def _additional_properties(
    validator: Any, additional: Any, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    extras = sorted(_additional(instance, schema))
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        listed = ", ".join(repr(extra) for extra in extras)
        yield ValidationError(f"Additional properties are not allowed ({listed} unexpected)")


def _is_valid(errors: Iterator[ValidationError]) -> bool:
    return next(errors, None) is None


def _evaluated_keys(validator: Any, instance: dict[str, Any], schema: Any) -> list[str]:
    """The members ``schema`` evaluates, for ``unevaluatedProperties`` (jsonschema's walk, with RE2)."""
    if validator.is_type(schema, "boolean"):
        return []
    keys: list[str] = []
    for keyword in ("$ref", "$dynamicRef"):
        reference = schema.get(keyword)
        if reference is not None:
            resolved = validator._resolver.lookup(reference)
            evolved = validator.evolve(schema=resolved.contents, _resolver=resolved.resolver)
            keys += _evaluated_keys(evolved, instance, resolved.contents)
    properties = schema.get("properties")
    if validator.is_type(properties, "object"):
        keys += properties.keys() & instance.keys()
    for keyword in ("additionalProperties", "unevaluatedProperties"):
        subschema = schema.get(keyword)
        if subschema is not None:
            keys += (key for key, value in instance.items() if _is_valid(validator.descend(value, subschema)))
    for pattern in schema.get("patternProperties", {}):
        keys += (key for key in instance if search(pattern, key))
    for key, subschema in schema.get("dependentSchemas", {}).items():
        if key in instance:
            keys += _evaluated_keys(validator, instance, subschema)
    for keyword in ("allOf", "oneOf", "anyOf"):
        for subschema in schema.get(keyword, []):
            if _is_valid(validator.descend(instance, subschema)):
                keys += _evaluated_keys(validator, instance, subschema)
    if "if" in schema:
        if validator.evolve(schema=schema["if"]).is_valid(instance):
            keys += _evaluated_keys(validator, instance, schema["if"])
            if "then" in schema:
                keys += _evaluated_keys(validator, instance, schema["then"])
        elif "else" in schema:
            keys += _evaluated_keys(validator, instance, schema["else"])
    return keys


def _unevaluated_properties(
    validator: Any, unevaluated: Any, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    evaluated = set(_evaluated_keys(validator, instance, schema))
    invalid = [
        key
        for key in instance
        if key not in evaluated
        and not _is_valid(validator.descend(instance[key], unevaluated, path=key, schema_path=key))
    ]
    if not invalid:
        return
    listed = ", ".join(repr(key) for key in sorted(invalid))
    if unevaluated is False:
        yield ValidationError(f"Unevaluated properties are not allowed ({listed} unexpected)")
    else:
        yield ValidationError(f"Unevaluated properties are not valid under the given schema ({listed})")


def _canonical(value: Any) -> Any:
    """A hashable key equal for two values exactly when JSON Schema calls them equal.

    ``1`` and ``1.0`` are equal, ``true`` and ``1`` are not, objects compare
    regardless of member order. Recursion follows the value's nesting,
    which the input checks have capped.
    """
    if isinstance(value, bool) or value is None:
        return ("literal", value)
    if isinstance(value, int | float):
        return ("number", value)  # hash(1) == hash(1.0) and 1 == 1.0
    if isinstance(value, str):
        return ("string", value)
    if isinstance(value, list):
        return ("array", tuple(_canonical(item) for item in value))
    if isinstance(value, dict):
        return ("object", frozenset((key, _canonical(member)) for key, member in value.items()))
    return ("other", id(value))


def _unique_items(validator: Any, unique: Any, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    # jsonschema compares unsortable items (objects) pair by pair: 5,000 objects took 72 s.
    if unique and validator.is_type(instance, "array"):
        keys = [_canonical(item) for item in instance]
        if len(set(keys)) != len(keys):
            yield ValidationError(f"{_short(instance)} has non-unique elements")


def _enum(validator: Any, choices: Any, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    # One hashed lookup instead of a comparison with every choice, for every value checked.
    allowed = _choices(choices) if isinstance(choices, list) else None
    if allowed is not None and _canonical(instance) not in allowed:
        yield ValidationError(f"{_short(instance)} is not one of {_short(choices)}")
    elif allowed is None:
        yield from Draft202012Validator.VALIDATORS["enum"](validator, choices, instance, schema)


_enum_keys: dict[int, tuple[list[Any], frozenset[Any]]] = {}


def _choices(choices: list[Any]) -> frozenset[Any]:
    """The canonical keys of an ``enum``, computed once per list (kept alive beside its keys)."""
    cached = _enum_keys.get(id(choices))
    if cached is None or cached[0] is not choices:
        cached = (choices, frozenset(_canonical(choice) for choice in choices))
        if len(_enum_keys) > 4096:
            _enum_keys.clear()
        _enum_keys[id(choices)] = cached
    return cached[1]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


class SchemaTooCostlyError(Exception):
    """Checking one input took more keyword evaluations than its budget allows."""


_spent: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("input_schema_steps", default=None)


@contextmanager
def keyword_budget(limit: int) -> Iterator[None]:
    """Bounds the keyword evaluations of the user validators run inside the block.

    A schema can be exponential without any input being large: ``anyOf``
    of two references to a definition that is itself ``anyOf`` of two
    references... evaluates the same value 2**n times. Counting keyword
    evaluations stops it, deterministically.

    Raises:
        SchemaTooCostlyError: From the validator, past ``limit`` evaluations.
    """
    token = _spent.set([0, limit])
    try:
        yield
    finally:
        _spent.reset(token)


KeywordFunction = Callable[[Any, Any, Any, Any], Any]
_REFERENCES = frozenset({"$ref", "$dynamicRef"})


REFERENCE_COST = 10
"""Steps a ``$ref`` or ``$dynamicRef`` costs: resolving and descending is about ten times another keyword's work."""


def _counted(function: KeywordFunction, cost: int) -> KeywordFunction:
    def counted(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
        spent = _spent.get()
        if spent is not None:
            spent[0] += cost
            if spent[0] > spent[1]:
                raise SchemaTooCostlyError(f"more than {spent[1]} steps")
        return function(validator, value, instance, schema)

    return counted


_OVERRIDES: dict[str, KeywordFunction] = {
    "pattern": _pattern,
    "patternProperties": _pattern_properties,
    "additionalProperties": _additional_properties,
    "unevaluatedProperties": _unevaluated_properties,
    "uniqueItems": _unique_items,
    "enum": _enum,
}


def _keywords() -> dict[str, KeywordFunction]:
    """Every keyword of Draft 2020-12, with the overrides above, each counted."""
    table: dict[str, KeywordFunction] = {}
    for keyword, function in Draft202012Validator.VALIDATORS.items():
        chosen = _OVERRIDES.get(keyword) or function
        if chosen is not None:
            table[keyword] = _counted(chosen, REFERENCE_COST if keyword in _REFERENCES else 1)
    return table


UserSchemaValidator = validators.extend(  # type: ignore[no-untyped-call]  # jsonschema leaves extend untyped
    Draft202012Validator, validators=_keywords()
)
"""Draft 2020-12 with every regular expression matched by RE2, comparisons hashed, and every keyword counted."""


def user_validator(schema: dict[str, Any] | bool) -> Any:
    """A validator for a schema from a definition: local references only, RE2 patterns, no format assertions.

    ``format`` stays an annotation (the default of JSON Schema 2020-12), so
    no format check runs a regular expression of jsonschema's on user data.
    """
    return UserSchemaValidator(schema, registry=Registry())


@lru_cache(maxsize=256)
def cached_user_validator(schema_json: bytes) -> Any:
    """``user_validator`` for a schema given as its JSON, built once per distinct schema."""
    return user_validator(msgspec.json.decode(schema_json))
