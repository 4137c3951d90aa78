"""What can be known about an expression without evaluating it.

Nesting depth (before and after parsing), the functions it calls, and which
steps' outputs it reads. All walks here are iterative: a hostile expression
cannot exhaust the Python stack through them.
"""

from __future__ import annotations

import difflib
import enum
from typing import Any

from wirehub.engine.expressions.functions import FUNCTION_NAMES, arity
from wirehub.engine.language.jsonsource import json_text_problem

_OPENERS = frozenset("([{")
_CLOSERS = frozenset(")]}")


def bracket_depth(text: str) -> int:
    """The deepest nesting of ``()``, ``[]`` and ``{}`` in ``text``.

    Brackets inside quoted identifiers and raw strings do not count; brackets
    inside a backtick JSON literal do (its value nests just as deeply), except
    within the literal's own strings. Runs before the parser, whose recursion
    follows this nesting.
    """
    depth = deepest = 0
    index, length = 0, len(text)
    in_literal = in_json_string = False
    while index < length:
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if in_literal:
            if char == "`":
                in_literal = in_json_string = False
            elif char == '"':
                in_json_string = not in_json_string
            elif not in_json_string:
                depth, deepest = _count(char, depth, deepest)
        elif char == "`":
            in_literal = True
        elif char in "'\"":
            index = _skip_quoted(text, index, char)
        else:
            depth, deepest = _count(char, depth, deepest)
        index += 1
    return deepest


def _count(char: str, depth: int, deepest: int) -> tuple[int, int]:
    if char in _OPENERS:
        return depth + 1, max(deepest, depth + 1)
    if char in _CLOSERS:
        return max(depth - 1, 0), deepest
    return depth, deepest


def literal_problems(text: str) -> list[str]:
    """Backtick literals that are not JSON.

    JMESPath once read `` `foo` `` as the string ``"foo"``; that form is
    deprecated and rejected here (write ``'foo'``). So are ``NaN``, numbers
    out of range (integers past 64 bits, ``1e400``) and lone surrogates. Call after
    ``bracket_depth`` has capped the nesting, as it parses each literal.
    """
    problems: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char in "'\"":
            index = _skip_quoted(text, index, char) + 1
            continue
        if char == "`":
            end = _skip_quoted(text, index, "`")
            lexeme = text[index + 1 : end].replace("\\`", "`")
            reason = json_text_problem(lexeme)
            if reason == "it is not JSON":
                problems.append(
                    f"the literal at column {index} is not JSON: write strings as 'text' "
                    '(raw string) or `"text"` (JSON string)'
                )
            elif reason is not None:
                problems.append(f"the literal at column {index} cannot be used: {reason[0].lower()}{reason[1:]}")
            index = end
        index += 1
    return problems


def _skip_quoted(text: str, start: int, quote: str) -> int:
    """The index of the quote closing the string opened at ``start`` (or the end)."""
    index = start + 1
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == quote:
            return index
        index += 1
    return len(text)


def _children(node: dict[str, Any]) -> list[dict[str, Any]]:
    # A slice's children are its numbers, not nodes.
    return [child for child in node.get("children", ()) if isinstance(child, dict)]


def tree_depth(tree: dict[str, Any]) -> int:
    """The depth of a parsed expression's syntax tree (a lone field is 1)."""
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in _children(node))
    return deepest


def function_problems(tree: dict[str, Any]) -> list[tuple[str, str]]:
    """Calls to unknown functions, calls with the wrong number of arguments, and zero slice steps.

    Returns:
        ``(code, message)`` pairs, in no particular order.
    """
    problems: list[tuple[str, str]] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        stack.extend(_children(node))
        if node["type"] == "slice" and node["children"][2] == 0:
            problems.append(("expression-syntax", "a slice step cannot be 0"))
        if node["type"] != "function_expression":
            continue
        name = node["value"]
        if name not in FUNCTION_NAMES:
            problems.append(("unknown-function", _unknown_function(name)))
            continue
        expected, variadic = arity(name)
        given = len(node["children"])
        if given < expected or (given > expected and not variadic):
            wanted = f"at least {expected}" if variadic else str(expected)
            noun = "argument" if expected == 1 and not variadic else "arguments"
            problems.append(("function-arity", f"{name}() takes {wanted} {noun}, got {given}"))
    return problems


def _unknown_function(name: str) -> str:
    close = difflib.get_close_matches(name, sorted(FUNCTION_NAMES), n=3)
    if close:
        return f"unknown function {name}(); did you mean {' or '.join(f'{match}()' for match in close)}?"
    return f"unknown function {name}(); the functions are: {', '.join(sorted(FUNCTION_NAMES))}"


class _Kind(enum.Enum):
    """What a sub-expression's value is, as far as step references go."""

    SCOPE = "scope"
    STEPS = "steps"
    OTHER = "other"


class _Dynamic(Exception):
    """Internal: the expression reaches step outputs in a way that cannot be listed."""


_CHAINS = frozenset({"subexpression", "pipe", "index_expression"})
"""Nodes whose children run one after the other, each on the previous result."""
_ELEMENTWISE = frozenset({"projection", "value_projection", "filter_projection"})


def referenced_steps(tree: dict[str, Any]) -> frozenset[str] | None:
    """The step ids an expression reads as ``steps.<id>`` from the scope.

    Returns ``None`` when it reaches step outputs dynamically (``steps.*``,
    ``keys(steps)``, ``values(@)``, ``@`` alone...): then the references
    cannot be listed. Inside projections, filters and ``&`` expressions ``@``
    is an element, not the scope, so only references at the scope's root
    count.
    """
    found: set[str] = set()
    try:
        result = _walk(tree, _Kind.SCOPE, found)
    except _Dynamic:
        return None
    if result is not _Kind.OTHER:
        # The scope itself, or every step's output, is the value.
        return None
    return frozenset(found)


def _used(kind: _Kind) -> None:
    """A value is consumed as data: fine unless it is the scope or ``steps``."""
    if kind is not _Kind.OTHER:
        raise _Dynamic


def _walk(node: dict[str, Any], context: _Kind, found: set[str]) -> _Kind:
    """What ``node`` yields when evaluated on a value of kind ``context``.

    Recursion here follows the syntax tree, whose depth the compiler has
    already capped.
    """
    node_type = node["type"]
    if node_type == "field":
        if context is _Kind.SCOPE:
            return _Kind.STEPS if node["value"] == "steps" else _Kind.OTHER
        if context is _Kind.STEPS:
            found.add(node["value"])
        return _Kind.OTHER
    if node_type in ("current", "identity"):
        return context
    if node_type in ("literal", "index", "slice"):
        return _Kind.OTHER
    if context is _Kind.OTHER:
        # Nothing below a value that is neither the scope nor ``steps`` can reach them.
        return _Kind.OTHER
    if node_type in _CHAINS:
        kind: _Kind = context
        for child in _children(node):
            kind = _walk(child, kind, found)
        return kind
    if node_type in _ELEMENTWISE or node_type == "flatten":
        _used(_walk(node["children"][0], context, found))
        return _Kind.OTHER
    if node_type == "expref":
        return _Kind.OTHER
    for child in _children(node):
        # Function arguments, comparison operands, members of a multi-select,
        # operands of and/or/not: each is used as data.
        _used(_walk(child, context, found))
    return _Kind.OTHER
