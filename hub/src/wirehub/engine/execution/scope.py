"""What expressions see: a step's scope and input, and the execution's output.

A step's scope is ``{"input": <execution input>, "steps": {<id>: <output>}}``
holding the outputs of the step's ancestors that succeeded, plus ``"error"``
for a handler reached through a catch route. The final scope, which the
workflow's ``output`` is evaluated against, holds every step that succeeded.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from wirehub.engine.execution.state import ErrorInfo, StepRun, StepStatus
from wirehub.engine.expressions.evaluate import ExpressionSyntaxError, evaluate, referenced_steps
from wirehub.engine.plan import EdgeKind, Plan, StepPlan
from wirehub_sdk import ExpressionError


def error_view(step_id: str, error: ErrorInfo) -> dict[str, Any]:
    """The ``error`` member of a handler's scope."""
    return {"step": step_id, "kind": error.kind, "message": error.message, "details": error.details}


def caught_error(step: StepPlan, steps: Mapping[str, StepRun]) -> dict[str, Any] | None:
    """The error that routed execution to ``step`` through a catch, if one did.

    When several failed steps route to the same handler, the first of its
    incoming error edges (in definition order) that is active wins.
    """
    for edge in step.incoming:
        if edge.kind is EdgeKind.ERROR:
            source = steps[edge.source]
            if source.caught_by == step.id and source.error is not None:
                return error_view(edge.source, source.error)
    return None


@lru_cache(maxsize=1024)
def _in_id_order(step_ids: frozenset[str]) -> tuple[str, ...]:
    # Plans are cached and immutable, so their ancestor sets recur: sort each once.
    return tuple(sorted(step_ids))


@lru_cache(maxsize=4096)
def _read_steps(texts: tuple[str, ...], ancestors: frozenset[str]) -> tuple[str, ...] | None:
    """The ancestors these expressions read, in id order; ``None`` when they cannot be listed."""
    found: set[str] = set()
    for text in texts:
        try:
            references = referenced_steps(text)
        except ExpressionSyntaxError:
            return None
        if references is None:
            return None
        found |= references
    return tuple(sorted(found & ancestors))


def _visible(step: StepPlan) -> tuple[str, ...]:
    """The ancestors whose outputs ``step``'s scope must hold.

    All of them for a step without an input mapping (its input is the whole
    scope); for a mapping whose expressions name the steps they read
    (``steps.fetch.body``), only those, since nothing else can be observed.
    """
    mapping = step.input
    if mapping is not None:
        texts = (mapping,) if isinstance(mapping, str) else tuple(mapping.values())
        read = _read_steps(texts, step.ancestors)
        if read is not None:
            return read
    return _in_id_order(step.ancestors)


def step_scope(step: StepPlan, steps: Mapping[str, StepRun], execution_input: Any) -> dict[str, Any]:
    """The scope ``step``'s input is evaluated against.

    ``steps`` holds the ancestors of ``step`` that succeeded (those its input
    mapping can read), keyed in id order so the same execution always
    yields the same document.
    """
    succeeded = StepStatus.SUCCEEDED
    outputs = {ancestor: run.output for ancestor in _visible(step) if (run := steps[ancestor]).status is succeeded}
    scope: dict[str, Any] = {"input": execution_input, "steps": outputs}
    error = caught_error(step, steps)
    if error is not None:
        scope["error"] = error
    return scope


def evaluate_mapping(mapping: str | dict[str, str], scope: Any) -> Any:
    """Evaluates one expression, or an object of expressions, against ``scope``.

    Raises:
        wirehub_sdk.ExpressionError: An expression failed.
    """
    if isinstance(mapping, str):
        return evaluate(mapping, scope)
    result: dict[str, Any] = {}
    for key, text in mapping.items():
        try:
            result[key] = evaluate(text, scope)
        except ExpressionError as exc:
            raise ExpressionError(f"{key}: {exc}", details=exc.details) from exc
    return result


def step_input(step: StepPlan, scope: dict[str, Any]) -> Any:
    """The input a step's attempt runs with: its mapping evaluated, or the whole scope.

    Raises:
        wirehub_sdk.ExpressionError: An expression of the mapping failed.
    """
    if step.input is None:
        return scope
    return evaluate_mapping(step.input, scope)


def final_scope(plan: Plan, steps: Mapping[str, StepRun], execution_input: Any) -> dict[str, Any]:
    """``{"input", "steps"}`` with the output of every step that succeeded, in definition order."""
    outputs = {
        step_id: steps[step_id].output for step_id in plan.steps if steps[step_id].status is StepStatus.SUCCEEDED
    }
    return {"input": execution_input, "steps": outputs}


def execution_output(plan: Plan, steps: Mapping[str, StepRun], execution_input: Any) -> Any:
    """The output of an execution whose steps are all terminal.

    Without an ``output`` in the definition, it is ``{step_id: output}`` of
    the steps that succeeded.

    Raises:
        wirehub_sdk.ExpressionError: An output expression failed.
    """
    scope = final_scope(plan, steps, execution_input)
    if plan.output is None:
        return scope["steps"]
    return evaluate_mapping(plan.output, scope)
