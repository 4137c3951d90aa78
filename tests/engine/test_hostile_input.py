"""What a hostile definition or input tries: schemas that fetch or read, patterns that backtrack, odd JSON.

Each test names what an attacker who can save a workflow and send any input
tried, and proves the hub answers with a problem (with a pointer) instead of
fetching, reading, hanging or raising.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tests.engine.test_validation import transform, validate, workflow
from tests.support.local_http import LocalServer
from wirehub.engine.plan import Plan
from wirehub.engine.validation.validate import Problem, read_input, validate_input

SECRET = "tok_live_5f3c9a-secret-of-a-stored-credential"


@pytest.fixture
def server() -> Iterator[LocalServer]:
    local = LocalServer()
    yield local
    local.close()


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps({"type": "object", "description": SECRET, "properties": {"x": {"const": SECRET}}}))
    return path


def plan_with_schema(schema: dict[str, Any] | None) -> Plan:
    """A plan whose input schema never went through definition validation (as if a check were missed)."""
    report = validate(workflow(transform("a")))
    assert report.plan is not None
    plan = report.plan
    if isinstance(plan, msgspec.Struct):
        return msgspec.structs.replace(plan, input_schema=schema)
    return dataclasses.replace(plan, input_schema=schema)


def codes_at(problems: list[Problem]) -> set[tuple[str, str]]:
    return {(problem.pointer, problem.code) for problem in problems}


def schema_report(schema: dict[str, Any]) -> list[Problem]:
    return validate(workflow(transform("a"), input_schema=schema)).problems


# -- 1. input schemas never fetch a URL or read a file --


def remote_targets(server: LocalServer, secret_file: Path) -> list[str]:
    return [
        server.url("/echo/x.json"),
        server.url("/echo/x.json", host="localhost"),
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        secret_file.as_uri(),
        "other.json",
        "//127.0.0.1/x.json",
    ]


@pytest.mark.parametrize("keyword", ["$ref", "$dynamicRef"])
def test_a_reference_outside_the_schema_is_a_problem_and_nothing_is_fetched(
    server: LocalServer, secret_file: Path, keyword: str
) -> None:
    for target in remote_targets(server, secret_file):
        problems = schema_report({"type": "object", "properties": {"order": {keyword: target}}})
        assert codes_at(problems) == {(f"/input_schema/properties/order/{keyword}", "schema-external-reference")}
        assert SECRET not in problems[0].message
    assert server.requests == []
    assert server.connections == 0


def test_a_reference_hidden_where_any_object_could_become_a_schema_is_found(server: LocalServer) -> None:
    # "#/const/x" makes the object inside const a schema: its $ref would be followed.
    schema = {"$ref": "#/const/x", "const": {"x": {"$ref": server.url("/echo/x.json")}}}
    assert codes_at(schema_report(schema)) == {("/input_schema/const/x/$ref", "schema-external-reference")}
    assert server.requests == []


def test_an_id_in_a_subschema_is_a_problem(server: LocalServer) -> None:
    schema = {"$defs": {"a": {"$id": server.url("/echo/"), "$ref": "x.json"}}, "$ref": "#/$defs/a"}
    assert codes_at(schema_report(schema)) == {
        ("/input_schema/$defs/a/$id", "schema-external-reference"),
        ("/input_schema/$defs/a/$ref", "schema-external-reference"),
    }
    assert server.requests == []


def test_local_references_resolve_and_dangling_ones_are_problems() -> None:
    schema = {
        "$id": "urn:example:order",
        "$defs": {"sku": {"$anchor": "sku", "type": "string", "pattern": "^[A-Z]{3}-\\d+$"}},
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/sku"}, "b": {"$ref": "#sku"}, "c": {"$ref": "#/$defs/nothing"}},
    }
    assert codes_at(schema_report(schema)) == {("/input_schema/properties/c/$ref", "invalid-input-schema")}
    del schema["properties"]["c"]  # type: ignore[attr-defined]
    report = validate(workflow(transform("a"), input_schema=schema))
    assert report.plan is not None
    assert validate_input(report.plan, {"a": "ABC-1", "b": "ABC-2"}) == []
    assert codes_at(validate_input(report.plan, {"a": "ABC-1", "b": "abc"})) == {("/b", "invalid-input")}


@pytest.mark.parametrize("which", range(6))
def test_validating_an_input_never_fetches_or_reads_even_if_the_definition_check_was_missed(
    server: LocalServer, secret_file: Path, which: int
) -> None:
    target = remote_targets(server, secret_file)[which]
    plan = plan_with_schema({"type": "object", "properties": {"x": {"$ref": target}}})
    problems = validate_input(plan, {"x": 1})
    assert codes_at(problems) == {("", "invalid-input-schema")}
    assert SECRET not in problems[0].message
    assert server.requests == []
    assert server.connections == 0


def test_a_file_reference_never_leaks_the_file(secret_file: Path) -> None:
    plan = plan_with_schema({"$ref": secret_file.as_uri()})
    problems = validate_input(plan, {"x": "anything"})
    assert problems
    assert all(SECRET not in problem.message for problem in problems)
    problems = validate_input(plan_with_schema({"$ref": secret_file.as_uri() + "#/properties/x"}), "nope")
    assert problems
    assert all(SECRET not in problem.message for problem in problems)


# -- 2. patterns run in linear time, and patterns RE2 cannot run are refused when saved --

EVIL = "^(a+)+$"
ATTACK = "a" * 5_000 + "!"


def timed(check: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = check()
    return result, time.perf_counter() - started


@pytest.mark.parametrize(
    ("schema", "value", "pointer"),
    [
        ({"type": "object", "properties": {"s": {"pattern": EVIL}}}, {"s": ATTACK}, "/s"),
        ({"type": "object", "patternProperties": {EVIL: {"type": "null"}}}, {ATTACK: 1, "aa": 1}, "/aa"),
        ({"type": "object", "patternProperties": {EVIL: True}, "additionalProperties": False}, {ATTACK: 1}, ""),
        ({"type": "object", "patternProperties": {EVIL: True}, "unevaluatedProperties": False}, {ATTACK: 1}, ""),
        ({"type": "object", "propertyNames": {"pattern": EVIL}}, {ATTACK: 1}, ""),
    ],
    ids=["pattern", "patternProperties", "additionalProperties", "unevaluatedProperties", "propertyNames"],
)
def test_catastrophic_patterns_match_in_linear_time(schema: dict[str, Any], value: Any, pointer: str) -> None:
    report = validate(workflow(transform("a"), input_schema=schema))
    assert report.plan is not None, report.problems
    problems, seconds = timed(lambda: validate_input(report.plan, value))
    assert seconds < 2  # backtracking, 29 characters took 18.6 s: these are 5,000
    assert {problem.code for problem in problems} == {"invalid-input"}
    assert any(problem.pointer.startswith(pointer) for problem in problems)


def test_patterns_still_match_what_they_should() -> None:
    schema = {
        "type": "object",
        "properties": {"sku": {"pattern": "^[A-Z]{3}-\\d{2,4}$"}, "name": {"pattern": "^\\p{L}+$"}},
        "patternProperties": {"^x-": {"type": "string"}},
        "additionalProperties": False,
    }
    report = validate(workflow(transform("a"), input_schema=schema))
    assert report.plan is not None, report.problems
    assert validate_input(report.plan, {"sku": "ABC-123", "name": "Zoë", "x-trace": "t"}) == []
    assert codes_at(validate_input(report.plan, {"sku": "ABC-1", "x-trace": 1, "other": 1})) == {
        ("/sku", "invalid-input"),
        ("/x-trace", "invalid-input"),
        ("/other", "invalid-input"),
    }


def test_patterns_re2_cannot_run_are_refused_with_a_pointer() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"pattern": "^(a)\\1$"}, "b": {"pattern": "x" * 1_001}},
        "patternProperties": {"^(?=x)": {}},
    }
    problems = schema_report(schema)
    assert codes_at(problems) == {
        ("/input_schema/properties/a/pattern", "schema-unsupported-pattern"),
        ("/input_schema/properties/b/pattern", "schema-unsupported-pattern"),
        ("/input_schema/patternProperties/^(?=x)", "schema-unsupported-pattern"),
    }
    assert "RE2" in problems[0].message


def test_a_schema_that_refers_to_itself_without_end_is_a_problem_not_a_crash() -> None:
    plan = plan_with_schema({"$ref": "#"})
    assert codes_at(validate_input(plan, {"a": 1})) == {("", "invalid-input-schema")}


# -- input limits, checked before the schema runs --


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def test_an_input_nested_too_deeply_is_refused_before_validation() -> None:
    recursive = {"$defs": {"n": {"type": ["array", "integer"], "items": {"$ref": "#/$defs/n"}}}, "$ref": "#/$defs/n"}
    for plan in (plan_with_schema(None), plan_with_schema(recursive)):
        assert codes_at(validate_input(plan, nested(5_000))) == {("/0" * 64, "input-too-deep")}
        assert validate_input(plan, nested(63)) == []


def test_an_input_too_large_is_refused() -> None:
    problems = validate_input(plan_with_schema(None), {"blob": "é" * 600_000}, at="/input")
    assert codes_at(problems) == {("/input", "input-too-large")}
    assert "MAX_INPUT_BYTES" in problems[0].message


def test_input_values_json_cannot_carry_are_refused_with_pointers() -> None:
    value = {"big": 10**5000, "inf": float("inf"), "text": "a\ud800b", "bytes": b"x", "ok": [1, 2**63 - 1]}
    assert codes_at(validate_input(plan_with_schema(None), value)) == {
        ("/big", "invalid-number"),
        ("/inf", "invalid-number"),
        ("/text", "invalid-string"),
        ("/bytes", "invalid-json"),
    }


def test_reading_an_input_gives_problems_not_tracebacks() -> None:
    assert read_input('{"a": [1, 2]}') == ({"a": [1, 2]}, [])
    for text, code in [
        ("[" * 100_000 + "]" * 100_000, "input-too-deep"),
        ("[" * 1_000 + "]" * 1_000, "input-too-deep"),
        ('{"n": 1' + "0" * 5_000 + "}", "invalid-number"),
        ('{"n": 1e400}', "invalid-number"),
        ('{"s": "\\ud800"}', "invalid-string"),
        ("x" * 1_000_001, "input-too-large"),
        ("{", "invalid-json"),
    ]:
        value, problems = read_input(text)
        assert value is None
        assert code in {problem.code for problem in problems}, (text[:20], problems)
        for problem in problems:
            problem.message.encode("utf-8")
            problem.pointer.encode("utf-8")


# -- 4. definitions: numbers and strings JSON readers choke on --


def test_a_huge_integer_in_a_definition_is_a_problem_with_a_pointer() -> None:
    text = json.dumps(workflow(transform("a"))).replace('"name": "test"', '"name": "test", "x": 1' + "0" * 5_000)
    report = validate(text)
    assert codes_at(report.problems) == {("/x", "invalid-number")}
    assert len(report.problems[0].message) < 300


def test_an_infinite_number_in_a_definition_is_a_problem() -> None:
    text = json.dumps(workflow(transform("a", timeout_seconds=1))).replace(
        '"timeout_seconds": 1', '"timeout_seconds": 1e400'
    )
    assert codes_at(validate(text).problems) == {("/steps/0/timeout_seconds", "invalid-number")}


def test_a_lone_surrogate_in_a_definition_is_a_problem_that_can_be_printed() -> None:
    text = json.dumps(workflow(transform("a", title="x\ud800"), description="y"))
    assert "\\ud800" in text
    problems = validate(text).problems
    assert codes_at(problems) == {("/steps/0/title", "invalid-string")}
    definition = workflow(transform("a"))
    definition["steps"][0]["config"]["\udc00"] = 1
    problems = validate(definition).problems
    assert codes_at(problems) == {("/steps/0/config/\\udc00", "invalid-string")}
    # Printing or storing the report is what crashed: both must work.
    str(problems).encode("utf-8")
    msgspec.json.encode(problems)


def test_a_decoded_definition_nested_beyond_the_stack_is_a_problem() -> None:
    definition = workflow(transform("a"))
    definition["steps"][0]["config"]["deep"] = nested(100_000)
    problems = validate(definition).problems
    assert {problem.code for problem in problems} == {"definition-too-deep"}


# -- schemas whose cost explodes without a large input --


def test_an_exponential_schema_stops_on_its_keyword_budget() -> None:
    levels = 40  # 2**40 evaluations of the same value without a budget
    defs: dict[str, Any] = {
        f"a{i}": {"anyOf": [{"$ref": f"#/$defs/a{i + 1}"}, {"$ref": f"#/$defs/a{i + 1}"}]} for i in range(levels)
    }
    defs[f"a{levels}"] = False
    plan = plan_with_schema({"$defs": defs, "$ref": "#/$defs/a0"})
    problems, seconds = timed(lambda: validate_input(plan, 1))
    assert codes_at(problems) == {("", "input-too-costly")}
    assert "MAX_INPUT_SCHEMA_STEPS" in problems[0].message
    assert seconds < 15


def test_unique_items_compares_objects_by_hashing() -> None:
    plan = plan_with_schema({"type": "array", "uniqueItems": True})
    items = [{"k": index, "tags": ["a", index]} for index in range(20_000)]
    problems, seconds = timed(lambda: validate_input(plan, items))
    assert problems == []
    assert seconds < 5  # pair by pair, 5,000 objects took 72 s
    assert codes_at(validate_input(plan, [*items[:3], {"tags": ["a", 1], "k": 1}])) == {("", "invalid-input")}


def test_unique_items_and_enum_keep_json_schema_equality() -> None:
    plan = plan_with_schema({"type": "array", "uniqueItems": True, "items": {"enum": [1, True, [1, {"a": None}]]}})
    assert validate_input(plan, [1, True, [1.0, {"a": None}]]) == []
    assert codes_at(validate_input(plan, [1, 1.0])) == {("", "invalid-input")}
    assert codes_at(validate_input(plan, [False])) == {("/0", "invalid-input")}


def test_enum_of_many_choices_over_many_values_is_fast() -> None:
    choices = [f"choice-{index}" for index in range(10_000)]
    plan = plan_with_schema({"type": "array", "items": {"enum": choices}})
    problems, seconds = timed(lambda: validate_input(plan, choices[::-1] * 5))
    assert problems == []
    assert seconds < 5


def test_a_root_id_naming_a_server_only_sets_the_base_and_nothing_is_fetched(server: LocalServer) -> None:
    schema = {
        "$id": server.url("/echo/schema.json"),
        "$defs": {"sku": {"type": "string"}},
        "properties": {"sku": {"$ref": "#/$defs/sku"}},
    }
    report = validate(workflow(transform("a"), input_schema=schema))
    assert report.plan is not None, report.problems
    assert codes_at(validate_input(report.plan, {"sku": 1})) == {("/sku", "invalid-input")}
    assert validate_input(report.plan, {"sku": "A"}) == []
    assert server.connections == 0
