"""What a step's attempt runs with, and what the execution returns.

A step without an input mapping gets its *default input*, which never copies
anything: the execution input for a root step; for a step with one source,
that source's output (or, for a handler reached through a catch route, the
error view ``{step, kind, message, details}``); for a step with several
sources, ``{<source id>: <output or error view>}`` of its active sources.

A step with an input mapping evaluates it against its scope,
``{"input": <execution input>, "steps": {<id>: <output>}}`` holding the
outputs of the ancestors the mapping reads (all of them when it reads
``steps`` dynamically), plus ``"error"`` for a handler reached through a
catch route. The workflow's ``output`` is evaluated against the final scope,
which holds every step that succeeded.

Evaluation here happens inside a transition, so it is bounded by counted
budgets only (``TransitionBudget``): no clock, and so the same transition
always ends the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from wirehub.engine.execution.state import ErrorInfo, StepRun, StepStatus
from wirehub.engine.expressions.bounds import Budget
from wirehub.engine.expressions.evaluate import ExpressionSyntaxError, compile_expression
from wirehub.engine.language import limits
from wirehub.engine.plan import EdgeKind, Plan, StepPlan
from wirehub_sdk import ExpressionError


class InputTooLargeError(Exception):
    """A step's default input would be larger than ``MAX_STEP_INPUT_BYTES``."""


class TransitionBudget:
    """The interpreter steps the evaluations of one transition may still take, together.

    Each evaluation gets ``MAX_EVAL_STEPS`` or what is left of
    ``MAX_TRANSITION_EVAL_STEPS``, whichever is smaller, and no wall-clock
    deadline.
    """

    __slots__ = ("left",)

    def __init__(self, steps: int | None = None) -> None:
        self.left = limits.MAX_TRANSITION_EVAL_STEPS if steps is None else steps

    def evaluate(self, text: str, data: Any) -> Any:
        """Evaluates ``text`` against ``data`` within the budget.

        Raises:
            wirehub_sdk.ExpressionError: It does not compile, fails, or hits a bound.
        """
        try:
            compiled = compile_expression(text)
        except ExpressionSyntaxError as exc:
            raise ExpressionError(f"invalid expression: {exc}") from exc
        allowed = min(limits.MAX_EVAL_STEPS, self.left)
        budget = Budget(max_steps=allowed, deterministic=True)
        try:
            return compiled.evaluate(data, budget)
        except ExpressionError as exc:
            if budget.steps > allowed and allowed < limits.MAX_EVAL_STEPS:
                raise ExpressionError(
                    f"the expressions of this transition needed more than {limits.MAX_TRANSITION_EVAL_STEPS} "
                    "evaluation steps together (limit MAX_TRANSITION_EVAL_STEPS)"
                ) from exc
            raise
        finally:
            self.left -= min(budget.steps, allowed)


def error_view(step_id: str, error: ErrorInfo) -> dict[str, Any]:
    """What a handler sees of the error that routed to it."""
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


def _active_sources(step: StepPlan, steps: Mapping[str, StepRun]) -> dict[str, tuple[Any, int]]:
    """``{source id: (value, size as JSON)}`` of the sources that let ``step`` run, in edge order.

    A source that succeeded through an OK edge (or the branch an edge names)
    hands its output, whose size was recorded when it was accepted; a source
    whose failure a catch route sent here hands its error view.
    """
    active: dict[str, tuple[Any, int]] = {}
    succeeded = StepStatus.SUCCEEDED
    for edge in step.incoming:
        source_id = edge.source
        if source_id in active:
            continue
        source = steps[source_id]
        kind = edge.kind
        if kind is EdgeKind.ERROR:
            if source.caught_by == step.id and source.error is not None:
                view = error_view(source_id, source.error)
                active[source_id] = (view, len(msgspec.json.encode(view)))
        elif source.status is succeeded and (kind is EdgeKind.OK or source.branch == edge.branch):
            active[source_id] = (source.output, source.output_bytes)
    return active


def default_input(step: StepPlan, steps: Mapping[str, StepRun], execution_input: Any) -> Any:
    """The input of a step without an input mapping; shares its values, copies none.

    Raises:
        InputTooLargeError: Its sources' outputs together are larger than
            ``MAX_STEP_INPUT_BYTES`` (measured from their recorded sizes).
    """
    if not step.takes_default_input:
        return None
    if not step.sources:
        return execution_input
    active = _active_sources(step, steps)
    if len(step.sources) == 1:
        # The step runs, so its one source is active.
        return next(iter(active.values()))[0]
    size = 2 + sum(len(source_id) + 4 + value_size for source_id, (_, value_size) in active.items())
    if size > limits.MAX_STEP_INPUT_BYTES:
        raise InputTooLargeError(
            f"the outputs of its {len(active)} active sources are {size} bytes as JSON together; "
            f"the limit is {limits.MAX_STEP_INPUT_BYTES} (MAX_STEP_INPUT_BYTES): give it an input mapping"
        )
    return {source_id: value for source_id, (value, _) in active.items()}


def _visible(step: StepPlan) -> tuple[str, ...]:
    """The ancestors whose outputs ``step``'s scope must hold.

    For a mapping whose expressions name the steps they read
    (``steps.fetch.body``), only those (worked out once, in the plan), since
    nothing else can be observed; every ancestor otherwise.
    """
    mapped = step.mapped_steps
    return mapped if mapped is not None else step.ancestors.in_id_order()


def step_scope(step: StepPlan, steps: Mapping[str, StepRun], execution_input: Any) -> dict[str, Any]:
    """The scope ``step``'s input mapping is evaluated against.

    ``steps`` holds the ancestors of ``step`` that succeeded and that its
    mapping may read, keyed in id order so the same execution always yields
    the same document.
    """
    succeeded = StepStatus.SUCCEEDED
    outputs = {ancestor: run.output for ancestor in _visible(step) if (run := steps[ancestor]).status is succeeded}
    scope: dict[str, Any] = {"input": execution_input, "steps": outputs}
    error = caught_error(step, steps)
    if error is not None:
        scope["error"] = error
    return scope


def evaluate_mapping(mapping: str | dict[str, str], scope: Any, budget: TransitionBudget) -> Any:
    """Evaluates one expression, or an object of expressions, against ``scope``.

    Raises:
        wirehub_sdk.ExpressionError: An expression failed.
    """
    if isinstance(mapping, str):
        return budget.evaluate(mapping, scope)
    result: dict[str, Any] = {}
    for key, text in mapping.items():
        try:
            result[key] = budget.evaluate(text, scope)
        except ExpressionError as exc:
            raise ExpressionError(f"{key}: {exc}", details=exc.details) from exc
    return result


def final_scope(plan: Plan, steps: Mapping[str, StepRun], execution_input: Any) -> dict[str, Any]:
    """``{"input", "steps"}`` with the output of every step that succeeded, in definition order."""
    outputs = {
        step_id: steps[step_id].output for step_id in plan.steps if steps[step_id].status is StepStatus.SUCCEEDED
    }
    return {"input": execution_input, "steps": outputs}


def execution_output(
    plan: Plan, steps: Mapping[str, StepRun], execution_input: Any, budget: TransitionBudget | None = None
) -> Any:
    """The output of an execution whose steps are all terminal.

    Without an ``output`` in the definition, it is ``{step_id: output}`` of
    the steps that succeeded.

    Raises:
        wirehub_sdk.ExpressionError: An output expression failed.
    """
    scope = final_scope(plan, steps, execution_input)
    if plan.output is None:
        return scope["steps"]
    return evaluate_mapping(plan.output, scope, budget or TransitionBudget())
