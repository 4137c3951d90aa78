"""Small plugins, well-behaved and not, to load in the plugin-system tests."""

from __future__ import annotations

import types
from typing import Any

import httpx
import msgspec

from wirehub_sdk import CredentialType, NodeContext, NodeType, hookimpl


class EchoConfig(msgspec.Struct, forbid_unknown_fields=True):
    prefix: str = ""


class EchoOutput(msgspec.Struct):
    text: str


class Echo(NodeType[EchoConfig, Any, EchoOutput]):
    name = "good.echo"
    version = 1
    title = "Echo"
    description = "Returns its input text with a prefix."

    async def execute(self, ctx: NodeContext, config: EchoConfig, input: Any) -> EchoOutput:
        return EchoOutput(config.prefix + str(input))


class EchoV2(Echo):
    version = 2


class TokenFields(msgspec.Struct):
    token: str


class Token(CredentialType):
    name = "good.token"
    Fields = TokenFields
    secret_fields = frozenset({"token"})

    def apply(self, fields: TokenFields, request: httpx.Request) -> None:
        request.headers["Authorization"] = f"Bearer {fields.token}"


class GoodPlugin:
    """Two versions of one node type and a credential type."""

    @hookimpl
    def wirehub_node_types(self) -> list[type[NodeType]]:
        return [Echo, EchoV2]

    @hookimpl
    def wirehub_credential_types(self) -> list[type[CredentialType]]:
        return [Token]


def node_type(name: str = "bad.node", *, base: Any = NodeType, **attributes: Any) -> type[NodeType]:
    """A well-formed node type, with ``attributes`` overriding what the test breaks.

    ``base`` may be a parameterized ``NodeType[...]``, as a class statement would write it.
    """

    async def execute(self: NodeType, ctx: NodeContext, config: Any, input: Any) -> Any:
        return input

    namespace: dict[str, Any] = {"name": name, "version": 1, "execute": execute}
    namespace.update(attributes)
    cls: type[NodeType] = types.new_class("Sample", (base,), exec_body=lambda body: body.update(namespace))
    return cls


def plugin_returning(*items: Any, plugin_name: str = "Returning") -> type:
    """A plugin class whose ``wirehub_node_types`` returns ``items``."""

    def wirehub_node_types() -> list[Any]:
        return list(items)

    return type(plugin_name, (), {"wirehub_node_types": staticmethod(hookimpl(wirehub_node_types))})
