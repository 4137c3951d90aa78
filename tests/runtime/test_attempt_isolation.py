"""An attempt works on its own copies of its config and input."""

from __future__ import annotations

from typing import Any

from wirehub.engine.execution.state import ExecutionStatus
from wirehub.runtime import LocalExecution, compile_definition
from wirehub.runtime.executor import StepEnvironment
from wirehub.runtime.registry import NodeRegistry

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


async def test_a_node_that_mutates_its_config_leaves_the_plan_unchanged(registry: NodeRegistry) -> None:
    plan = compile_definition(MUTATING, registry)
    outputs: list[Any] = []
    async with StepEnvironment(registry) as env:
        for _ in range(3):
            result = await LocalExecution(plan, env).run()
            assert result.status is ExecutionStatus.SUCCEEDED, result.error
            outputs.append(result.output["mutate"]["tags"])
    assert outputs == [["original", "mutated"]] * 3, "each run starts from the definition's config"
    assert plan.steps["mutate"].config == {"tags": ["original"]}


async def test_a_node_that_mutates_its_input_leaves_upstream_outputs_unchanged(run: Any) -> None:
    result = await run(MUTATING)
    assert result.status is ExecutionStatus.SUCCEEDED, result.error
    assert result.output["mutate"]["input"] == {"items": [1, "mutated"], "touched": True}
    assert result.state.steps["source"].output == {"items": [1]}, "the recorded output is untouched"
    assert result.output["after"] == {"items": [1]}, "a later step sees what the source returned"
