"""``core.fail``: ends the step with a chosen error (a workflow's "stop and error")."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from wirehub_sdk import NodeContext, NodeError, NodeType


class FailConfig(msgspec.Struct, forbid_unknown_fields=True):
    """Config of ``core.fail``."""

    message: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    kind: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")] = "workflow.failed"
    retryable: bool = False
    retry_after_seconds: Annotated[float, msgspec.Meta(ge=0)] | None = None


class FailNode(NodeType[FailConfig, Any, Any]):
    """Raises the configured error, so retry policies and catch routes can act on it."""

    name = "core.fail"
    version = 1
    title = "Fail"
    description = "Stop the step with an error of a chosen kind; retry policies and catch routes apply."

    async def execute(self, ctx: NodeContext, config: FailConfig, input: Any) -> Any:
        raise NodeError(
            config.message,
            kind=config.kind,
            retryable=config.retryable,
            retry_after=config.retry_after_seconds,
        )
