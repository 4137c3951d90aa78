"""The expression language: JMESPath, checked when saved, compiled once, evaluated within bounds.

``compile_expression`` runs when a definition is validated: it rejects an
expression that is too long, nests too deeply, calls an unknown function or
does not parse. ``evaluate`` runs an expression against data with a budget of
interpreter steps, time and created items, and checks the size of the
result. ``docs/expressions.md`` is the reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jmespath
from jmespath import exceptions as jmespath_errors

from wirehub.engine.expressions.bounds import Budget, TooLargeError, json_size
from wirehub.engine.expressions.functions import FUNCTION_NAMES
from wirehub.engine.expressions.interpreter import BoundedInterpreter
from wirehub.engine.expressions.static import (
    bracket_depth,
    function_problems,
    literal_problems,
    tree_depth,
)
from wirehub.engine.expressions.static import referenced_steps as _tree_references
from wirehub.engine.language import limits
from wirehub_sdk import ExpressionError

__all__ = [
    "FUNCTION_NAMES",
    "CompiledExpression",
    "ExpressionSyntaxError",
    "compile_expression",
    "evaluate",
    "referenced_steps",
]


class ExpressionSyntaxError(ValueError):
    """An expression does not parse, or breaks a limit of the language.

    Args:
        message: What is wrong, as a clause (``"unknown function foo()"``).
        code: A short machine code: ``expression-syntax``, ``expression-empty``,
            ``expression-too-long``, ``expression-too-deep``,
            ``unknown-function`` or ``function-arity``.
        column: Where the parser stopped (0-based), when known.
    """

    def __init__(self, message: str, *, code: str = "expression-syntax", column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.column = column


@dataclass(frozen=True, slots=True)
class CompiledExpression:
    """A parsed, checked expression, ready to evaluate any number of times."""

    text: str
    tree: dict[str, Any]
    references: frozenset[str] | None
    """Step ids read as ``steps.<id>``; ``None`` when steps are reached dynamically."""

    def evaluate(self, data: Any, budget: Budget | None = None) -> Any:
        """Evaluates against ``data`` within the limits of ``wirehub.engine.language.limits``.

        Args:
            data: The scope (or any JSON-like value).
            budget: Overrides the default budget (tests use a tighter one).

        Raises:
            ExpressionError: Evaluation failed or hit a bound; the message
                names the bound.
        """
        budget = budget or Budget()
        try:
            result = BoundedInterpreter(budget).visit(self.tree, data)
        except ExpressionError:
            raise
        except RecursionError as exc:
            raise ExpressionError("the expression's data nests too deeply to evaluate") from exc
        except MemoryError as exc:
            raise ExpressionError("the expression ran out of memory") from exc
        except Exception as exc:
            raise ExpressionError(f"the expression failed: {_shorten(str(exc))}") from exc
        try:
            json_size(result, limits.MAX_OUTPUT_BYTES, budget)
        except TooLargeError as exc:
            raise ExpressionError(f"the expression's result is {exc} (limit MAX_OUTPUT_BYTES)") from None
        return result


def _shorten(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."


@lru_cache(maxsize=4096)
def compile_expression(text: str) -> CompiledExpression:
    """Parses and checks ``text`` once; later calls with the same text are free.

    Raises:
        ExpressionSyntaxError: It does not parse, is empty, is longer than
            ``MAX_EXPRESSION_LENGTH``, nests deeper than
            ``MAX_EXPRESSION_DEPTH``, or calls an unknown function or one
            with the wrong number of arguments.
    """
    if not isinstance(text, str):
        raise ExpressionSyntaxError(f"an expression must be a string, not {type(text).__name__}")
    if not text.strip():
        raise ExpressionSyntaxError("the expression is empty", code="expression-empty")
    if len(text) > limits.MAX_EXPRESSION_LENGTH:
        raise ExpressionSyntaxError(
            f"the expression is {len(text)} characters long; the limit is "
            f"{limits.MAX_EXPRESSION_LENGTH} (MAX_EXPRESSION_LENGTH)",
            code="expression-too-long",
        )
    too_deep = ExpressionSyntaxError(
        f"the expression nests more than {limits.MAX_EXPRESSION_DEPTH} levels deep (MAX_EXPRESSION_DEPTH)",
        code="expression-too-deep",
    )
    if bracket_depth(text) > limits.MAX_EXPRESSION_DEPTH:
        raise too_deep
    bad_literals = literal_problems(text)
    if bad_literals:
        raise ExpressionSyntaxError(bad_literals[0])
    tree = _parse(text, too_deep)
    if tree_depth(tree) > limits.MAX_EXPRESSION_DEPTH:
        raise too_deep
    problems = function_problems(tree)
    if problems:
        raise ExpressionSyntaxError("; ".join(message for _, message in problems), code=problems[0][0])
    return CompiledExpression(text, tree, _tree_references(tree))


def _parse(text: str, too_deep: ExpressionSyntaxError) -> dict[str, Any]:
    try:
        parsed: dict[str, Any] = dict(jmespath.compile(text).parsed)
    except RecursionError:
        raise too_deep from None
    except jmespath_errors.IncompleteExpressionError as exc:
        raise ExpressionSyntaxError(
            "the expression is incomplete: it ends where more was expected", column=len(text)
        ) from exc
    except jmespath_errors.LexerError as exc:
        raise ExpressionSyntaxError(
            f"the expression does not parse at column {exc.lexer_position}: {exc.message}",
            column=exc.lexer_position,
        ) from exc
    except jmespath_errors.ParseError as exc:
        expected, _, found = exc.msg.removeprefix("Expecting: ").partition(", got: ")
        if found == "eof":
            message = f"the expression is incomplete: expected {_tokens(expected)} at column {exc.lex_position}"
        elif found:
            message = (
                f"the expression does not parse at column {exc.lex_position}: "
                f"expected {_tokens(expected)}, found {_tokens(found)}"
            )
        elif exc.msg.startswith("Unexpected token"):
            message = f'the expression does not parse at column {exc.lex_position}: unexpected "{exc.token_value}"'
        else:
            reason = exc.msg.rstrip(".")
            message = f'the expression does not parse at column {exc.lex_position}: {reason} (at "{exc.token_value}")'
        if exc.token_type == "NUMBER":  # noqa: S105 - a token type, not a password
            message += f"; a number is a literal: write `{exc.token_value}`"
        raise ExpressionSyntaxError(message, column=exc.lex_position) from exc
    except jmespath_errors.JMESPathError as exc:
        raise ExpressionSyntaxError(f"the expression does not parse: {exc}") from exc
    return parsed


_TOKEN_WORDS = {
    "unquoted_identifier": "a name",
    "quoted_identifier": 'a "quoted" name',
    "lbracket": "[",
    "rbracket": "]",
    "lbrace": "{",
    "rbrace": "}",
    "lparen": "(",
    "rparen": ")",
    "comma": ",",
    "colon": ":",
    "dot": ".",
    "pipe": "|",
    "number": "a number",
    "literal": "a literal",
    "eof": "the end",
    "star": "*",
    "current": "@",
}


def _tokens(names: str) -> str:
    """``"['lbracket', 'lbrace']"`` as ``"[ or {"``: the parser's token names, in words."""
    words = [_TOKEN_WORDS.get(name, name) for name in re.findall(r"[a-z_]+", names)]
    return " or ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)


def referenced_steps(text: str) -> set[str] | None:
    """The step ids ``text`` reads as ``steps.<id>`` (or ``steps."<id>"``) from its scope.

    Only references from the scope's root count: inside a projection or
    filter ``@`` is an element. Returns ``None`` when the expression reaches
    step outputs dynamically (``steps.*``, ``keys(steps)``, ``@``...), so its
    references cannot be listed.

    Raises:
        ExpressionSyntaxError: ``text`` does not compile.
    """
    references = compile_expression(text).references
    return None if references is None else set(references)


def evaluate(text: str, data: Any) -> Any:
    """Evaluates ``text`` against ``data``, compiling it on first use.

    Raises:
        ExpressionError: It does not compile, fails, or hits a bound.
    """
    try:
        compiled = compile_expression(text)
    except ExpressionSyntaxError as exc:
        raise ExpressionError(f"invalid expression: {exc}") from exc
    return compiled.evaluate(data)
