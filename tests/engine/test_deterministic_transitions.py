"""Transitions are deterministic: no clock decides what an input mapping or the output evaluates to."""

from __future__ import annotations

import itertools
import types

import pytest

from tests.engine.machine_helpers import T0, at, make_plan, runs, step, succeed
from wirehub.engine import ExecutionStatus, StepStatus, apply, evaluate, start
from wirehub.engine.execution.events import StepSucceeded
from wirehub.engine.expressions import bounds
from wirehub.engine.language import limits
from wirehub_sdk import ExpressionError

ITEMS: list[dict[str, int | str]] = [{"n": n, "tag": f"t{n % 7}"} for n in range(2_000)]
EXPECTED = sum(1 for n in range(2_000) if n > 10 and n % 7 != 3)
HEAVY = "length(input.items[?n > `10` && tag != 't3'])"
"""Thousands of interpreter steps: a run long enough to cross a wall-clock budget on a slow clock."""


def slow_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Makes the evaluator's monotonic clock jump an hour every time it is read."""
    ticks = itertools.count()
    monkeypatch.setattr(bounds, "time", types.SimpleNamespace(monotonic=lambda: next(ticks) * 3600.0))


def test_a_transition_gives_the_same_result_however_slow_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = make_plan(
        [step("a"), step("b", "a", input={"count": HEAVY, "first": "steps.a.v"})],
        output={"count": HEAVY, "b": "steps.b"},
    )
    state, _ = start(plan, "ex-1", {"items": ITEMS}, T0)
    state, _ = apply(plan, state, StepSucceeded("a", 1, at(1), {"v": 1}))
    event = StepSucceeded("b", 1, at(2), "b-out")
    reference = apply(plan, state, event)

    slow_clock(monkeypatch)
    assert apply(plan, state, event) == reference
    new_state, _ = reference
    assert new_state.status is ExecutionStatus.SUCCEEDED
    assert new_state.output == {"count": EXPECTED, "b": "b-out"}


def test_the_slow_clock_does_stop_an_evaluation_a_node_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Proves the clock bites: the facade's evaluate, which nodes use at run time, keeps its wall-clock budget."""
    slow_clock(monkeypatch)
    with pytest.raises(ExpressionError, match="MAX_EVAL_SECONDS"):
        evaluate(HEAVY, {"input": {"items": ITEMS}})


def test_the_slow_clock_changes_nothing_in_the_input_a_step_is_scheduled_with(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = make_plan([step("a"), step("b", "a", input={"count": HEAVY})])
    state, _ = start(plan, "ex-1", {"items": ITEMS}, T0)
    reference = succeed(plan, state, "a", 1)
    slow_clock(monkeypatch)
    assert succeed(plan, state, "a", 1) == reference
    assert runs(reference[1])["b"].input == {"count": EXPECTED}


def test_one_transition_has_a_total_budget_of_evaluation_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_TRANSITION_EVAL_STEPS", 25_000)
    plan = make_plan([step("root")] + [step(f"w{i}", "root", input={"count": HEAVY}) for i in range(10)])
    state, _ = start(plan, "ex-1", {"items": ITEMS}, T0)
    outcome = succeed(plan, state, "root", 1)
    assert succeed(plan, state, "root", 1) == outcome  # the same steps fail every time
    new_state, _ = outcome
    assert new_state.status is ExecutionStatus.FAILED
    assert new_state.error is not None
    assert new_state.error.kind == "expression"
    assert "MAX_TRANSITION_EVAL_STEPS" in new_state.error.message
    scheduled = [s for s in plan.steps if new_state.steps[s].status is StepStatus.SKIPPED and s != "root"]
    assert scheduled, "the steps evaluated before the budget ran out were scheduled (then skipped when it failed)"
