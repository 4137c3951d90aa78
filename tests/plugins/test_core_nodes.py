"""core.transform, core.condition, core.delay and core.fail, each run in isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from wirehub_core.condition import Branch, ConditionConfig, ConditionNode
from wirehub_core.delay import DelayNode
from wirehub_core.fail import FailNode
from wirehub_core.transform import TransformNode
from wirehub_sdk import ConfigError, ExpressionError, NodeError, Route, Wait
from wirehub_sdk.testing import NodeRunner

ORDER = {"input": {"amount": 250, "lines": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 3}]}, "steps": {}}


async def test_transform_evaluates_its_expression_against_the_input(node_runner: NodeRunner) -> None:
    output = await node_runner(TransformNode, config={"expression": "{skus: input.lines[*].sku}"}, input=ORDER)
    assert output == {"skus": ["a", "b"]}


async def test_transform_without_an_expression_passes_the_input_through(node_runner: NodeRunner) -> None:
    assert await node_runner(TransformNode, config={}, input={"x": 1}) == {"x": 1}


async def test_transform_fails_with_an_expression_error_when_evaluation_breaks(node_runner: NodeRunner) -> None:
    with pytest.raises(ExpressionError):
        await node_runner(TransformNode, config={"expression": "abs(input.lines)"}, input=ORDER)


@pytest.mark.parametrize(("amount", "branch"), [(900, "big"), (250, "medium"), (5, "small")])
async def test_condition_routes_to_the_first_matching_branch_or_the_default(
    node_runner: NodeRunner, amount: int, branch: str
) -> None:
    config = {
        "branches": [
            {"name": "big", "when": "input.amount > `500`"},
            {"name": "medium", "when": "input.amount > `100`"},
        ],
        "default": "small",
    }
    result = await node_runner(ConditionNode, config=config, input={"input": {"amount": amount}})
    assert isinstance(result, Route)
    assert result.branch == branch
    assert msgspec.to_builtins(result.output) == {"branch": branch}


async def test_condition_uses_jmespath_truthiness(node_runner: NodeRunner) -> None:
    config = {"branches": [{"name": "has_items", "when": "items"}], "default": "empty"}
    assert (await node_runner(ConditionNode, config=config, input={"items": []})).branch == "empty"
    assert (await node_runner(ConditionNode, config=config, input={"items": [0]})).branch == "has_items"


async def test_condition_without_a_match_or_default_fails_without_retry(node_runner: NodeRunner) -> None:
    config = {"branches": [{"name": "never", "when": "`false`"}]}
    with pytest.raises(NodeError) as caught:
        await node_runner(ConditionNode, config=config, input={})
    assert caught.value.kind == "condition.no_match"
    assert caught.value.retryable is False


def test_condition_names_its_branches_default_included() -> None:
    config = ConditionConfig(branches=[Branch("a", "`true`"), Branch("b", "`false`")], default="z")
    assert ConditionNode.branches(config) == ["a", "b", "z"]


async def test_delay_for_seconds_returns_a_wait_instead_of_sleeping(node_runner: NodeRunner) -> None:
    before = datetime.now(UTC)
    result = await node_runner(DelayNode, config={"seconds": 86400}, input={})
    assert isinstance(result, Wait)
    assert before + timedelta(days=1) <= result.until <= datetime.now(UTC) + timedelta(days=1)
    assert datetime.now(UTC) - before < timedelta(seconds=5), "a day's delay returned at once"


async def test_delay_until_an_instant_and_input_overrides_config(node_runner: NodeRunner) -> None:
    result = await node_runner(DelayNode, config={"seconds": 10}, input={"until": "2030-01-01T09:00:00Z"})
    assert result.until == datetime(2030, 1, 1, 9, tzinfo=UTC)
    assert msgspec.to_builtins(result.output) == {"until": "2030-01-01T09:00:00Z"}


@pytest.mark.parametrize(
    ("config", "message"),
    [({}, "exactly one"), ({"seconds": 1, "until": "2030-01-01T00:00:00Z"}, "exactly one")],
)
async def test_delay_needs_exactly_one_of_seconds_or_until(
    node_runner: NodeRunner, config: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        await node_runner(DelayNode, config=config, input={})


async def test_delay_refuses_an_instant_without_a_timezone(node_runner: NodeRunner) -> None:
    with pytest.raises(ConfigError, match="timezone"):
        await node_runner(DelayNode, config={"until": "2030-01-01T09:00:00"}, input={})


async def test_fail_raises_the_configured_error(node_runner: NodeRunner) -> None:
    config = {"message": "out of stock", "kind": "stock.empty", "retryable": True, "retry_after_seconds": 30}
    with pytest.raises(NodeError) as caught:
        await node_runner(FailNode, config=config, input=None)
    assert (caught.value.kind, caught.value.message) == ("stock.empty", "out of stock")
    assert caught.value.retryable is True
    assert caught.value.retry_after == 30
