"""``NodeType[Config, Input, Output]``: the type arguments are the attributes the hub reads at run time."""

from __future__ import annotations

from typing import Any

import msgspec

import wirehub_sdk
import wirehub_sdk.host
from tests.plugins_system.samples import Echo, EchoConfig, EchoOutput, EchoV2
from wirehub_core.http import HttpConfig, HttpInput, HttpNode, HttpOutput
from wirehub_sdk import EmptyConfig, NodeContext, NodeType
from wirehub_sdk.host import check_node_type


def test_the_type_arguments_become_config_input_and_output() -> None:
    assert (Echo.Config, Echo.Input, Echo.Output) == (EchoConfig, Any, EchoOutput)
    assert (HttpNode.Config, HttpNode.Input, HttpNode.Output) == (HttpConfig, HttpInput | None, HttpOutput)


def test_a_subclass_of_a_node_type_keeps_its_types() -> None:
    assert (EchoV2.Config, EchoV2.Input, EchoV2.Output) == (EchoConfig, Any, EchoOutput)


class Shout(NodeType[EchoConfig]):
    name = "contract.shout"

    async def execute(self, ctx: NodeContext, config: EchoConfig, input: Any) -> Any:
        return input


def test_omitted_type_arguments_take_any() -> None:
    assert (Shout.Config, Shout.Input, Shout.Output) == (EchoConfig, Any, Any)


class Bare(NodeType):
    name = "contract.bare"

    async def execute(self, ctx: NodeContext, config: Any, input: Any) -> Any:
        return input


def test_a_bare_node_type_has_an_empty_config_and_takes_anything() -> None:
    assert (Bare.Config, Bare.Input, Bare.Output) == (EmptyConfig, Any, Any)
    assert check_node_type(Bare) is Bare


class Explicit(msgspec.Struct):
    n: int = 0


class Attributes(NodeType):
    """The attribute style without type arguments still works (no static checking then)."""

    name = "contract.attributes"
    Config = Explicit
    Output = list[int]

    async def execute(self, ctx: NodeContext, config: Any, input: Any) -> Any:
        return [config.n]


def test_attributes_without_type_arguments_are_used_as_written() -> None:
    assert (Attributes.Config, Attributes.Input, Attributes.Output) == (Explicit, Any, list[int])
    assert check_node_type(Attributes) is Attributes


def test_the_plugin_contract_exports_nothing_of_the_host_api() -> None:
    assert set(wirehub_sdk.__all__).isdisjoint(wirehub_sdk.host.__all__)
    for name in ("PROJECT_NAME", "hookspec", "hookspecs", "CredentialAuth", "Progress", "CancelledError"):
        assert not hasattr(wirehub_sdk, name), f"wirehub_sdk.{name} is for hosts only, or unused"
    assert all(hasattr(wirehub_sdk.host, name) for name in wirehub_sdk.host.__all__)
