"""Definition validation: every kind of problem, with its pointer and message, all at once."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import msgspec
import pytest

from wirehub.engine.language import limits
from wirehub.engine.plan import EdgeKind
from wirehub.engine.validation.validate import Problem, ValidationReport, validate_definition, validate_input
from wirehub_sdk import Expression, NodeType

# -- node types of a small catalog --


class TransformConfig(msgspec.Struct, forbid_unknown_fields=True):
    expression: Expression
    label: str = ""


class Transform(NodeType):
    name = "test.transform"
    Config = TransformConfig


class Branch(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    when: Expression


class RouteConfig(msgspec.Struct, forbid_unknown_fields=True):
    branches: list[Branch]
    default: str = "otherwise"


class Route(NodeType):
    name = "test.route"
    Config = RouteConfig

    @classmethod
    def branches(cls, config: RouteConfig) -> list[str]:
        return [branch.name for branch in config.branches] + [config.default]


class GreetV1Config(msgspec.Struct, forbid_unknown_fields=True):
    greeting: str


class GreetV2Config(msgspec.Struct, forbid_unknown_fields=True):
    message: str
    loud: bool = False


class GreetV1(NodeType):
    name = "test.greet"
    version = 1
    Config = GreetV1Config


class GreetV2(NodeType):
    name = "test.greet"
    version = 2
    Config = GreetV2Config

    @classmethod
    def migrate_config(cls, from_version: int, config: dict[str, Any]) -> dict[str, Any] | None:
        if from_version == 1:
            return {"message": config["greeting"]}
        return None


class GreetV3(NodeType):
    """Version 3 ships a migration from 2 only: configs of version 1 cannot reach it."""

    name = "test.greet"
    version = 3
    Config = GreetV2Config

    @classmethod
    def migrate_config(cls, from_version: int, config: dict[str, Any]) -> dict[str, Any] | None:
        return dict(config) if from_version == 2 else None


class Catalog:
    """The node types a test installs, and the plugins that failed to load."""

    def __init__(
        self, types: Mapping[str, Mapping[int, type[NodeType]]], failed: Mapping[str, str] | None = None
    ) -> None:
        self.types = types
        self.failed = failed or {}

    def node_type_versions(self, name: str) -> Mapping[int, type[NodeType]]:
        return self.types.get(name, {})

    def node_type_names(self) -> list[str]:
        return sorted(self.types)

    def unavailable_reason(self, name: str) -> str | None:
        return self.failed.get(name.split(".")[0])


CATALOG = Catalog(
    {"test.transform": {1: Transform}, "test.route": {1: Route}, "test.greet": {1: GreetV1, 2: GreetV2}},
    failed={"acme": "plugin 'acme' failed to load: ModuleNotFoundError: No module named 'acme_sdk'"},
)


def transform(step_id: str, expression: str = "input", **fields: Any) -> dict[str, Any]:
    return {"id": step_id, "type": "test.transform", "config": {"expression": expression}, **fields}


def route(step_id: str, *branches: str, **fields: Any) -> dict[str, Any]:
    config = {"branches": [{"name": name, "when": "input.flag"} for name in branches]}
    return {"id": step_id, "type": "test.route", "config": config, **fields}


def workflow(*steps: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"name": "test", "steps": list(steps), **fields}


def validate(definition: Any, catalog: Catalog = CATALOG) -> ValidationReport:
    return validate_definition(definition, catalog)


def only(report: ValidationReport) -> Problem:
    assert len(report.problems) == 1, report.problems
    return report.problems[0]


def located(report: ValidationReport) -> set[tuple[str, str]]:
    return {(problem.pointer, problem.code) for problem in report.problems}


# -- a valid definition --


def test_valid_definition_compiles_to_a_plan() -> None:
    definition = workflow(
        transform("fetch", "input.order"),
        route("decide", "big", needs=["fetch"], input="steps.fetch"),
        transform("big", "steps.fetch", needs=["decide:big"]),
        transform("small", "steps.fetch", needs=["decide:otherwise"]),
        transform("join", "steps.big || steps.small", needs=["big", "small"]),
        {"id": "hello", "type": "test.greet", "config": {"message": "hi"}},
        output={"total": "steps.join"},
        input_schema={"type": "object", "required": ["order"]},
    )
    report = validate(json.dumps(definition))
    assert report.ok
    assert report.problems == []
    assert report.workflow is not None
    assert report.plan is not None
    plan = report.plan
    assert plan.order == ("fetch", "decide", "big", "small", "join", "hello")
    assert plan.steps["decide"].branches == ("big", "otherwise")
    assert plan.steps["big"].incoming[0].kind is EdgeKind.BRANCH
    assert set(plan.steps["join"].ancestors) == {"fetch", "decide", "big", "small"}
    assert plan.steps["hello"].type_version == 2


def test_bytes_and_dicts_are_accepted_too() -> None:
    definition = workflow(transform("a"))
    assert validate(json.dumps(definition).encode()).ok
    assert validate(definition).ok


# -- reading the JSON --


def test_malformed_json_gives_line_and_column() -> None:
    problem = only(validate('{\n  "name": "x",\n  "steps": [,]\n}'))
    assert problem == Problem(
        "", "The definition is not valid JSON: Expecting value at line 3, column 13.", "invalid-json"
    )


def test_not_utf8() -> None:
    problem = only(validate(b'{"name": "\xff"}'))
    assert (problem.code, problem.message) == ("invalid-json", "The definition is not UTF-8 text (byte 10 is invalid).")


def test_nan_is_not_json() -> None:
    assert only(validate('{"name": NaN}')).message == "The definition is not valid JSON: NaN is not a JSON number."


def test_duplicate_keys_are_reported_at_the_key() -> None:
    text = (
        '{"name": "x", "steps": [{"id": "a", "type": "test.transform", '
        '"config": {"expression": "a", "expression": "b"}}]}'
    )
    problem = only(validate(text))
    assert problem == Problem(
        "/steps/0/config/expression",
        'The key "expression" appears more than once in this object; only its last value would count.',
        "duplicate-key",
    )


def test_definition_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    text = json.dumps(workflow(transform("a", "input" + " " * limits.MAX_DEFINITION_BYTES)))
    problem = only(validate(text))
    assert problem.code == "definition-too-large"
    assert problem.message == (
        f"The definition is {len(text)} bytes long; the limit is {limits.MAX_DEFINITION_BYTES} bytes "
        "(MAX_DEFINITION_BYTES)."
    )


def test_nesting_limit() -> None:
    config: Any = {"expression": "input", "label": "x"}
    deep: Any = "bottom"
    for _ in range(limits.MAX_DEFINITION_DEPTH):
        deep = [deep]
    config["label"] = deep
    problem = only(validate(workflow({"id": "a", "type": "test.transform", "config": config})))
    assert problem.code == "definition-too-deep"
    assert problem.pointer.startswith("/steps/0/config/label/0/0")


def test_a_definition_must_be_an_object() -> None:
    assert only(validate("[]")) == Problem("", "A definition must be a JSON object.", "wrong-type")


# -- the shape of the language --


def test_missing_and_unknown_fields() -> None:
    report = validate({"steps": [{"id": "a", "type": "test.transform", "colour": "red"}], "extra": 1})
    assert report.problems == [
        Problem("", 'The field "name" is missing from the workflow; it is required.', "missing-field"),
        Problem(
            "/extra",
            'Unknown field "extra" in the workflow; expected one of: name, steps, description, input_schema, '
            "output, timeout_seconds.",
            "unknown-field",
        ),
        Problem(
            "/steps/0/colour",
            'Unknown field "colour" in a step; expected one of: id, type, type_version, title, description, '
            "config, input, needs, timeout_seconds, queue_timeout_seconds, retry, catch, credential.",
            "unknown-field",
        ),
        Problem(
            "/steps/0/config",
            'The field "expression" is missing from the config of "test.transform"; it is required.',
            "missing-field",
        ),
    ]


@pytest.mark.parametrize(
    ("step_fields", "pointer", "message", "code"),
    [
        (
            {"id": "Fetch"},
            "/steps/0/id",
            '"Fetch" does not match the pattern ^[a-z][a-z0-9_]{0,63}$: Stable id of a step',
            "invalid-format",
        ),
        ({"timeout_seconds": 0}, "/steps/0/timeout_seconds", "Must be greater than 0, got 0.", "out-of-range"),
        ({"retry": {"max_attempts": 0}}, "/steps/0/retry/max_attempts", "Must be at least 1, got 0.", "out-of-range"),
        (
            {"retry": {"retry_on": ["http.*"]}},
            "/steps/0/retry/retry_on/0",
            '"http.*" does not match the pattern',
            "invalid-format",
        ),
        ({"needs": "a"}, "/steps/0/needs", 'Expected an array, got "a".', "wrong-type"),
        ({"input": {"a": 5}}, "/steps/0/input/a", "Expected a string, got 5.", "wrong-type"),
        ({"input": 5}, "/steps/0/input", "Expected a string, an object or null, got 5.", "wrong-type"),
        ({"type_version": 1.5}, "/steps/0/type_version", "Expected an integer or null, got 1.5.", "wrong-type"),
        (
            {"catch": [{"errors": []}]},
            "/steps/0/catch/0",
            'The field "next" is missing from a catch route',
            "missing-field",
        ),
    ],
)
def test_shape_problems(step_fields: dict[str, Any], pointer: str, message: str, code: str) -> None:
    report = validate(workflow({**transform("a"), **step_fields}))
    assert [(p.pointer, p.code) for p in report.problems if p.pointer == pointer] == [(pointer, code)]
    assert next(p for p in report.problems if p.pointer == pointer).message.startswith(message)


def test_one_bad_step_does_not_hide_the_others() -> None:
    report = validate(
        workflow(
            {**transform("a"), "colour": "red", "timeout_seconds": -1},
            {**transform("b"), "retry": {"jitter": 2}},
            {"id": "c", "type": "test.transform", "config": {"expression": "input", "labl": "x"}},
        )
    )
    assert located(report) == {
        ("/steps/0/colour", "unknown-field"),
        ("/steps/0/timeout_seconds", "out-of-range"),
        ("/steps/1/retry/jitter", "out-of-range"),
        ("/steps/2/config/labl", "unknown-field"),
    }
    assert report.workflow is None
    assert report.plan is None


# -- the step graph --


def test_duplicate_step_ids() -> None:
    problem = only(validate(workflow(transform("a"), transform("b"), transform("a"))))
    assert problem == Problem(
        "/steps/2/id", 'The step id "a" is already used by the step at /steps/0.', "duplicate-step-id"
    )


def test_needs_an_unknown_step() -> None:
    problem = only(validate(workflow(transform("fetch"), transform("b", needs=["fetc"]))))
    assert problem == Problem(
        "/steps/1/needs/0",
        'The step needs "fetc", but there is no step with that id. Did you mean "fetch"?',
        "unknown-step",
    )


def test_catch_to_an_unknown_step() -> None:
    problem = only(validate(workflow(transform("a", catch=[{"next": "handler"}]))))
    assert problem == Problem(
        "/steps/0/catch/0/next",
        'The catch route goes to "handler", but there is no step with that id.',
        "unknown-step",
    )


def test_duplicate_need() -> None:
    problem = only(validate(workflow(transform("a"), transform("b", needs=["a", "a"]))))
    assert problem == Problem("/steps/1/needs/1", '"a" is listed twice in needs.', "duplicate-need")


def test_branch_of_a_step_that_does_not_route() -> None:
    problem = only(validate(workflow(transform("a"), transform("b", needs=["a:yes"]))))
    assert problem.pointer == "/steps/1/needs/0"
    assert problem.code == "not-a-routing-step"
    assert problem.message.startswith('Step "a" is not a routing step (node type "test.transform" has no branches)')


def test_unknown_branch() -> None:
    report = validate(workflow(route("r", "big"), transform("b", needs=["r:huge"])))
    assert report.problems[0] == Problem(
        "/steps/1/needs/0", 'Step "r" has no branch "huge"; its branches are: big, otherwise.', "unknown-branch"
    )


def test_cycle_names_its_steps() -> None:
    report = validate(
        workflow(
            transform("start"),
            transform("a", needs=["start", "c"]),
            transform("b", needs=["a"]),
            transform("c", needs=["b"]),
        )
    )
    assert only(report) == Problem(
        "/steps/1/needs/1", 'Steps "a" → "b" → "c" → "a" form a cycle: none of them can ever start.', "cycle"
    )


def test_cycle_through_a_catch_route() -> None:
    report = validate(workflow(transform("a", needs=["h"], catch=[{"next": "h"}]), transform("h")))
    assert only(report) == Problem(
        "/steps/0/needs/0", 'Steps "a" → "h" → "a" form a cycle: none of them can ever start.', "cycle"
    )


def test_step_that_waits_on_itself() -> None:
    assert only(validate(workflow(transform("a", needs=["a"])))) == Problem(
        "/steps/0/needs/0", 'Step "a" waits on itself, so it can never start.', "cycle"
    )


def test_shadowed_catch_route_and_the_step_it_leaves_unreachable() -> None:
    report = validate(
        workflow(
            transform(
                "call",
                catch=[{"errors": ["http"], "next": "retry_later"}, {"errors": ["http.status"], "next": "alert"}],
            ),
            transform("retry_later"),
            transform("alert"),
            transform("after_alert", needs=["alert"]),
        )
    )
    assert report.problems == [
        Problem(
            "/steps/0/catch/1",
            "This catch route can never be taken: earlier routes of the step already catch http.status "
            "(the first matching route wins).",
            "unreachable-catch",
        ),
        Problem(
            "/steps/2",
            'Step "alert" can never run: its catch route from "call" is shadowed by an earlier route.',
            "unreachable-step",
        ),
        Problem("/steps/3", 'Step "after_alert" can never run: step "alert" never runs.', "unreachable-step"),
    ]


def test_a_join_of_a_dead_and_a_live_branch_is_reachable() -> None:
    report = validate(
        workflow(
            transform("call", catch=[{"next": "a"}, {"errors": ["x"], "next": "b"}]),
            transform("a"),
            transform("b"),
            transform("join", needs=["a", "b"]),
        )
    )
    assert located(report) == {("/steps/0/catch/1", "unreachable-catch"), ("/steps/2", "unreachable-step")}


def test_fan_out_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_FAN_OUT", 2)
    report = validate(workflow(transform("hub"), *(transform(f"s{i}", needs=["hub"]) for i in range(3))))
    assert only(report) == Problem(
        "/steps/0",
        '3 steps wait directly on step "hub"; the limit is 2 (MAX_FAN_OUT). Group them behind intermediate steps.',
        "fan-out-too-wide",
    )


# -- node types and versions --


def test_node_type_of_a_plugin_that_failed() -> None:
    problem = only(validate(workflow({"id": "a", "type": "acme.sign"})))
    assert problem == Problem(
        "/steps/0/type",
        "Node type \"acme.sign\" is not available: plugin 'acme' failed to load: ModuleNotFoundError: "
        "No module named 'acme_sdk'.",
        "unknown-node-type",
    )


def test_unknown_node_type() -> None:
    problem = only(validate(workflow({"id": "a", "type": "nobody.here"})))
    assert problem.message == 'Unknown node type "nobody.here": no installed plugin provides it.'


def test_version_omitted_uses_the_newest() -> None:
    report = validate(workflow({"id": "g", "type": "test.greet", "config": {"message": "hi"}}))
    assert report.plan is not None
    assert report.plan.steps["g"].type_version == 2


def test_installed_version_is_used_as_is() -> None:
    report = validate(workflow({"id": "g", "type": "test.greet", "type_version": 1, "config": {"greeting": "hi"}}))
    assert report.plan is not None
    assert (report.plan.steps["g"].type_version, report.plan.steps["g"].config) == (1, {"greeting": "hi"})


def test_older_version_is_migrated_step_by_step() -> None:
    catalog = Catalog({"test.greet": {2: GreetV2}})
    definition = workflow({"id": "g", "type": "test.greet", "type_version": 1, "config": {"greeting": "hi"}})
    report = validate(definition, catalog)
    assert report.plan is not None
    assert (report.plan.steps["g"].type_version, report.plan.steps["g"].config) == (2, {"message": "hi"})
    assert definition["steps"][0]["config"] == {"greeting": "hi"}  # the definition itself is untouched


def test_missing_migration_names_both_versions() -> None:
    catalog = Catalog({"test.greet": {3: GreetV3}})
    report = validate(
        workflow({"id": "g", "type": "test.greet", "type_version": 1, "config": {"greeting": "hi"}}), catalog
    )
    assert only(report) == Problem(
        "/steps/0/type_version",
        'The step was written for version 1 of node type "test.greet", but only version 3 and later is installed '
        "and there is no migration of its config from version 1 to 2.",
        "no-config-migration",
    )


def test_migrated_config_that_does_not_fit_says_so() -> None:
    catalog = Catalog({"test.greet": {2: GreetV2}})
    definition = workflow({"id": "g", "type": "test.greet", "type_version": 1, "config": {"greeting": 5}})
    problem = only(validate(definition, catalog))
    assert problem.pointer == "/steps/0/config/message"
    assert problem.message == "Expected a string, got 5 (after upgrading the config from version 1 to 2)."


def test_newer_version_than_installed() -> None:
    problem = only(validate(workflow({"id": "g", "type": "test.greet", "type_version": 5, "config": {}})))
    assert problem == Problem(
        "/steps/0/type_version",
        'The step needs version 5 of node type "test.greet"; installed: 1, 2.',
        "node-type-version-unavailable",
    )


def test_config_problems_point_into_the_config() -> None:
    report = validate(
        workflow(
            {
                "id": "r",
                "type": "test.route",
                "config": {"branches": [{"name": "a", "when": "x"}, {"name": 3}], "default": []},
            }
        )
    )
    assert report.problems == [
        Problem(
            "/steps/0/config/branches/1",
            'The field "when" is missing from the config of "test.route"; it is required.',
            "missing-field",
        ),
        Problem("/steps/0/config/branches/1/name", "Expected a string, got 3.", "wrong-type"),
        Problem("/steps/0/config/default", "Expected a string, got an array.", "wrong-type"),
    ]


# -- expressions --


def test_expression_syntax_in_input_output_and_config() -> None:
    report = validate(
        workflow(
            transform("a", "input.items[?price >]", input={"order": "input.order.", "ok": "input"}),
            route("r", "big", needs=["a"]),
            output="frobnicate(steps.a)",
        )
    )
    assert report.problems == [
        Problem(
            "/output", "Invalid expression: unknown function frobnicate(); did you mean concat()?", "unknown-function"
        ),
        Problem(
            "/steps/0/config/expression",
            'Invalid expression: the expression does not parse at column 20: invalid token (at "]").',
            "expression-syntax",
        ),
        Problem(
            "/steps/0/input/order",
            'Invalid expression: the expression is incomplete: expected a "quoted" name, a name, [ or { at column 12.',
            "expression-syntax",
        ),
    ]


def test_expression_in_a_nested_config_list() -> None:
    definition = workflow(transform("a"), route("r", "big", needs=["a"]))
    definition["steps"][1]["config"]["branches"][0]["when"] = "steps.a.total >"
    problem = only(validate(definition))
    assert problem.pointer == "/steps/1/config/branches/0/when"
    assert problem.code == "expression-syntax"


def test_expression_limit_breach() -> None:
    deep = "[" * 40 + "input" + "]" * 40
    problem = only(validate(workflow(transform("a", deep))))
    assert problem == Problem(
        "/steps/0/config/expression",
        "Invalid expression: the expression nests more than 32 levels deep (MAX_EXPRESSION_DEPTH).",
        "expression-too-deep",
    )


def test_reading_a_step_that_does_not_exist() -> None:
    problem = only(validate(workflow(transform("a", input="steps.ghost.value"))))
    assert problem == Problem(
        "/steps/0/input", 'The expression reads steps.ghost, but there is no step "ghost".', "unknown-step-reference"
    )


def test_reading_its_own_output() -> None:
    problem = only(validate(workflow(transform("a", input={"total": "steps.a.total"}))))
    assert problem == Problem(
        "/steps/0/input/total",
        "The expression reads steps.a, the output of its own step, which does not exist yet.",
        "self-reference",
    )


def test_a_config_expression_reads_the_steps_input_not_the_scope() -> None:
    # Without an input mapping the node gets its default input (here the execution input), never the scope,
    # so a config expression's `steps.a` is a field of that input, not a step's output.
    assert validate(workflow(transform("a", "steps.a.total"))).problems == []


def test_reading_a_step_that_may_still_be_running() -> None:
    problem = only(validate(workflow(transform("a"), transform("b", input={"x": "steps.a.value"}))))
    assert problem.pointer == "/steps/1/input/x"
    assert problem.code == "not-an-ancestor"
    assert problem.message.startswith('The expression reads steps.a, but step "a" may still be running')


def test_reading_ancestors_through_other_steps_is_fine() -> None:
    report = validate(workflow(transform("a"), transform("b", needs=["a"]), transform("c", "steps.a", needs=["b"])))
    assert report.ok


def test_workflow_output_may_read_any_step() -> None:
    report = validate(workflow(transform("a"), transform("b"), output={"a": "steps.a", "b": "steps.b", "c": "steps.c"}))
    assert only(report) == Problem(
        "/output/c", 'The expression reads steps.c, but there is no step "c".', "unknown-step-reference"
    )


def test_config_expressions_of_a_step_with_an_input_mapping_read_that_input() -> None:
    report = validate(workflow(transform("a"), transform("b", "steps.whatever", input={"steps": "input"})))
    assert report.ok


def test_dynamic_step_access_is_not_checked() -> None:
    assert validate(workflow(transform("a"), transform("b", input="keys(steps)"))).ok


def test_too_many_expressions_in_a_step(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_EXPRESSIONS_PER_STEP", 2)
    problem = only(validate(workflow(transform("a", input={"x": "input", "y": "input"}))))
    assert problem == Problem(
        "/steps/0",
        "The step has 3 expressions (input and config together); the limit is 2 (MAX_EXPRESSIONS_PER_STEP).",
        "too-many-expressions",
    )


# -- the input schema --


def test_input_schema_must_be_a_json_schema() -> None:
    report = validate(workflow(transform("a"), input_schema={"type": "strin", "properties": {"n": {"minimum": "0"}}}))
    assert report.problems == [
        Problem(
            "/input_schema/properties/n/minimum",
            'The input schema is not valid JSON Schema: Expected a number, got "0".',
            "invalid-input-schema",
        ),
        Problem(
            "/input_schema/type",
            'The input schema is not valid JSON Schema: Must be one of: "array", "boolean", "integer", "null", '
            '"number", "object", "string"; got "strin".',
            "invalid-input-schema",
        ),
    ]


def test_input_schema_of_another_dialect() -> None:
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}
    problem = only(validate(workflow(transform("a"), input_schema=schema)))
    assert (problem.pointer, problem.code) == ("/input_schema/$schema", "invalid-input-schema")


def test_validate_input_points_into_the_input() -> None:
    schema = {
        "type": "object",
        "required": ["order_id"],
        "properties": {"order_id": {"type": "string"}, "lines": {"type": "array", "items": {"type": "integer"}}},
        "additionalProperties": False,
    }
    report = validate(workflow(transform("a"), input_schema=schema))
    assert report.plan is not None
    problems = validate_input(report.plan, {"lines": [1, "two"], "extra": True}, at="/input")
    assert problems == [
        Problem("/input", 'The field "order_id" is missing from the input; it is required.', "invalid-input"),
        Problem(
            "/input/extra", 'Unknown field "extra" in the input; expected one of: order_id, lines.', "invalid-input"
        ),
        Problem("/input/lines/1", 'Expected an integer, got "two".', "invalid-input"),
    ]
    assert validate_input(report.plan, {"order_id": "A-1"}) == []


def test_validate_input_without_a_schema_accepts_anything() -> None:
    report = validate(workflow(transform("a")))
    assert report.plan is not None
    assert validate_input(report.plan, [1, 2, 3]) == []


# -- everything at once --


def test_many_problems_are_reported_at_once() -> None:
    text = (
        json.dumps(
            {
                "name": "orders",
                "input_schema": {"type": 5},
                "output": "steps.nowhere",
                "steps": [
                    {**transform("fetch", "input.order"), "colour": "red"},
                    {**transform("fetch", "input")},
                    {"id": "sign", "type": "acme.sign"},
                    {"id": "greet", "type": "test.greet", "type_version": 9},
                    route("decide", "big", needs=["fetch", "missing", "fetch:yes"]),
                    transform("big", needs=["decide:huge"], input="steps.later"),
                    transform("loop_a", needs=["loop_b"]),
                    transform("loop_b", needs=["loop_a"], input="input.items[?"),
                    transform("later"),
                ],
            }
        )[:-1]
        + ', "name": "again"}'
    )
    report = validate(text)
    assert located(report) == {
        ("/name", "duplicate-key"),
        ("/input_schema/type", "invalid-input-schema"),
        ("/output", "unknown-step-reference"),
        ("/steps/0/colour", "unknown-field"),
        ("/steps/1/id", "duplicate-step-id"),
        ("/steps/2/type", "unknown-node-type"),
        ("/steps/3/type_version", "node-type-version-unavailable"),
        ("/steps/4/needs/1", "unknown-step"),
        ("/steps/4/needs/2", "not-a-routing-step"),
        ("/steps/5/needs/0", "unknown-branch"),
        ("/steps/5/input", "not-an-ancestor"),  # a cycle elsewhere hides nothing
        ("/steps/6/needs/0", "cycle"),
        ("/steps/7/input", "expression-syntax"),
    }
    assert [p.pointer for p in report.problems][:4] == ["/input_schema/type", "/name", "/output", "/steps/0/colour"]
    assert report.plan is None


def test_problems_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("wirehub.engine.validation.validate.MAX_PROBLEMS", 3)
    report = validate(workflow(*(transform(f"s{i}", needs=[f"ghost{i}"]) for i in range(5))))
    assert [p.code for p in report.problems] == ["unknown-step"] * 3 + ["too-many-problems"]
    assert report.problems[-1].message == "... and 2 more problems."


# -- a broken part of the graph hides nothing about the rest --

HEALTHY_PART = (
    transform("call", catch=[{"errors": ["http"], "next": "later"}, {"errors": ["http.status"], "next": "alert"}]),
    transform("later"),
    transform("alert"),
    transform("reader", input={"x": "steps.later.value"}),
)
HEALTHY_PROBLEMS = {
    ("/steps/0/catch/1", "unreachable-catch"),
    ("/steps/2", "unreachable-step"),
    ("/steps/3/input/x", "not-an-ancestor"),
}


def test_a_cycle_elsewhere_hides_no_problem_of_the_healthy_part() -> None:
    report = validate(
        workflow(
            *HEALTHY_PART,
            transform("b", needs=["c"]),
            transform("c", needs=["b"]),
            # Downstream of the cycle nothing can be judged: no guess is reported.
            transform("after", "steps.call.x", needs=["c"]),
        )
    )
    assert located(report) == {*HEALTHY_PROBLEMS, ("/steps/4/needs/0", "cycle")}


def test_a_duplicate_step_id_elsewhere_hides_no_problem_of_the_healthy_part() -> None:
    report = validate(workflow(*HEALTHY_PART, transform("d"), transform("d", "steps.later.x", needs=["call"])))
    assert located(report) == {*HEALTHY_PROBLEMS, ("/steps/5/id", "duplicate-step-id")}


def test_the_first_of_two_steps_sharing_an_id_is_still_judged() -> None:
    report = validate(
        workflow(
            transform("a"), transform("d", input="steps.a.x"), transform("d", needs=["a"]), transform("e", needs=["d"])
        )
    )
    assert located(report) == {("/steps/1/input", "not-an-ancestor"), ("/steps/2/id", "duplicate-step-id")}


def test_a_step_that_does_not_decode_hides_no_problem_of_the_healthy_part() -> None:
    broken = {"id": "broken", "type": 5}
    report = validate(workflow(*HEALTHY_PART, broken, transform("next", "steps.call.x", needs=["broken"])))
    assert located(report) == {*HEALTHY_PROBLEMS, ("/steps/4/type", "wrong-type")}


def test_a_catch_route_of_a_step_that_does_not_decode_may_reach_any_of_its_targets() -> None:
    broken = {"id": "broken", "type": 5, "catch": [{"next": "alert"}]}
    report = validate(workflow(*HEALTHY_PART, broken))
    assert ("/steps/2", "unreachable-step") not in located(report)
    assert ("/steps/3/input/x", "not-an-ancestor") in located(report)


# -- one code for an expression's length, wherever it is written --

TOO_LONG = "a" + ".a" * (limits.MAX_EXPRESSION_LENGTH // 2)


@pytest.mark.parametrize(
    ("definition", "at"),
    [
        (workflow(transform("a", TOO_LONG)), "/steps/0/config/expression"),
        (workflow(transform("a", input={"x": TOO_LONG})), "/steps/0/input/x"),
        (workflow(transform("a", input=TOO_LONG)), "/steps/0/input"),
        (workflow(transform("a"), output=TOO_LONG), "/output"),
        (workflow(transform("a"), output={"x": TOO_LONG}), "/output/x"),
        (
            workflow(route("r", "big") | {"config": {"branches": [{"name": "big", "when": TOO_LONG}]}}),
            "/steps/0/config/branches/0/when",
        ),
    ],
    ids=["config", "input-member", "input", "output", "output-member", "nested-config"],
)
def test_an_expression_too_long_has_one_code_wherever_it_is(definition: dict[str, Any], at: str) -> None:
    problem = only(validate(definition))
    assert (problem.pointer, problem.code) == (at, "expression-too-long")
    assert problem.message == (
        f"Invalid expression: the expression is {len(TOO_LONG)} characters long; the limit is "
        f"{limits.MAX_EXPRESSION_LENGTH} (MAX_EXPRESSION_LENGTH)."
    )


@pytest.mark.parametrize(
    ("definition", "at"),
    [
        (workflow(transform("a", "")), "/steps/0/config/expression"),
        (workflow(transform("a", input={"x": ""})), "/steps/0/input/x"),
        (workflow(transform("a", input={"x": "  "})), "/steps/0/input/x"),
        (workflow(transform("a"), output=""), "/output"),
    ],
)
def test_an_empty_expression_has_one_code_wherever_it_is(definition: dict[str, Any], at: str) -> None:
    problem = only(validate(definition))
    assert (problem.pointer, problem.code) == (at, "expression-empty")
