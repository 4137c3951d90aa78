"""A step without an input mapping gets its default input, unless its node type takes none (core.http)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import pytest

from tests.support.local_http import LocalServer
from wirehub.engine import ExecutionStatus
from wirehub.runtime import ExecutionResult
from wirehub_sdk import EgressPolicy, NodeContext, NodeType
from wirehub_sdk.host import InvalidTypeError, check_node_type

LOOPBACK_POLICY = EgressPolicy(allow_networks=("127.0.0.0/8",))
Run = Callable[..., Awaitable[ExecutionResult]]


async def test_an_http_step_after_another_sends_its_own_config_not_the_previous_response(
    run: Run, server: LocalServer
) -> None:
    first = server.url("/echo?from=first")
    second = server.url("/content?type=text/plain&body=second")
    definition = {
        "name": "two-requests",
        "steps": [
            {"id": "first", "type": "core.http", "config": {"url": first, "headers": {"x-first": "1"}}},
            {"id": "second", "type": "core.http", "needs": ["first"], "config": {"url": second}},
        ],
    }
    result = await run(definition, {"url": server.url("/status/500")}, egress=LOOPBACK_POLICY)
    assert result.status is ExecutionStatus.SUCCEEDED, result.error
    assert [request.path for request in server.requests] == ["/echo", "/content"]
    assert "x-first" not in server.requests[1].headers  # the first response's headers were not resent
    assert result.output["second"]["body"] == "second"


async def test_an_http_step_with_a_mapping_takes_its_input(run: Run, server: LocalServer) -> None:
    definition = {
        "name": "mapped",
        "steps": [{"id": "call", "type": "core.http", "config": {"url": server.url("/x")}, "input": "input"}],
    }
    result = await run(definition, {"url": server.url("/content?type=text/plain&body=mapped")}, egress=LOOPBACK_POLICY)
    assert result.status is ExecutionStatus.SUCCEEDED, result.error
    assert [request.path for request in server.requests] == ["/content"]


async def test_a_transform_without_a_mapping_gets_the_output_of_the_step_before_it(run: Run) -> None:
    definition = {
        "name": "chain",
        "steps": [
            {"id": "a", "type": "core.transform", "config": {"expression": "{n: n}"}},
            {"id": "b", "type": "core.transform", "needs": ["a"], "config": {"expression": "{doubled: [n, n]}"}},
        ],
        "output": "steps.b",
    }
    result = await run(definition, {"n": 3})
    assert result.output == {"doubled": [3, 3]}


class NoConfig(msgspec.Struct):
    pass


def test_takes_default_input_must_be_a_bool() -> None:
    class Vague(NodeType[NoConfig, Any, Any]):
        name = "test.vague"
        takes_default_input = "no"  # type: ignore[assignment]

        async def execute(self, ctx: NodeContext, config: NoConfig, input: Any) -> Any:
            return None

    with pytest.raises(InvalidTypeError, match="takes_default_input must be True or False"):
        check_node_type(Vague)
