"""``core.transform``: reshapes data with one expression."""

from __future__ import annotations

from typing import Any

import msgspec

from wirehub_sdk import Expression, NodeContext, NodeType


class TransformConfig(msgspec.Struct, forbid_unknown_fields=True):
    """Config of ``core.transform``."""

    expression: Expression | None = None
    """Evaluated against the step's input; omitted, the input passes through unchanged."""


class TransformNode(NodeType[TransformConfig, Any, Any]):
    """Evaluates an expression against the step's input; its result is the output."""

    name = "core.transform"
    version = 1
    title = "Transform"
    description = "Reshape data: the output is an expression evaluated against the step's input."

    async def execute(self, ctx: NodeContext, config: TransformConfig, input: Any) -> Any:
        if config.expression is None:
            return input
        return ctx.evaluate(config.expression, input)
