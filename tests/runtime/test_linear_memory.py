"""Through the embedded runtime, a long chain without input mappings costs memory linear in what steps output."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest

from tests.support.local_http import LOOPBACK, LocalServer
from tests.support.local_http import server as server
from wirehub.engine import ExecutionStatus
from wirehub.runtime import run_workflow
from wirehub.runtime.registry import NodeRegistry


def chain(n: int) -> dict[str, Any]:
    """``n`` ``core.transform`` steps, each passing on what it received (its default input)."""
    steps: list[dict[str, Any]] = []
    for i in range(n):
        step: dict[str, Any] = {"id": f"s{i}", "type": "core.transform", "config": {"expression": "@"}}
        if i:
            step["needs"] = [f"s{i - 1}"]
        steps.append(step)
    return {"name": "long-chain", "steps": steps, "output": f"steps.s{n - 1}"}


@pytest.fixture
def traced() -> Iterator[None]:
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


async def test_a_2000_step_chain_of_transforms_completes_in_a_small_memory_bound(
    registry: NodeRegistry, traced: None
) -> None:
    payload = {"text": "p" * 2000, "numbers": list(range(100))}
    result = await run_workflow(chain(2000), payload, registry=registry)
    _, peak = tracemalloc.get_traced_memory()
    assert result.status is ExecutionStatus.SUCCEEDED, result.error
    assert result.output == payload
    assert peak < 50_000_000, f"peak {peak / 1e6:.1f} MB"
    each = len(msgspec.json.encode(payload))
    assert result.state.output_bytes == 2000 * each  # what is retained grows with the steps, not their square


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
