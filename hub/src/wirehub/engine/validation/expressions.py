"""Checking every expression of a definition, and which step outputs each may read.

A step's ``input`` expressions see the outputs of the step's ancestors
only: the steps that always finish before it starts. Reading ``steps.X``
where ``X`` does not exist, is the step itself, or may still be running is
an error. Config fields a node type marks as ``wirehub_sdk.Expression`` are
evaluated by the node against the step's input, never the scope (without
an ``input`` mapping it is the step's default input), so they are checked
for syntax and limits only. The
workflow's ``output`` is evaluated after every step, so it may read any
step. Expressions that reach ``steps`` dynamically (``steps.*``,
``keys(steps)``) cannot be checked this way; at run time they see only the
ancestors.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from collections.abc import Set as AbstractSet

from wirehub.engine.expressions.evaluate import ExpressionSyntaxError, compile_expression
from wirehub.engine.language import limits
from wirehub.engine.language.definition import Step
from wirehub.engine.language.problems import Problem, join, pointer
from wirehub.engine.validation.graph import GraphFacts
from wirehub.engine.validation.nodes import ResolvedStep


def _mapping(value: str | dict[str, str] | None, at: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield at, value
    elif isinstance(value, dict):
        for key, text in value.items():
            yield join(at, key), text


def check_expressions(
    steps: list[tuple[int, Step]],
    resolved: Mapping[int, ResolvedStep],
    output: str | dict[str, str] | None,
    all_ids: set[str],
    facts: GraphFacts,
    problems: list[Problem],
) -> None:
    """Compiles every expression and checks the steps it reads.

    Args:
        steps: ``(index, step)`` of the steps that decoded.
        resolved: What node-type resolution found, by step index.
        output: The workflow's ``output`` (if it has the right shape).
        all_ids: Every step id in the definition.
        facts: Ancestors from the graph checks, for the steps they could judge.
        problems: Where problems are appended.
    """
    for index, step in steps:
        found = [*_mapping(step.input, pointer("steps", index, "input")), *resolved[index].expressions]
        if len(found) > limits.MAX_EXPRESSIONS_PER_STEP:
            problems.append(
                Problem(
                    pointer("steps", index),
                    f"The step has {len(found)} expressions (input and config together); the limit is "
                    f"{limits.MAX_EXPRESSIONS_PER_STEP} (MAX_EXPRESSIONS_PER_STEP).",
                    "too-many-expressions",
                )
            )
        ancestors = facts.ancestors.get(index)
        for at, text in _mapping(step.input, pointer("steps", index, "input")):
            _check_one(at, text, step.id, ancestors, all_ids, problems)
        for at, text in resolved[index].expressions:
            # The node evaluates its config against its input (mapped, or the default input), never the scope.
            _check_one(at, text, None, None, set(), problems, references=False)
    for at, text in _mapping(output, "/output"):
        _check_one(at, text, None, None, all_ids, problems)


def _check_one(
    at: str,
    text: str,
    step_id: str | None,
    ancestors: AbstractSet[str] | None,
    all_ids: set[str],
    problems: list[Problem],
    *,
    references: bool = True,
) -> None:
    """Checks one expression used by step ``step_id`` (``None``: the workflow's output)."""
    try:
        compiled = compile_expression(text)
    except ExpressionSyntaxError as exc:
        ending = "" if exc.message.endswith((".", "?")) else "."
        problems.append(Problem(at, f"Invalid expression: {exc.message}{ending}", exc.code))
        return
    if not references:
        return
    for name in sorted(compiled.references or ()):
        if name not in all_ids:
            problems.append(
                Problem(
                    at, f'The expression reads steps.{name}, but there is no step "{name}".', "unknown-step-reference"
                )
            )
        elif name == step_id:
            problems.append(
                Problem(
                    at,
                    f"The expression reads steps.{name}, the output of its own step, which does not exist yet.",
                    "self-reference",
                )
            )
        elif step_id is not None and ancestors is not None and name not in ancestors:
            problems.append(
                Problem(
                    at,
                    f'The expression reads steps.{name}, but step "{name}" may still be running (or not have run) '
                    f'when step "{step_id}" starts. Add "{name}" to its needs, directly or through another step.',
                    "not-an-ancestor",
                )
            )
