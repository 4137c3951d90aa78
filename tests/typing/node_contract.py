"""Node types that break their own declared types, each marked with the error mypy must report.

``uv run mypy`` checks this file with ``warn_unused_ignores`` (strict mode): if
mypy ever stopped rejecting one of these nodes, its ``# type: ignore[code]``
would be unused and mypy would fail. ``test_node_contract.py`` also removes
the ignores and checks mypy reports exactly these lines.
"""

from __future__ import annotations

from typing import Any

import msgspec

from wirehub_sdk import NodeContext, NodeType, Route


class Config(msgspec.Struct):
    times: int = 1


class Output(msgspec.Struct):
    text: str


class Agrees(NodeType[Config, str, Output]):
    name = "typing.agrees"

    @classmethod
    def branches(cls, config: Config) -> list[str] | None:
        return None

    async def execute(self, ctx: NodeContext, config: Config, input: str) -> Output:
        return Output(input * config.times)


class Routes(NodeType[Config, Any, Output]):
    name = "typing.routes"

    async def execute(self, ctx: NodeContext, config: Config, input: Any) -> Route:
        return Route("a", Output("routed"))


class TakesAnotherConfig(NodeType[Config, str, Output]):
    name = "typing.another_config"

    async def execute(self, ctx: NodeContext, config: Output, input: str) -> Output:  # type: ignore[override]
        return config


class TakesAnotherInput(NodeType[Config, str, Output]):
    name = "typing.another_input"

    async def execute(self, ctx: NodeContext, config: Config, input: int) -> Output:  # type: ignore[override]
        return Output(str(input))


class ReturnsAnotherOutput(NodeType[Config, str, Output]):
    name = "typing.another_output"

    async def execute(self, ctx: NodeContext, config: Config, input: str) -> str:  # type: ignore[override]
        return input


class ReadsAFieldItsConfigLacks(NodeType[Config, str, Output]):
    name = "typing.missing_field"

    async def execute(self, ctx: NodeContext, config: Config, input: str) -> Output:
        return Output(input * config.count)  # type: ignore[attr-defined]


class BuildsTheWrongOutput(NodeType[Config, str, Output]):
    name = "typing.wrong_output"

    async def execute(self, ctx: NodeContext, config: Config, input: str) -> Output:
        return Output(text=config.times)  # type: ignore[arg-type]


class BranchesOnAnotherConfig(NodeType[Config, str, Output]):
    name = "typing.branches"

    @classmethod
    def branches(cls, config: Output) -> list[str]:  # type: ignore[override]
        return [config.text]

    async def execute(self, ctx: NodeContext, config: Config, input: str) -> Output:
        return Output(input)
