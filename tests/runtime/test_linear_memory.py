"""Through the embedded hub, a long chain without input mappings retains what its steps output once, not more."""

from __future__ import annotations

from typing import Any

import msgspec

from tests.support.local_http import LOOPBACK, LocalServer
from tests.support.local_http import server as server
from wirehub.engine import ExecutionStatus
from wirehub.runtime.registry import NodeRegistry
from wirehub.worker.workflows import run_workflow

STEPS = 100
"""Long enough for a quadratic retention to show; each step is a few transactions on the embedded hub."""


def chain(n: int) -> dict[str, Any]:
    """``n`` ``core.transform`` steps, each passing on what it received (its default input)."""
    steps: list[dict[str, Any]] = []
    for i in range(n):
        step: dict[str, Any] = {"id": f"s{i}", "type": "core.transform", "config": {"expression": "@"}}
        if i:
            step["needs"] = [f"s{i - 1}"]
        steps.append(step)
    return {"name": "long-chain", "steps": steps, "output": f"steps.s{n - 1}"}


async def test_a_long_chain_of_transforms_retains_each_output_once(registry: NodeRegistry) -> None:
    payload = {"text": "p" * 2000, "numbers": list(range(100))}
    result = await run_workflow(chain(STEPS), payload, registry=registry)
    assert result.status is ExecutionStatus.SUCCEEDED, result.error
    assert result.output == payload
    each = len(msgspec.json.encode(payload))
    assert result.state.output_bytes == STEPS * each  # what is retained grows with the steps, not their square


async def test_a_failed_http_call_puts_its_status_and_body_in_the_executions_error(
    registry: NodeRegistry, server: LocalServer
) -> None:
    definition = {
        "name": "call",
        "steps": [{"id": "call", "type": "core.http", "config": {"method": "GET", "url": server.url("/status/400")}}],
    }
    result = await run_workflow(definition, {}, registry=registry, egress=LOOPBACK)
    assert result.status is ExecutionStatus.FAILED
    error = result.error
    assert error is not None
    assert (error.kind, error.step_id, error.attempt, error.retryable) == ("http.status", "call", 1, False)
    assert error.details["status"] == 400
    assert error.details["body"]
    assert error.message.startswith("step 'call' failed: ")
