"""The expression language: checks when compiled, bounds when evaluated, step references."""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import jmespath
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wirehub.engine.expressions.bounds import Budget, json_size
from wirehub.engine.expressions.evaluate import (
    FUNCTION_NAMES,
    ExpressionSyntaxError,
    compile_expression,
    evaluate,
    referenced_steps,
)
from wirehub.engine.language import limits
from wirehub_sdk import ExpressionError

DOCS = Path(__file__).resolve().parents[2] / "docs" / "expressions.md"

SCOPE: dict[str, Any] = {
    "input": {
        "order_id": 7,
        "customer": {"name": "Ada", "tier": "gold"},
        "items": [{"sku": "a", "price": 2, "qty": 3}, {"sku": "b", "price": 5, "qty": 1}],
    },
    "steps": {"fetch": {"status": 200, "body": {"total": 150}}},
}


def doubling(times: int) -> str:
    """``[@,@]`` applied ``times`` times: a value of 2**times leaves in a few bytes of memory."""
    return "[@,@]" + " | [@,@]" * (times - 1)


def syntax_error(text: str) -> ExpressionSyntaxError:
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_expression(text)
    return caught.value


# -- plain JMESPath keeps its meaning --


@pytest.mark.parametrize(
    "text",
    [
        "steps.fetch.body.total > `100`",
        "input.items[?qty > `1`].sku",
        "{id: input.order_id, name: input.customer.name}",
        "input.items[*].price | sum(@)",
        "sort_by(input.items, &price)[-1].sku",
        "length(input.items) == `2` && input.customer.tier == 'gold'",
        "input.missing.deeper",
        "`1` == `true`",
        "[`1`] == [`true`]",
        "contains(input.items[*].sku, 'b')",
        "to_string(input.customer)",
        "join(', ', input.items[*].sku)",
        "merge(input.customer, {tier: 'platinum'})",
        "input.items[].sku",
        "keys(input.customer)",
    ],
)
def test_evaluation_matches_jmespath(text: str) -> None:
    assert evaluate(text, SCOPE) == jmespath.search(text, SCOPE)


def test_compiling_twice_returns_the_cached_expression() -> None:
    assert compile_expression("input.order_id") is compile_expression("input.order_id")


# -- the hub's functions --


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("add(`2`, `3`)", 5),
        ("subtract(`2`, `3.5`)", -1.5),
        ("multiply(input.items[0].price, input.items[0].qty)", 6),
        ("divide(`6`, `3`)", 2),
        ("divide(`7`, `2`)", 3.5),
        ("mod(`-7`, `3`)", 2),
        ("round(`2.675`, `2`)", 2.68),
        ("round(`2.5`, `0`)", 3),
        ("concat('order-', to_string(input.order_id))", "order-7"),
        ("lower('MiXeD')", "mixed"),
        ("upper('MiXeD')", "MIXED"),
        ("trim('  padded \n')", "padded"),
        ("split('a,b,,c', ',')", ["a", "b", "", "c"]),
        ("replace('a.b.c', '.', '::')", "a::b::c"),
        ("default(input.missing, 'fallback')", "fallback"),
        ("default(input.order_id, 'fallback')", 7),
        ("from_entries([['a', `1`], ['b', `2`]])", {"a": 1, "b": 2}),
        ("from_entries([{key: 'a', value: `1`}])", {"a": 1}),
        ("to_entries(input.customer)", [{"key": "name", "value": "Ada"}, {"key": "tier", "value": "gold"}]),
        ("input.items[*].multiply(price, qty) | sum(@)", 11),
    ],
)
def test_hub_functions(text: str, expected: Any) -> None:
    assert evaluate(text, SCOPE) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("divide(`1`, `0`)", "divide() by zero"),
        ("mod(`1`, `0`)", "mod() by zero"),
        ("concat('a', 'b', `1`)", "concat() takes strings; argument 3 is number"),
        ("split('abc', '')", "split() needs a separator"),
        ("replace('abc', '', 'x')", "replace() needs a substring"),
        ("from_entries([`1`])", "entry 0 is neither"),
        ("round(`1.5`, `-1`)", "round() takes a whole number of digits"),
        ("multiply(`9223372036854775807`, `2`)", "outside the 64-bit range"),
        ("multiply(`1e308`, `10`)", "not a JSON number"),
        ("abs('text')", "abs() got string, expected number"),
    ],
)
def test_hub_function_errors(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=re.escape(message)):
        evaluate(text, SCOPE)


def test_every_function_is_documented() -> None:
    documented = set(re.findall(r"^\| `([a-z_]+)\(", DOCS.read_text(), flags=re.MULTILINE))
    assert documented == set(FUNCTION_NAMES)


# -- checks when compiled --


def test_unknown_function_is_rejected_with_a_suggestion() -> None:
    error = syntax_error("lowr(input.customer.name)")
    assert error.code == "unknown-function"
    assert "unknown function lowr(); did you mean lower()" in str(error)


def test_wrong_number_of_arguments_is_rejected() -> None:
    error = syntax_error("add(`1`)")
    assert (error.code, str(error)) == ("function-arity", "add() takes 2 arguments, got 1")


def test_parse_error_names_the_column() -> None:
    error = syntax_error("input.items[?qty >]")
    assert error.code == "expression-syntax"
    assert error.column == 18
    assert "column 18" in str(error)


def test_bare_number_gets_a_hint() -> None:
    message = str(syntax_error("input.total > 100"))
    assert (
        message
        == 'the expression does not parse at column 14: invalid token (at "100"); a number is a literal: write `100`'
    )


def test_incomplete_expression() -> None:
    assert "incomplete" in str(syntax_error("input."))


def test_empty_expression() -> None:
    assert syntax_error("   ").code == "expression-empty"


def test_bare_word_literal_is_rejected() -> None:
    assert "is not JSON" in str(syntax_error("`foo`"))


def test_zero_slice_step_is_rejected() -> None:
    assert "slice step cannot be 0" in str(syntax_error("input.items[::0]"))


def test_length_limit() -> None:
    error = syntax_error("a" * (limits.MAX_EXPRESSION_LENGTH + 1))
    assert error.code == "expression-too-long"
    assert "MAX_EXPRESSION_LENGTH" in str(error)


@pytest.mark.parametrize(
    "text",
    [
        "(" * 40 + "a" + ")" * 40,
        "[" * 40 + "a" + "]" * 40,
        "`" + "[" * 40 + "]" * 40 + "`",
        "!" * 3000 + "a",
        "a" + "[*]" * 1300,
        " | ".join(["a"] * 40),
    ],
    ids=["parentheses", "lists", "literal", "not-chain", "projections", "pipes"],
)
def test_nesting_limit(text: str) -> None:
    error = syntax_error(text)
    assert error.code == "expression-too-deep"
    assert "MAX_EXPRESSION_DEPTH" in str(error)


def test_nesting_at_the_limit_compiles() -> None:
    depth = limits.MAX_EXPRESSION_DEPTH - 1
    assert evaluate("[" * depth + "`1`" + "]" * depth, {}) is not None


def test_brackets_inside_strings_do_not_count() -> None:
    assert evaluate("'" + "(" * 100 + "'", {}) == "(" * 100


def test_evaluate_reports_an_invalid_expression_as_expression_error() -> None:
    with pytest.raises(ExpressionError, match="invalid expression"):
        evaluate("nope(", {})


# -- bounds when evaluated --


def test_exponential_value_fails_on_output_size() -> None:
    message = r"^the expression's result is more than 1000000 bytes as JSON \(limit MAX_OUTPUT_BYTES\)$"
    with pytest.raises(ExpressionError, match=message):
        evaluate(doubling(28), 1)


def test_to_string_of_exponential_value_fails_fast() -> None:
    with pytest.raises(
        ExpressionError, match=r"^to_string\(\) would create a string of more .* \(limit MAX_STRING_LENGTH\)$"
    ):
        evaluate(f"to_string({doubling(28)})", 1)


def test_equality_of_exponential_values_is_bounded_by_steps() -> None:
    text = f"({doubling(28)}) == ({doubling(28)})"
    with pytest.raises(ExpressionError, match="MAX_EVAL_STEPS"):
        evaluate(text, 1)


def test_contains_of_exponential_values_is_bounded_by_steps() -> None:
    text = f"contains([{doubling(28)}], {doubling(28)})"
    with pytest.raises(ExpressionError, match="MAX_EVAL_STEPS"):
        evaluate(text, 1)


def test_identical_values_compare_without_walking() -> None:
    assert evaluate(f"{doubling(28)} | @ == @", 1) is True


def test_flatten_growth_fails_on_created_items() -> None:
    grow = "[@,@,@,@,@,@,@,@,@,@] | []"
    with pytest.raises(ExpressionError, match="MAX_VALUE_ITEMS"):
        evaluate(" | ".join([grow] * 6), [1])


def test_string_length_cap() -> None:
    text = "join('', [input, input, input])"
    with pytest.raises(ExpressionError, match="MAX_STRING_LENGTH"):
        evaluate(text, {"input": "x" * (limits.MAX_STRING_LENGTH // 2)})


def test_replace_is_sized_before_building() -> None:
    with pytest.raises(ExpressionError, match="MAX_STRING_LENGTH"):
        evaluate("replace(@, 'x', @)", "x" * 2000)


def test_step_limit() -> None:
    # Counted bounds only: on a loaded machine the wall-clock deadline could otherwise end it first.
    compiled = compile_expression("[*].[@, @, @]")
    with pytest.raises(ExpressionError, match="MAX_EVAL_STEPS"):
        compiled.evaluate(list(range(limits.MAX_EVAL_STEPS)), Budget(deterministic=True))


def test_deadline() -> None:
    compiled = compile_expression("[*].add(@, `1`)")
    with pytest.raises(ExpressionError, match="MAX_EVAL_SECONDS"):
        compiled.evaluate(list(range(1000)), Budget(seconds=0.0))


def test_deeply_nested_data_is_an_expression_error() -> None:
    data: Any = 1
    for _ in range(5000):
        data = [data]
    with pytest.raises(ExpressionError, match="nests too deeply"):
        evaluate("to_string(@)", data)


def test_non_finite_result_is_rejected() -> None:
    with pytest.raises(ExpressionError, match=r"^sum\(\) produced inf, which is not a JSON number$"):
        evaluate("sum(@)", [1e308, 1e308])


def test_type_error_does_not_print_the_value() -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate(f"abs({doubling(28)})", 1)
    assert str(caught.value) == "abs() got array, expected number"


def test_hostile_evaluation_leaves_the_process_healthy() -> None:
    # Run in a thread with a small stack: a recursion would crash, not raise.
    results: list[Any] = []

    def hostile() -> None:
        for text in (f"to_string({doubling(30)})", f"({doubling(30)}) == ({doubling(30)})", doubling(30)):
            try:
                evaluate(text, 1)
            except ExpressionError as exc:
                results.append(type(exc))
        results.append(evaluate("input.order_id", SCOPE))

    size = threading.stack_size(512 * 1024)
    try:
        worker = threading.Thread(target=hostile)
        worker.start()
        worker.join()
    finally:
        threading.stack_size(size)
    assert results == [ExpressionError, ExpressionError, ExpressionError, 7]


# -- step references --


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("steps.fetch.body.total", {"fetch"}),
        ('steps."fetch".body', {"fetch"}),
        ("steps.a.x && steps.b.y", {"a", "b"}),
        ("steps.[a, b]", {"a", "b"}),
        ("steps | a.x", {"a"}),
        ("{x: steps.a, y: input.y}", {"a"}),
        ("length(steps.a.items) > `1`", {"a"}),
        ("input.items[?steps.a]", set()),
        ("map(&steps.a, input.xs)", set()),
        ("sort_by(steps.a.items, &steps.b)", {"a"}),
        ("input.order_id", set()),
        ("error.message", set()),
    ],
)
def test_referenced_steps(text: str, expected: set[str]) -> None:
    assert referenced_steps(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "steps",
        "@",
        "steps.*",
        "keys(steps)",
        "values(@)",
        "*.a",
        "[@][0].steps.a",
        "steps.a || steps",
        "merge(@).steps.a",
    ],
)
def test_dynamic_step_access_cannot_be_listed(text: str) -> None:
    assert referenced_steps(text) is None


# -- whatever the text, only the documented errors --

_PIECES = [
    "@",
    "input",
    "steps",
    "a",
    "items",
    ".",
    "[*]",
    "[]",
    "[0]",
    "[-1]",
    "[1:]",
    "[?",
    "]",
    "[",
    "{k: ",
    "}",
    "(",
    ")",
    ",",
    " | ",
    " || ",
    " && ",
    "!",
    " == ",
    " < ",
    "&",
    "`1`",
    "`[1, [2]]`",
    "'s'",
    "*",
    "length(",
    "to_string(",
    "sort(",
    "join(',', ",
    "merge(",
    "add(",
    "concat(",
    "split(",
    "map(&",
    "keys(",
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=30).map("".join))
def test_any_text_compiles_or_fails_cleanly(text: str) -> None:
    data = {"input": {"a": [1, "x", {"items": [1, 2]}], "items": [[1], [2, 3]]}, "steps": {"a": {"items": [1]}}}
    try:
        compiled = compile_expression(text)
    except ExpressionSyntaxError:
        return
    with contextlib.suppress(ExpressionError):
        compiled.evaluate(data)
    references = referenced_steps(text)
    # Pieces join without separators, so a name read after `steps.` is any run of the pieces' names.
    assert references is None or all(re.fullmatch(r"(?:a|items|input|steps)+", name) for name in references)


# -- what an attacker tried --


def failure(text: str, data: Any = None) -> str:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(text).evaluate(data)
    return str(caught.value)


@pytest.mark.parametrize("text", ["to_string(&a)", "&a", "[&a]", "{x: &a}", "default(`null`, &a)"])
def test_an_expression_reference_is_never_printed_or_returned(text: str) -> None:
    message = failure(text, {"a": 1})
    assert "expression reference" in message
    assert "0x" not in message
    assert "_Expression" not in message


def test_strings_are_sized_in_utf8_bytes() -> None:
    astral = "\U0001f600" * (limits.MAX_STRING_LENGTH // 4 + 1)  # one character over the byte limit
    for text in ("join('', [s])", "concat(s, '')", "replace(s, 'x', 'y')", "to_string([s])", "upper(s)"):
        assert "MAX_STRING_LENGTH" in failure(text, {"s": astral}), text
    fits = astral[:-2]  # 999,996 bytes, and 999,998 as a JSON result
    assert compile_expression("join('', [s])").evaluate({"s": fits}) == fits


def test_string_kilobytes_count_bytes_towards_the_items_budget() -> None:
    # 250,000 astral characters are 1,000,000 bytes: a budget of 900 kilobytes refuses them.
    data = {"s": "\U0001f600" * 250_000}
    with pytest.raises(ExpressionError, match="MAX_VALUE_ITEMS"):
        compile_expression("join('', [s])").evaluate(data, Budget(max_items=900))


def test_the_result_size_counts_utf8_bytes() -> None:
    data = {"s": "é" * (limits.MAX_OUTPUT_BYTES // 2)}  # half a million characters, a million bytes
    assert "MAX_OUTPUT_BYTES" in failure("[s]", data)


@pytest.mark.parametrize("function", ["max", "min", "sum", "avg", "sort", "reverse", "contains", "keys", "values"])
def test_functions_spend_a_step_per_item_they_visit(function: str) -> None:
    data = {
        "items": list(range(limits.MAX_EVAL_STEPS + 1)),
        "object": dict.fromkeys(map(str, range(limits.MAX_EVAL_STEPS + 1)), 1),
    }
    call = {
        "contains": "contains(items, `-1`)",
        "keys": "keys(object)",
        "values": "values(object)",
    }.get(function, f"{function}(items)")
    message = failure(call, data)
    assert "MAX_EVAL_STEPS" in message


def test_max_over_millions_of_items_stops_on_the_step_budget_quickly() -> None:
    items = list(range(15_000_000))
    started = time.perf_counter()
    assert "MAX_EVAL_STEPS" in failure("max(items)", {"items": items})
    assert time.perf_counter() - started < 0.5  # it ran 1.3 s before items visited counted as steps


def test_length_does_not_walk_its_argument() -> None:
    assert compile_expression("length(items)").evaluate({"items": list(range(limits.MAX_EVAL_STEPS * 2))}) == 200_000


@pytest.mark.parametrize(
    ("text", "data"),
    [
        ("sum(items)", {"items": [2**62, 2**62]}),
        ("abs(n)", {"n": -(2**63)}),
        ("ceil(x)", {"x": 1e300}),
        ("floor(x)", {"x": -1e300}),
        ("to_number(s)", {"s": "99999999999999999999"}),
        ("to_number(s)", {"s": "1" + "0" * 5_000}),
        ("to_number(n)", {"n": 2**64 - 1}),
        ("round(x, `0`)", {"x": 1e308}),
    ],
)
def test_the_64_bit_integer_rule_holds_everywhere(text: str, data: Any) -> None:
    assert "64-bit" in failure(text, data)


def test_integers_within_64_bits_still_work() -> None:
    assert compile_expression("sum(items)").evaluate({"items": [2**62, 2**62 - 1, -(2**62)]}) == 2**62 - 1
    assert compile_expression("abs(n)").evaluate({"n": -(2**63) + 1}) == 2**63 - 1
    assert compile_expression("ceil(`1.5`)").evaluate(None) == 2
    assert compile_expression("to_number('9223372036854775807')").evaluate(None) == 2**63 - 1


@pytest.mark.parametrize(
    "literal", ["`9223372036854775808`", "`1e400`", "`[1, -99999999999999999999]`", "`1" + "0" * 4_000 + "`"]
)
def test_an_out_of_range_literal_is_refused_when_compiled(literal: str) -> None:
    error = syntax_error(f"add({literal}, `1`)")
    assert error.code == "expression-syntax"
    assert "out of range" in error.message
    assert len(error.message) < 300


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [(1e308, 15, 1e308), (9.5e15, 15, 9.5e15), (-1.7e308, 3, -1.7e308), (123456789.987654321, 15, 123456789.98765433)],
)
def test_round_handles_any_finite_number(value: float, digits: int, expected: float) -> None:
    assert compile_expression(f"round(x, `{digits}`)").evaluate({"x": value}) == expected


def test_a_lone_surrogate_is_refused_in_a_result() -> None:
    assert "lone surrogate" in failure("s", {"s": "a\ud800"})
    assert "lone surrogate" in failure("[{k: s}]", {"s": "\udfff"})


def test_a_lone_surrogate_literal_is_refused_when_compiled() -> None:
    assert "lone surrogate" in syntax_error('`"\\ud800"`').message
    assert compile_expression('`"\\ud83d\\ude00"`').evaluate(None) == "\U0001f600"


def test_a_shared_value_is_sized_exactly_and_quickly() -> None:
    assert evaluate("to_string([@, @] | [@, {a: @, b: [@]}])", "é") == '[["é","é"],{"a":["é","é"],"b":[["é","é"]]}]'
    started = time.perf_counter()
    with pytest.raises(ExpressionError, match="MAX_OUTPUT_BYTES"):
        compile_expression(doubling(28)).evaluate(1, Budget(seconds=60))
    assert time.perf_counter() - started < 0.25  # walked as 28 distinct lists, not 2**28 leaves


STRUCTURES = st.recursive(
    st.text(), lambda children: st.lists(children) | st.dictionaries(st.text(), children), max_leaves=30
)


@given(STRUCTURES)
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_the_size_of_a_value_is_its_utf8_json_length_without_escapes(value: Any) -> None:
    exact = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")) - _escape_bytes(value)
    # A close lower bound: an empty array or object counts one byte, not two.
    assert exact - _empty_parts(value) == json_size(value, 10**9)


def _empty_parts(value: Any) -> int:
    if isinstance(value, str):
        return 0
    members = value if isinstance(value, list) else list(value.values())
    return (not members) + sum(_empty_parts(member) for member in members)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [part for item in value for part in _strings(item)]
    return [*value, *(part for item in value.values() for part in _strings(item))]


def _escape_bytes(value: Any) -> int:
    """Bytes json.dumps adds for escapes (json_size does not count them)."""
    return sum(
        len(json.dumps(part, ensure_ascii=False).encode("utf-8")) - len(part.encode("utf-8")) - 2
        for part in _strings(value)
    )
