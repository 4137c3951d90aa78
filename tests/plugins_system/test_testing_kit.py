"""wirehub_sdk.testing: one attempt of a node type run outside the hub, as the hub would run it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx
import msgspec
import pytest

from tests.plugins_system.samples import Echo, Token, plugin_returning
from wirehub.plugins import build_registry
from wirehub_sdk import (
    ConfigError,
    CredentialType,
    EgressClient,
    EgressPolicy,
    ExpressionError,
    NodeContext,
    NodeType,
    RetryableError,
    Route,
    Wait,
)
from wirehub_sdk.testing import (
    InvalidTypeError,
    NodeRunner,
    OutputError,
    Progress,
    hub_evaluator,
    idempotency_key,
    run_node,
)


class Seen(msgspec.Struct):
    ctx: Any = None
    config: Any = None
    input: Any = None


class Point(msgspec.Struct, forbid_unknown_fields=True):
    x: int
    y: int = 0


class Total(msgspec.Struct):
    total: int


class Adder(NodeType):
    """Adds up a point; remembers the last context, config and input it saw."""

    name = "kit.adder"
    Config: ClassVar[type[Any]] = msgspec.defstruct("AdderConfig", [("scale", int, 1)], forbid_unknown_fields=True)
    Input: ClassVar[Any] = Point
    Output: ClassVar[Any] = Total
    seen: ClassVar[Seen] = Seen()
    returns: ClassVar[Any] = None

    async def execute(self, ctx: NodeContext, config: Any, input: Point) -> Any:
        Adder.seen = Seen(ctx, config, input)
        await ctx.report_progress("adding", 0.5)
        if Adder.returns is not None:
            return Adder.returns
        return Total((input.x + input.y) * config.scale)


@pytest.fixture(autouse=True)
def _reset_adder() -> None:
    Adder.seen = Seen()
    Adder.returns = None


async def test_config_and_input_are_converted_into_the_node_types_types() -> None:
    assert await run_node(Adder, config={"scale": 3}, input={"x": 1, "y": 2}) == Total(9)
    assert isinstance(Adder.seen.input, Point)
    assert Adder.seen.config.scale == 3


async def test_an_instance_runs_as_well_as_a_class_and_config_defaults_to_empty() -> None:
    assert await run_node(Adder(), input={"x": 4}) == Total(4)


async def test_a_config_that_does_not_fit_is_a_config_error_naming_the_field() -> None:
    with pytest.raises(
        ConfigError, match=r"config of kit\.adder v1 does not match: Expected `int`, got `str` - at `\$\.scale`"
    ):
        await run_node(Adder, config={"scale": "x"}, input={"x": 1})
    with pytest.raises(ConfigError, match="unknown field `colour`"):
        await run_node(Adder, config={"colour": "red"}, input={"x": 1})


async def test_an_input_that_does_not_fit_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"input of kit\.adder v1 does not match: Object missing required field `x`"):
        await run_node(Adder, input={"y": 1})


async def test_an_output_that_does_not_match_names_the_field() -> None:
    Adder.returns = {"total": "many"}
    with pytest.raises(OutputError, match=r"Expected `int`, got `str` - at `\$\.total`") as caught:
        await run_node(Adder, input={"x": 1})
    assert (caught.value.kind, caught.value.retryable) == ("node.output", False)
    Adder.returns = {"sum": 1}
    with pytest.raises(OutputError, match="missing required field `total`"):
        await run_node(Adder, input={"x": 1})


async def test_a_dict_output_of_the_right_shape_passes_and_is_returned_as_is() -> None:
    Adder.returns = {"total": 5}
    assert await run_node(Adder, input={"x": 1}) == {"total": 5}


async def test_route_and_wait_are_returned_with_their_output_checked() -> None:
    Adder.returns = Route("big", {"total": 1})
    assert await run_node(Adder, input={"x": 1}) == Route("big", {"total": 1})
    until = datetime.now(UTC) + timedelta(hours=1)
    Adder.returns = Wait(until, {"total": 2})
    assert await run_node(Adder, input={"x": 1}) == Wait(until, {"total": 2})
    Adder.returns = Route("big", {"total": None})
    with pytest.raises(OutputError):
        await run_node(Adder, input={"x": 1})


async def test_the_context_looks_like_the_hubs() -> None:
    policy = EgressPolicy(allow_hosts=("internal.example",))
    before = datetime.now(UTC)
    await run_node(
        Adder, input={"x": 1}, execution_id="ex-1", step_id="add", attempt=3, timeout_seconds=30, egress_policy=policy
    )
    ctx: NodeContext = Adder.seen.ctx
    assert (ctx.execution_id, ctx.step_id, ctx.attempt) == ("ex-1", "add", 3)
    assert ctx.idempotency_key == idempotency_key("ex-1", "add") != idempotency_key("ex-1", "other")
    assert isinstance(ctx.http, EgressClient)
    assert ctx.http.policy is policy
    assert ctx.deadline is not None
    assert before + timedelta(seconds=30) <= ctx.deadline <= datetime.now(UTC) + timedelta(seconds=30)
    assert ctx.logger.extra == {"execution_id": "ex-1", "step_id": "add", "attempt": 3}
    assert not ctx.cancelled.is_set()
    assert ctx.credential is None


async def test_every_run_gets_a_fresh_http_client_with_the_default_policy() -> None:
    await run_node(Adder, input={"x": 1})
    first = Adder.seen.ctx.http
    await run_node(Adder, input={"x": 1})
    assert Adder.seen.ctx.http is not first
    assert first.policy == EgressPolicy()


class Sleeper(NodeType):
    name = "kit.sleeper"

    async def execute(self, ctx: NodeContext, config: Any, input: Any) -> Any:
        await asyncio.sleep(3600)


async def test_a_node_past_its_timeout_fails_with_a_retryable_timeout() -> None:
    with pytest.raises(RetryableError, match=r"kit\.sleeper v1 timed out after 0\.01 s") as caught:
        await run_node(Sleeper, timeout_seconds=0.01)
    assert caught.value.kind == "timeout"


class Watcher(NodeType):
    name = "kit.watcher"

    async def execute(self, ctx: NodeContext, config: Any, input: Any) -> Any:
        await ctx.cancelled.wait()
        return "stopped"


async def test_the_cancel_event_given_is_the_one_the_node_watches() -> None:
    cancelled = asyncio.Event()
    run = asyncio.create_task(run_node(Watcher, cancelled=cancelled))
    await asyncio.sleep(0)
    cancelled.set()
    assert await run == "stopped"


class Evaluating(NodeType):
    name = "kit.evaluating"

    async def execute(self, ctx: NodeContext, config: Any, input: Any) -> Any:
        return ctx.evaluate("a.b", input)


async def test_ctx_evaluate_uses_the_hubs_evaluator_when_the_hub_is_installed() -> None:
    from wirehub.engine.expressions.evaluate import evaluate

    assert hub_evaluator() is evaluate
    assert await run_node(Evaluating, input={"a": {"b": 7}}) == 7


async def test_an_evaluator_can_be_given() -> None:
    assert await run_node(Evaluating, input={}, evaluator=lambda text, data: f"evaluated {text}") == "evaluated a.b"


async def test_without_an_evaluator_ctx_evaluate_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("wirehub_sdk.testing._runner.hub_evaluator", lambda: None)
    with pytest.raises(ExpressionError, match="no expression evaluator"):
        await run_node(Evaluating, input={})


class Authed(NodeType):
    name = "kit.authed"
    credential_types = ("good.token",)

    async def execute(self, ctx: NodeContext, config: Any, input: Any) -> Any:
        request = httpx.Request("GET", "https://api.example.com/")
        assert ctx.credential_auth is not None
        next(ctx.credential_auth.auth_flow(request))
        return {"credential": dict(ctx.credential or {}), "header": request.headers["Authorization"]}


async def test_a_credential_reaches_the_node_with_its_auth() -> None:
    out = await run_node(Authed, credential={"token": "s3cret"}, credential_type=Token)
    assert out == {"credential": {"token": "s3cret"}, "header": "Bearer s3cret"}


async def test_a_credential_of_a_type_the_node_does_not_accept_is_refused() -> None:
    class Other(Token):
        name = "other.token"

    with pytest.raises(ConfigError, match=r"kit\.authed accepts good\.token, not other\.token") as caught:
        await run_node(Authed, credential={"token": "x"}, credential_type=Other)
    assert caught.value.kind == "credential.type"


async def test_credential_fields_that_do_not_fit_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="missing required field `token`"):
        await run_node(Authed, credential={"password": "x"}, credential_type=Token())


async def test_the_node_runner_fixture_collects_progress(node_runner: NodeRunner) -> None:
    await node_runner(Adder, input={"x": 1})
    await node_runner(Adder, input={"x": 2})
    assert node_runner.progress == [Progress("adding", 0.5), Progress("adding", 0.5)]


async def test_the_node_runner_fixture_passes_options_on(node_runner: NodeRunner) -> None:
    assert await node_runner(Echo, config={"prefix": ">"}, input="hi", step_id="echo") == msgspec.convert(
        {"text": ">hi"}, Echo.Output
    )


@dataclass
class DataclassConfig:
    scale: int = 1


class WithDataclassConfig(NodeType):
    name = "kit.dataclass_config"
    Config = DataclassConfig

    async def execute(self, ctx: NodeContext, config: Any, input: Any) -> Any:
        return input


class WithoutExecute(NodeType):
    name = "kit.without_execute"


class BadlyNamed(NodeType):
    name = "NoNamespace"

    async def execute(self, ctx: NodeContext, config: Any, input: Any) -> Any:
        return input


@pytest.mark.parametrize(
    ("node", "message"),
    [
        (WithDataclassConfig, "Config <class '.*DataclassConfig'> is not a msgspec Struct class"),
        (WithoutExecute, "does not implement execute"),
        (BadlyNamed, "has name 'NoNamespace'"),
    ],
    ids=["dataclass config", "no execute", "bad name"],
)
async def test_a_node_type_the_hub_would_reject_is_rejected_with_the_hubs_message(
    node: type[NodeType], message: str, node_runner: NodeRunner
) -> None:
    with pytest.raises(InvalidTypeError, match=message) as refused:
        await node_runner(node)
    [report] = build_registry([plugin_returning(node)]).plugins
    assert report.errors == (f"node type from plugin 'Returning' rejected: {refused.value}",)


class SecretsNotFields(CredentialType):
    name = "kit.secrets"
    Fields = msgspec.defstruct("SecretFields", [("token", str)])
    secret_fields = frozenset({"password"})

    def apply(self, fields: Any, request: httpx.Request) -> None:
        return None


async def test_a_credential_type_the_hub_would_reject_is_rejected() -> None:
    with pytest.raises(InvalidTypeError, match=r"secret_fields frozenset\(\{'password'\}\) must name fields"):
        await run_node(Authed, credential={"token": "x"}, credential_type=SecretsNotFields)
