"""What the runtime does with a workflow, the same on every implementation (see ``conftest.py``)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.behaviour.conftest import RUN_WITHIN, Runtime
from tests.runtime.testing_plugin import Calls
from wirehub.engine.execution.state import ExecutionStatus, StepStatus
from wirehub.runtime import InvalidWorkflowError
from wirehub_sdk.host import Progress


def workflow(*steps: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": "test", "steps": list(steps), **extra}


def transform(step_id: str, expression: str | None = None, **extra: Any) -> dict[str, Any]:
    step: dict[str, Any] = {"id": step_id, "type": "core.transform", **extra}
    if expression is not None:
        step["config"] = {"expression": expression}
    return step


async def test_a_chain_passes_each_output_to_the_next_step(runtime: Runtime) -> None:
    result = await runtime.run(
        workflow(
            transform("double", "multiply(n, `2`)", input="input"),
            transform("plus_one", "add(@, `1`)", needs=["double"], input="steps.double"),
            output="steps.plus_one",
        ),
        {"n": 20},
    )
    assert result.status is ExecutionStatus.SUCCEEDED, result.error
    assert result.output == 41


async def test_parallel_steps_run_at_the_same_time_and_the_join_sees_all(runtime: Runtime, calls: Calls) -> None:
    barrier = {"type": "test.barrier", "config": {"parties": 3}, "needs": ["start"]}
    result = await runtime.run(
        workflow(
            transform("start", "`1`"),
            {"id": "a", **barrier},
            {"id": "b", **barrier},
            {"id": "c", **barrier},
            transform("join", "[a.step, b.step, c.step]", needs=["a", "b", "c"]),  # the default input: by source id
            output="steps.join",
        )
    )
    # Each barrier step returns only once all three have started: run one after another, they would time out.
    assert result.status is ExecutionStatus.SUCCEEDED, result.error
    assert result.output == ["a", "b", "c"]
    assert {step: calls.attempts[step] for step in "abc"} == {"a": [1], "b": [1], "c": [1]}
    assert result.state.steps["join"].attempt == 1, "the join ran once"


async def test_branches_not_taken_are_skipped_and_the_join_runs(runtime: Runtime) -> None:
    definition = workflow(
        {
            "id": "route",
            "type": "core.condition",
            "config": {"branches": [{"name": "big", "when": "amount > `100`"}], "default": "small"},
        },
        transform("big_path", "'big'", needs=["route:big"]),
        transform("small_path", "'small'", needs=["route:small"]),
        transform("after_big", "'after'", needs=["big_path"]),
        transform(
            "join",
            "[big, small]",
            needs=["after_big", "small_path"],
            input={"big": "steps.big_path", "small": "steps.small_path"},
        ),
        output="steps.join",
    )
    big = await runtime.run(definition, {"amount": 500})
    small = await runtime.run(definition, {"amount": 5})
    assert big.output == ["big", None]
    assert small.output == [None, "small"]
    assert small.state.steps["big_path"].status is StepStatus.SKIPPED
    assert small.state.steps["after_big"].status is StepStatus.SKIPPED
    assert small.state.steps["join"].status is StepStatus.SUCCEEDED
    assert big.state.steps["small_path"].status is StepStatus.SKIPPED


async def test_a_retryable_failure_is_retried_with_backoff_until_it_succeeds(runtime: Runtime, calls: Calls) -> None:
    retry = {"max_attempts": 4, "interval_seconds": 0.05, "backoff_rate": 2, "max_delay_seconds": 1}
    result = await runtime.run(
        workflow({"id": "flaky", "type": "test.flaky", "config": {"failures": 2}, "retry": retry}),
    )
    assert result.status is ExecutionStatus.SUCCEEDED, result.error
    assert result.output == {"flaky": {"attempt": 3}}
    assert calls.attempts["flaky"] == [1, 2, 3]
    first, second, third = calls.started["flaky"]
    assert second - first >= 0.05, "the first retry waits interval_seconds"
    assert third - second >= 0.1, "the second waits interval_seconds * backoff_rate"
    keys = {ctx.idempotency_key for ctx in calls.contexts["flaky"]}
    assert len(keys) == 1, "the idempotency key is stable across retries"


async def test_retries_end_when_the_policy_runs_out(runtime: Runtime, calls: Calls) -> None:
    retry = {"max_attempts": 2, "interval_seconds": 0.01}
    result = await runtime.run(
        workflow({"id": "flaky", "type": "test.flaky", "config": {"failures": 5}, "retry": retry})
    )
    assert result.status is ExecutionStatus.FAILED
    assert result.error is not None
    assert result.error.kind == "test.flaky"
    assert calls.attempts["flaky"] == [1, 2]


async def test_a_non_retryable_failure_is_never_retried(runtime: Runtime, calls: Calls) -> None:
    retry = {"max_attempts": 5, "interval_seconds": 0.01}
    step = {"id": "broken", "type": "test.flaky", "config": {"failures": 5, "retryable": False}, "retry": retry}
    result = await runtime.run(workflow(step))
    assert result.status is ExecutionStatus.FAILED
    assert calls.attempts["broken"] == [1]


async def test_retry_after_from_the_node_stretches_the_delay(runtime: Runtime, calls: Calls) -> None:
    retry = {"max_attempts": 2, "interval_seconds": 0.01, "max_delay_seconds": 5}
    step = {"id": "flaky", "type": "test.flaky", "config": {"failures": 1, "retry_after": 0.3}, "retry": retry}
    result = await runtime.run(workflow(step))
    assert result.status is ExecutionStatus.SUCCEEDED, result.error
    first, second = calls.started["flaky"]
    assert second - first >= 0.3, "the node's retry_after (0.3 s) wins over the policy's 0.01 s"


async def test_a_catch_route_hands_the_failure_to_its_handler(runtime: Runtime) -> None:
    result = await runtime.run(
        workflow(
            {
                "id": "broken",
                "type": "test.flaky",
                "config": {"failures": 9, "retryable": False},
                "catch": [{"errors": ["test"], "next": "handler"}],
            },
            transform("after", "'never'", needs=["broken"]),
            transform("handler", "{step: step, kind: kind}", input="error"),
            output="steps.handler",
        )
    )
    assert result.status is ExecutionStatus.SUCCEEDED, result.error
    assert result.output == {"step": "broken", "kind": "test.broken"}
    assert result.state.steps["broken"].status is StepStatus.FAILED
    assert result.state.steps["after"].status is StepStatus.SKIPPED


async def test_a_step_past_its_timeout_times_out_and_is_retried(runtime: Runtime, calls: Calls) -> None:
    step = {
        "id": "slow",
        "type": "test.sleep",
        "config": {"seconds": 5, "only_first_attempt": True},
        "timeout_seconds": 0.2,
        "retry": {"max_attempts": 2, "interval_seconds": 0.01, "retry_on": ["timeout"]},
    }
    result = await runtime.run(workflow(step))
    assert result.status is ExecutionStatus.SUCCEEDED, result.error
    assert result.output == {"slow": {"slept": 2}}
    assert calls.attempts["slow"] == [1, 2]


async def test_a_delay_step_waits_without_holding_a_running_node(runtime: Runtime) -> None:
    seen: list[StepStatus] = []

    def observer(event: Any, state: Any) -> None:
        seen.append(state.steps["pause"].status)

    began = time.monotonic()
    result = await runtime.run(
        workflow(
            {"id": "pause", "type": "core.delay", "config": {"seconds": 0.2}},
            transform("after", "'done'", needs=["pause"]),
        ),
        {},  # the root's default input is the execution input, which core.delay reads as an object
        observer=observer,
    )
    assert result.status is ExecutionStatus.SUCCEEDED, result.error
    assert time.monotonic() - began >= 0.2, "the delay was waited out"
    assert StepStatus.WAITING in seen
    assert result.state.steps["pause"].status is StepStatus.SUCCEEDED
    assert "until" in result.output["pause"]
    assert runtime.hub.worker.runner.running == 0


async def test_an_unexpected_exception_fails_the_step_not_the_runtime(runtime: Runtime) -> None:
    result = await runtime.run(workflow({"id": "crash", "type": "test.crash"}))
    assert result.status is ExecutionStatus.FAILED
    assert result.error is not None
    assert result.error.kind == "node.unexpected"
    assert "ZeroDivisionError" in result.error.message
    after = await runtime.run(workflow(transform("fine", "`1`")))
    assert after.status is ExecutionStatus.SUCCEEDED, "the runtime goes on"


async def test_an_output_that_breaks_the_output_schema_fails_the_step(runtime: Runtime) -> None:
    result = await runtime.run(workflow({"id": "wrong", "type": "test.wrong_output"}))
    assert result.status is ExecutionStatus.FAILED
    assert result.error is not None
    assert result.error.kind == "node.output"


async def test_the_execution_output_maps_step_outputs_and_input(runtime: Runtime) -> None:
    result = await runtime.run(
        workflow(
            transform("a", '`{"x": 1, "y": [2, 3]}`'),
            transform("b", "length(@)", needs=["a"], input="steps.a.y"),
            output={"x": "steps.a.x", "count": "steps.b", "who": "input.who"},
        ),
        {"who": "me"},
    )
    assert result.status is ExecutionStatus.SUCCEEDED, result.error
    assert result.output == {"x": 1, "count": 2, "who": "me"}


async def test_credentials_reach_the_node_only_through_its_step(runtime: Runtime) -> None:
    result = await runtime.run(workflow({"id": "who", "type": "test.whoami", "credential": "api"}))
    assert result.status is ExecutionStatus.SUCCEEDED, result.error
    assert result.output["who"]["token"] == "[redacted]", (
        "the node got it (see test_attempt_contract); no output keeps it"
    )
    assert runtime.progress == [("who", 1, Progress("looking", 0.5))]
    missing = await runtime.run(workflow({"id": "who", "type": "test.whoami", "credential": "nope"}))
    assert missing.status is ExecutionStatus.FAILED
    assert missing.error is not None
    assert missing.error.kind == "credential.missing"


async def test_cancel_stops_running_steps(runtime: Runtime, calls: Calls) -> None:
    execution_id = await runtime.start(workflow({"id": "slow", "type": "test.sleep", "config": {"seconds": 30}}))
    async with asyncio.timeout(10):
        while not calls.contexts["slow"]:  # noqa: ASYNC110  # the node under test offers no event to wait on
            await asyncio.sleep(0.01)
    await runtime.hub.cancel(execution_id)
    result = await runtime.result(execution_id)
    assert result.status is ExecutionStatus.CANCELLED
    assert result.state.steps["slow"].status is StepStatus.CANCELLED
    context = calls.contexts["slow"][0]
    async with asyncio.timeout(2):  # the worker learns of it within a second, then sets the node's signal
        while not context.cancelled.is_set():  # noqa: ASYNC110  # set on the node's own thread
            await asyncio.sleep(0.01)


async def test_cancel_before_any_step_ran_ends_the_execution(runtime: Runtime, calls: Calls) -> None:
    execution_id = await runtime.start(
        workflow(
            {"id": "pause", "type": "core.delay", "config": {"seconds": 30}}, transform("after", "`1`", needs=["pause"])
        ),
        {},
    )
    await runtime.hub.cancel(execution_id, "no longer needed")
    result = await runtime.result(execution_id)
    assert result.status is ExecutionStatus.CANCELLED
    assert result.state.steps["after"].status is not StepStatus.SUCCEEDED


async def test_the_workflow_timeout_ends_the_execution(runtime: Runtime) -> None:
    result = await runtime.run(
        workflow({"id": "slow", "type": "test.sleep", "config": {"seconds": 30}}, timeout_seconds=0.3),
    )
    assert result.status is ExecutionStatus.TIMED_OUT
    assert result.state.steps["slow"].status is StepStatus.CANCELLED


async def test_input_that_breaks_the_input_schema_is_refused_with_a_pointer(runtime: Runtime) -> None:
    definition = workflow(transform("t", "@"), input_schema={"type": "object", "required": ["order_id"]})
    with pytest.raises(InvalidWorkflowError) as caught:
        await runtime.run(definition, {"order": 1})
    assert caught.value.problems
    assert "order_id" in caught.value.problems[0].message


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"type": "test.misroute", "config": {"returns": "unknown-branch"}}, "chose branch 'middle'"),
        ({"type": "test.misroute", "config": {"returns": "plain"}}, "must return a Route"),
        ({"type": "test.misroute", "config": {"returns": "wait"}}, "must return a Route"),
        ({"type": "test.stray_route"}, "names no branches"),
    ],
)
async def test_a_node_that_breaks_the_routing_contract_fails_its_step(
    runtime: Runtime, step: dict[str, Any], message: str
) -> None:
    result = await runtime.run(workflow({"id": "route", **step}, transform("after", "'x'", needs=["route"])))
    assert result.status is ExecutionStatus.FAILED
    assert result.error is not None
    assert result.error.kind == "node.result"
    assert message in result.error.message
    assert result.state.steps["after"].status is StepStatus.SKIPPED


MUTATING = {
    "name": "mutating",
    "steps": [
        {"id": "source", "type": "core.transform", "config": {"expression": '`{"items": [1]}`'}},
        {
            "id": "mutate",
            "type": "test.mutate",
            "needs": ["source"],
            "input": "steps.source",
            "config": {"tags": ["original"]},
        },
        {"id": "after", "type": "core.transform", "needs": ["mutate"], "input": "steps.source"},
    ],
    "output": {"mutate": "steps.mutate", "after": "steps.after"},
}


async def test_a_node_that_mutates_its_config_and_input_changes_neither_the_plan_nor_upstream_outputs(
    runtime: Runtime,
) -> None:
    workflow_id = await runtime.hub.save(MUTATING)
    executions = [await runtime.hub.start(workflow_id) for _ in range(3)]
    views = [await runtime.hub.wait(execution_id, within=RUN_WITHIN) for execution_id in executions]
    assert [view.status for view in views] == ["succeeded"] * 3, [view.error for view in views]
    outputs = [view.output for view in views]
    assert [output["mutate"]["tags"] for output in outputs] == [["original", "mutated"]] * 3, (
        "each run starts from the definition's config"
    )
    plan = runtime.hub.store.plans.get((workflow_id, 1))
    assert plan is not None
    assert plan.steps["mutate"].config == {"tags": ["original"]}
    assert outputs[0]["mutate"]["input"] == {"items": [1, "mutated"], "touched": True}
    assert outputs[0]["after"] == {"items": [1]}, "a later step sees what the source returned"
    source = next(run for run in views[0].steps if run.step_id == "source")
    assert source.output == {"items": [1]}, "the recorded output is untouched"
