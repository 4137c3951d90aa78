"""Bounded, linear data: output sizes are limited and recorded, default inputs share rather than copy."""

from __future__ import annotations

import tracemalloc
from typing import Any

import msgspec
import pytest

from tests.engine.machine_helpers import T0, at, make_plan, runs, step, succeed
from wirehub.engine import (
    ErrorInfo,
    ExecutionStatus,
    FinishExecution,
    Plan,
    RunStep,
    StepFailed,
    StepStarted,
    StepStatus,
    StepSucceeded,
    StepSuspended,
    apply,
    start,
)
from wirehub.engine.language import limits

MEGABYTE = "x" * 1_000_000
"""Just under MAX_STEP_OUTPUT_BYTES as JSON (1,000,002 bytes with its quotes)."""


def chain(n: int, **fields: Any) -> Plan:
    return make_plan([step("s0", **fields)] + [step(f"s{i}", f"s{i - 1}", **fields) for i in range(1, n)])


def test_each_output_records_its_size_and_the_execution_its_total() -> None:
    plan = chain(3)
    state, _ = start(plan, "ex-1", None, T0)
    outputs = [{"a": 1}, "é" * 10, [1, 2.5, None]]
    for i, output in enumerate(outputs):
        state, _ = succeed(plan, state, f"s{i}", output)
    sizes = [len(msgspec.json.encode(output)) for output in outputs]
    assert [state.steps[f"s{i}"].output_bytes for i in range(3)] == sizes
    assert state.output_bytes == sum(sizes)


def test_an_output_over_the_limit_fails_the_step_for_good_with_a_clear_error() -> None:
    plan = make_plan([step("big", retry={"max_attempts": 5, "interval_seconds": 1}), step("after", "big")])
    state, _ = start(plan, "ex-1", None, T0)
    state, commands = succeed(plan, state, "big", "x" * 1_100_000)
    run = state.steps["big"]
    assert run.status is StepStatus.FAILED  # not retried: retrying gives the same output
    assert run.output is None
    assert run.error is not None
    assert run.error.kind == "output.too_large"
    assert not run.error.retryable
    assert "MAX_STEP_OUTPUT_BYTES" in run.error.message
    assert run.error.details == {"bytes": 1_100_002, "limit": limits.MAX_STEP_OUTPUT_BYTES}
    assert state.status is ExecutionStatus.FAILED
    assert state.output_bytes == 0
    (finish,) = [c for c in commands if isinstance(c, FinishExecution)]
    assert finish.error is not None
    assert finish.error.kind == "output.too_large"


def test_a_catch_route_can_take_an_output_that_is_too_large_even_a_suspended_one() -> None:
    plan = make_plan([step("big", catch=[{"errors": ["output"], "next": "h"}]), step("h")])
    state, _ = start(plan, "ex-1", None, T0)
    state, _ = apply(plan, state, StepStarted("big", 1, at(1)))
    state, commands = apply(plan, state, StepSuspended("big", 1, at(2), until=at(9), output=MEGABYTE * 2))
    assert state.steps["big"].status is StepStatus.FAILED
    assert state.steps["big"].caught_by == "h"
    assert runs(commands)["h"].input["kind"] == "output.too_large"


def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "output",
    [{"bad": object()}, ["lone surrogate \ud800"], nested(100_000)],
    ids=["object", "surrogate", "too-deep"],
)
def test_an_output_that_is_not_json_fails_the_step(output: Any) -> None:
    plan = make_plan([step("a")])
    state, _ = start(plan, "ex-1", None, T0)
    state, _ = apply(plan, state, StepSucceeded("a", 1, at(1), output))
    assert state.steps["a"].status is StepStatus.FAILED
    assert state.steps["a"].error is not None
    assert state.steps["a"].error.kind == "output.invalid"
    assert state.steps["a"].output is None


def test_300_steps_of_a_megabyte_each_hit_the_execution_total_with_a_clear_error() -> None:
    plan = chain(300)
    state, _ = start(plan, "ex-1", None, T0)
    accepted = 0
    while state.status is ExecutionStatus.RUNNING:
        step_id = f"s{accepted}"
        state, _ = apply(plan, state, StepSucceeded(step_id, 1, at(1), MEGABYTE))
        if state.steps[step_id].status is StepStatus.SUCCEEDED:
            accepted += 1
    assert accepted == limits.MAX_EXECUTION_OUTPUT_BYTES // 1_000_002
    assert state.output_bytes == accepted * 1_000_002 <= limits.MAX_EXECUTION_OUTPUT_BYTES
    assert state.status is ExecutionStatus.FAILED
    assert state.error is not None
    assert state.error.kind == "output.execution_too_large"
    assert "MAX_EXECUTION_OUTPUT_BYTES" in state.error.message
    assert state.error.step_id == f"s{accepted}"


def test_a_default_input_over_the_limit_fails_the_step_from_the_recorded_sizes() -> None:
    sources = [f"w{i}" for i in range(20)]
    plan = make_plan([step("root")] + [step(s, "root") for s in sources] + [step("join", *sources)])
    state, _ = start(plan, "ex-1", None, T0)
    state, _ = succeed(plan, state, "root", 1)
    for source in sources:
        state, _ = succeed(plan, state, source, MEGABYTE)
    run = state.steps["join"]
    assert run.status is StepStatus.FAILED
    assert run.error is not None
    assert run.error.kind == "input.too_large"
    assert "MAX_STEP_INPUT_BYTES" in run.error.message


def drive_chain(plan: Plan, execution_input: Any, output: Any) -> tuple[Any, int]:
    """Runs a chain to its end, each step outputting ``output`` plus its index; returns (state, stored bytes)."""
    state, commands = start(plan, "ex-1", execution_input, T0)
    stored = len(msgspec.json.encode(execution_input))
    (command,) = [c for c in commands if isinstance(c, RunStep)]
    while True:
        stored += len(msgspec.json.encode(command.input))
        result = {"i": command.step_id, "payload": output}
        stored += len(msgspec.json.encode(result))
        state, _ = apply(plan, state, StepStarted(command.step_id, 1, at(1)))
        state, commands = apply(plan, state, StepSucceeded(command.step_id, 1, at(2), result))
        following = [c for c in commands if isinstance(c, RunStep)]
        if not following:
            return state, stored
        (command,) = following


def test_a_2000_step_chain_without_mappings_runs_in_a_small_memory_bound() -> None:
    payload = "p" * 1000
    tracemalloc.start()
    try:
        plan = chain(2000)  # the plan's ancestor sets included: they were quadratic too
        state, _ = drive_chain(plan, {"seed": payload}, payload)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert state.status is ExecutionStatus.SUCCEEDED
    assert peak < 50_000_000, f"peak {peak / 1e6:.1f} MB"


def test_stored_bytes_grow_linearly_with_the_number_of_steps() -> None:
    payload = "p" * 1000
    _, small = drive_chain(chain(250), {"seed": payload}, payload)
    state, large = drive_chain(chain(1000), {"seed": payload}, payload)
    assert 3.9 < large / small < 4.1, (small, large)
    assert state.output_bytes == sum(run.output_bytes for run in state.steps.values())


def test_a_failed_execution_carries_the_failing_steps_error_in_full() -> None:
    plan = make_plan([step("a"), step("call", "a")])
    state, _ = start(plan, "ex-1", None, T0)
    state, _ = succeed(plan, state, "a", 1)
    details = {"status": 400, "url": "https://api.example/x", "body": '{"error": "bad field"}'}
    error = ErrorInfo("http.status", "POST https://api.example/x answered 400", details=details)
    state, commands = apply(plan, state, StepFailed("call", 1, at(3), error))
    expected = ErrorInfo(
        "http.status",
        "step 'call' failed: POST https://api.example/x answered 400",
        retryable=False,
        details=details,
        step_id="call",
        attempt=1,
        node_type="test.node",
    )
    assert state.error == expected
    (finish,) = [c for c in commands if isinstance(c, FinishExecution)]
    assert finish.error == expected
    assert msgspec.json.decode(msgspec.json.encode(finish.error), type=ErrorInfo) == expected
