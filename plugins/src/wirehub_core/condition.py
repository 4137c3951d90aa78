"""``core.condition``: routes the execution to one of several branches."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from wirehub_sdk import Expression, NodeContext, NodeType, NonRetryableError, Route

BranchName = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class Branch(msgspec.Struct, forbid_unknown_fields=True):
    """One branch: taken when ``when`` is truthy (JMESPath truthiness)."""

    name: BranchName
    when: Expression


class ConditionConfig(msgspec.Struct, forbid_unknown_fields=True):
    """Config of ``core.condition``: branches are tried in order; the first match wins."""

    branches: Annotated[list[Branch], msgspec.Meta(min_length=1, max_length=64)]
    default: BranchName | None = None
    """Taken when no branch matches. Without it, no match fails the step."""


class ConditionOutput(msgspec.Struct):
    """Output of ``core.condition``."""

    branch: str


def _truthy(value: Any) -> bool:
    # JMESPath truthiness: false, null, "", [] and {} are false; 0 is true.
    return not (value is None or value is False or value in ("", [], {}))


class ConditionNode(NodeType[ConditionConfig, Any, ConditionOutput]):
    """Chooses the first branch whose condition holds, else the default."""

    name = "core.condition"
    version = 1
    title = "Condition"
    description = "Route to the first branch whose expression is truthy, or to the default branch."

    @classmethod
    def branches(cls, config: ConditionConfig) -> list[str]:
        names = [branch.name for branch in config.branches]
        if config.default is not None and config.default not in names:
            names.append(config.default)
        return names

    async def execute(self, ctx: NodeContext, config: ConditionConfig, input: Any) -> Route:
        for branch in config.branches:
            if _truthy(ctx.evaluate(branch.when, input)):
                return Route(branch.name, ConditionOutput(branch.name))
        if config.default is None:
            raise NonRetryableError("no branch matched and there is no default", kind="condition.no_match")
        return Route(config.default, ConditionOutput(config.default))
