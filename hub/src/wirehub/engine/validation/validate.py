"""Validating a definition: every problem at once, each with a JSON pointer.

``validate_definition`` reads the JSON, checks its shape against the
language, each step against its node type, the step graph, and every
expression, and compiles a plan when nothing is wrong. One broken step
never hides the problems of another. ``docs/definition-language.md``
lists the checks and their codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import msgspec
from jsonschema import Draft202012Validator

from wirehub.engine.language import limits
from wirehub.engine.language.definition import Step, Workflow
from wirehub.engine.language.jsonsource import parse_document
from wirehub.engine.language.problems import Problem, escape_token, pointer, sort_key
from wirehub.engine.language.schema import definition_schema
from wirehub.engine.plan import Plan, build_plan
from wirehub.engine.validation.catalog import NodeCatalog
from wirehub.engine.validation.expressions import check_expressions
from wirehub.engine.validation.graph import UNKNOWN_BRANCHES, check_graph
from wirehub.engine.validation.input_schema import schema_problems
from wirehub.engine.validation.inputs import read_input, validate_input
from wirehub.engine.validation.nodes import ResolvedStep, resolve_step
from wirehub.engine.validation.schema_errors import SchemaErrorWriter, problems_from_msgspec

__all__ = [
    "MAX_PROBLEMS",
    "Problem",
    "ValidationReport",
    "read_input",
    "schema_problems",
    "validate_definition",
    "validate_input",
]

MAX_PROBLEMS = 1_000
"""A report lists at most this many problems, then says how many more there were."""


@dataclass(slots=True)
class ValidationReport:
    """The outcome of validating a definition.

    Attributes:
        problems: Everything wrong, in document order; empty when valid.
        workflow: The decoded definition when its shape is right (even if
            other checks failed), else ``None``.
        plan: The compiled plan, only when there are no problems.
    """

    problems: list[Problem] = field(default_factory=list)
    workflow: Workflow | None = None
    plan: Plan | None = None

    @property
    def ok(self) -> bool:
        """Whether the definition is valid."""
        return not self.problems


@cache
def _definition_validator() -> Draft202012Validator:
    return Draft202012Validator(definition_schema())


def _finish(problems: list[Problem]) -> list[Problem]:
    ordered = sorted(problems, key=sort_key)
    if len(ordered) <= MAX_PROBLEMS:
        return ordered
    more = len(ordered) - MAX_PROBLEMS
    return [*ordered[:MAX_PROBLEMS], Problem("", f"... and {more} more problems.", "too-many-problems")]


def validate_definition(source: str | bytes | dict[str, Any], catalog: NodeCatalog) -> ValidationReport:
    """Checks a workflow definition and compiles it when it is valid.

    Args:
        source: The definition as JSON text, UTF-8 bytes, or a decoded object.
        catalog: The node types installed in this process.

    Returns:
        A report with every problem found; ``plan`` is set when there are none.
    """
    document = parse_document(source)
    problems = list(document.problems)
    raw = document.value
    if not document.readable:
        return ValidationReport(_finish(problems))
    if not isinstance(raw, dict):
        problems.append(Problem("", "A definition must be a JSON object.", "wrong-type"))
        return ValidationReport(_finish(problems))
    workflow, steps = _decode(raw, problems)
    raw_steps: list[Any] = raw["steps"] if isinstance(raw.get("steps"), list) else []
    ids = [
        (index, item["id"])
        for index, item in enumerate(raw_steps)
        if isinstance(item, dict) and isinstance(item.get("id"), str)
    ]
    resolved: dict[int, ResolvedStep] = {}
    for index, step in steps:
        resolved[index] = resolve_step(index, step, catalog, problems)
    branches: dict[str, tuple[str, ...] | None] = {}
    for index, step in steps:
        if step.id not in branches:
            branches[step.id] = resolved[index].branches if resolved[index].config_ok else UNKNOWN_BRANCHES
    decoded = {index for index, _ in steps}
    undecoded = [item for index, item in enumerate(raw_steps) if index not in decoded]
    facts = check_graph(steps, ids, branches, problems, undecoded_targets=_catch_targets(undecoded))
    check_expressions(steps, resolved, _raw_output(raw), {step_id for _, step_id in ids}, facts, problems)
    if isinstance(raw.get("input_schema"), dict):
        problems.extend(schema_problems(raw["input_schema"], "/input_schema"))
    if problems or workflow is None:
        return ValidationReport(_finish(problems), workflow)
    plan = build_plan(
        workflow,
        versions={step.id: resolved[index].version or 1 for index, step in steps},
        branches={step_id: names for step_id, names in branches.items() if names is not None},
        configs={step.id: resolved[index].config for index, step in steps},
        without_default_input=frozenset(step.id for index, step in steps if not resolved[index].takes_default_input),
    )
    return ValidationReport([], workflow, plan)


def _decode(raw: dict[str, Any], problems: list[Problem]) -> tuple[Workflow | None, list[tuple[int, Step]]]:
    """Decodes the definition; on failure lists every shape problem and keeps the steps that decode."""
    try:
        workflow = msgspec.convert(raw, Workflow)
    except msgspec.ValidationError as exc:
        schema = definition_schema()
        found = SchemaErrorWriter(schema).problems(_definition_validator().iter_errors(raw))
        problems.extend(found or [problems_from_msgspec(str(exc), "")])
    else:
        return workflow, list(enumerate(workflow.steps))
    flagged: dict[int, set[str]] = {}
    for problem in problems:
        tokens = problem.pointer.split("/")
        if len(tokens) > 2 and tokens[1] == "steps" and tokens[2].isdigit():
            flagged.setdefault(int(tokens[2]), set()).add(tokens[3] if len(tokens) > 3 else "")
    steps: list[tuple[int, Step]] = []
    raw_steps: Any = raw.get("steps")
    for index, item in enumerate(raw_steps if isinstance(raw_steps, list) else []):
        step = _salvage_step(item, index, flagged.get(index), problems)
        if step is not None:
            steps.append((index, step))
    return None, steps


_STEP_FIELDS = frozenset(Step.__struct_fields__)
_DROPPABLE = frozenset({"title", "description", "timeout_seconds", "queue_timeout_seconds", "retry", "credential"})
"""Step fields that, when wrong, can be set aside to check the rest of the step."""


def _salvage_step(item: Any, index: int, flagged: set[str] | None, problems: list[Problem]) -> Step | None:
    """Decodes one step of a definition that did not decode as a whole.

    Unknown fields, and wrong fields that play no part in the other checks,
    are set aside (they are already reported), so the step's type, config,
    graph and expressions are still checked.

    Args:
        item: The step as written.
        index: Its position in ``steps``.
        flagged: The (escaped) names of its fields already reported, if any.
        problems: Where a problem is added if msgspec rejects what the
            JSON Schema accepted.
    """
    try:
        return msgspec.convert(item, Step)
    except msgspec.ValidationError as exc:
        if not flagged:
            problems.append(problems_from_msgspec(str(exc), pointer("steps", index)))
    if not isinstance(item, dict):
        return None
    broken = flagged or set()
    kept = {
        key: value
        for key, value in item.items()
        if key in _STEP_FIELDS and not (key in _DROPPABLE and escape_token(key) in broken)
    }
    try:
        return msgspec.convert(kept, Step)
    except msgspec.ValidationError:
        return None


def _catch_targets(items: list[Any]) -> frozenset[str]:
    """Where the catch routes of steps that did not decode may lead, as far as they can be read."""
    targets: set[str] = set()
    for item in items:
        routes = item.get("catch") if isinstance(item, dict) else None
        for route in routes if isinstance(routes, list) else ():
            if isinstance(route, dict) and isinstance(route.get("next"), str):
                targets.add(route["next"])
    return frozenset(targets)


def _raw_output(raw: dict[str, Any]) -> str | dict[str, str] | None:
    """The workflow's ``output`` if it has the right shape (else it was already reported)."""
    output = raw.get("output")
    texts = [output] if isinstance(output, str) else list(output.values()) if isinstance(output, dict) else [None]
    if all(isinstance(text, str) and 0 < len(text) <= limits.MAX_EXPRESSION_LENGTH for text in texts):
        return output
    return None
