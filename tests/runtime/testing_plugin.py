"""Node types that exist only to drive the runtime through each path it has."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any, ClassVar

import msgspec

from wirehub_sdk import (
    CredentialType,
    NodeContext,
    NodeType,
    NonRetryableError,
    RetryableError,
    Route,
    Wait,
    hookimpl,
)


class Calls:
    """What the test node types saw, by step id."""

    def __init__(self) -> None:
        self.attempts: dict[str, list[int]] = defaultdict(list)
        self.contexts: dict[str, list[NodeContext]] = defaultdict(list)
        self.started: dict[str, list[float]] = defaultdict(list)
        self.barrier_started = 0
        self.sleeping = 0
        self.most_sleeping = 0
        """The most ``test.sleep`` attempts that slept at the same time."""
        self.swallowed = 0
        # Attempts run on different node threads, each with its own event loop: an asyncio.Event cannot be shared.
        self.barrier_release = threading.Event()

    def record(self, ctx: NodeContext) -> None:
        self.attempts[ctx.step_id].append(ctx.attempt)
        self.contexts[ctx.step_id].append(ctx)
        self.started[ctx.step_id].append(time.monotonic())


CALLS = Calls()
_LOCK = threading.Lock()
"""Guards the counters of ``CALLS`` that node threads update."""


class FlakyConfig(msgspec.Struct, forbid_unknown_fields=True):
    failures: int = 1
    retry_after: float | None = None
    retryable: bool = True


class FlakyNode(NodeType):
    """Fails its first ``failures`` attempts, then returns the attempt number."""

    name = "test.flaky"
    Config: ClassVar[type[Any]] = FlakyConfig

    async def execute(self, ctx: NodeContext, config: FlakyConfig, input: Any) -> Any:
        CALLS.record(ctx)
        if ctx.attempt <= config.failures:
            if config.retryable:
                raise RetryableError(f"attempt {ctx.attempt} failed", kind="test.flaky", retry_after=config.retry_after)
            raise NonRetryableError("this never works", kind="test.broken")
        return {"attempt": ctx.attempt}


class SleepConfig(msgspec.Struct, forbid_unknown_fields=True):
    seconds: float
    only_first_attempt: bool = False


class SleepNode(NodeType):
    """Sleeps (a node that overruns its deadline, or that is cancelled)."""

    name = "test.sleep"
    Config: ClassVar[type[Any]] = SleepConfig

    async def execute(self, ctx: NodeContext, config: SleepConfig, input: Any) -> Any:
        CALLS.record(ctx)
        with _LOCK:
            CALLS.sleeping += 1
            CALLS.most_sleeping = max(CALLS.most_sleeping, CALLS.sleeping)
        try:
            if not config.only_first_attempt or ctx.attempt == 1:
                await asyncio.sleep(config.seconds)
        finally:
            with _LOCK:
                CALLS.sleeping -= 1
        return {"slept": ctx.attempt}


class BarrierConfig(msgspec.Struct, forbid_unknown_fields=True):
    parties: int


class BarrierNode(NodeType):
    """Returns only once ``parties`` barrier steps run at the same time."""

    name = "test.barrier"
    Config: ClassVar[type[Any]] = BarrierConfig

    async def execute(self, ctx: NodeContext, config: BarrierConfig, input: Any) -> Any:
        CALLS.record(ctx)
        CALLS.barrier_started += 1
        if CALLS.barrier_started >= config.parties:
            CALLS.barrier_release.set()
        if not await asyncio.to_thread(CALLS.barrier_release.wait, 5):
            raise NonRetryableError("the other parties never came", kind="test.barrier")
        return {"step": ctx.step_id}


class CrashNode(NodeType):
    """Raises an exception that is not a NodeError."""

    name = "test.crash"

    async def execute(self, ctx: NodeContext, config: Any, input: Any) -> Any:
        return {"ratio": 1 / 0}


class Typed(msgspec.Struct):
    count: int


class WrongOutputNode(NodeType):
    """Declares an output schema and returns something else."""

    name = "test.wrong_output"
    Output: ClassVar[Any] = Typed

    async def execute(self, ctx: NodeContext, config: Any, input: Any) -> Any:
        return {"count": "many"}


class TokenFields(msgspec.Struct):
    token: str


class TokenCredential(CredentialType):
    name = "test.token"
    Fields = TokenFields
    secret_fields = frozenset({"token"})

    def apply(self, fields: Any, request: Any) -> None:
        request.headers["X-Token"] = fields.token


class WhoAmINode(NodeType):
    """Reports the credential its step was given, and reports progress."""

    name = "test.whoami"
    credential_types = ("test.token",)

    async def execute(self, ctx: NodeContext, config: Any, input: Any) -> Any:
        await ctx.report_progress("looking", 0.5)
        return {"token": (ctx.credential or {}).get("token"), "key": ctx.idempotency_key}


class MisrouteConfig(msgspec.Struct, forbid_unknown_fields=True):
    returns: str
    """"unknown-branch", "plain" or "wait"."""


class MisrouteNode(NodeType):
    """A routing node type that breaks the routing contract in the way its config asks."""

    name = "test.misroute"
    Config: ClassVar[type[Any]] = MisrouteConfig

    @classmethod
    def branches(cls, config: Any) -> list[str]:
        return ["left", "right"]

    async def execute(self, ctx: NodeContext, config: MisrouteConfig, input: Any) -> Any:
        if config.returns == "unknown-branch":
            return Route("middle")
        if config.returns == "wait":
            return Wait(until=datetime.now(UTC))
        return {"no": "route"}


class StrayRouteNode(NodeType):
    """Names no branches, yet returns a Route."""

    name = "test.stray_route"

    async def execute(self, ctx: NodeContext, config: Any, input: Any) -> Any:
        return Route("left")


class MutateConfig(msgspec.Struct, forbid_unknown_fields=True):
    tags: Any = None


class MutateNode(NodeType):
    """Mutates its config's ``Any`` field and its input in place, then returns both."""

    name = "test.mutate"
    Config: ClassVar[type[Any]] = MutateConfig

    async def execute(self, ctx: NodeContext, config: MutateConfig, input: Any) -> Any:
        config.tags.append("mutated")
        input["items"].append("mutated")
        input["touched"] = True
        return {"tags": config.tags, "input": input}


class StubbornConfig(msgspec.Struct, forbid_unknown_fields=True):
    seconds: float
    """How long the node ignores cancellation before it gives up and returns."""


class SwallowNode(NodeType):
    """Swallows every cancellation for ``seconds`` (a node that breaks the rules)."""

    name = "test.swallow"
    Config: ClassVar[type[Any]] = StubbornConfig

    async def execute(self, ctx: NodeContext, config: StubbornConfig, input: Any) -> Any:
        CALLS.record(ctx)
        until = time.monotonic() + config.seconds
        while time.monotonic() < until:
            try:
                await asyncio.sleep(until - time.monotonic())
            except asyncio.CancelledError:
                CALLS.swallowed += 1
        return {"swallowed": True}


class BlockNode(NodeType):
    """Blocks its event loop with ``time.sleep`` (a node that breaks the rules)."""

    name = "test.block"
    Config: ClassVar[type[Any]] = StubbornConfig

    async def execute(self, ctx: NodeContext, config: StubbornConfig, input: Any) -> Any:
        CALLS.record(ctx)
        time.sleep(config.seconds)  # noqa: ASYNC251  # the misbehaviour under test
        return {"blocked": True}


@hookimpl
def wirehub_node_types() -> list[type[NodeType]]:
    return [
        FlakyNode,
        SleepNode,
        BarrierNode,
        CrashNode,
        WrongOutputNode,
        WhoAmINode,
        MisrouteNode,
        StrayRouteNode,
        MutateNode,
        SwallowNode,
        BlockNode,
    ]


@hookimpl
def wirehub_credential_types() -> list[type[CredentialType]]:
    return [TokenCredential]
