"""The registry built from explicit plugin objects: lookups, validation, conflicts."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import msgspec
import pytest

from tests.plugins_system.samples import (
    Echo,
    EchoConfig,
    EchoOutput,
    EchoV2,
    GoodPlugin,
    Token,
    node_type,
    plugin_returning,
)
from wirehub.engine.validation.catalog import NodeCatalog
from wirehub.plugins import NodeTypeRef, PluginState, Registry, build_registry
from wirehub.plugins.registry import plugin_namespace
from wirehub_sdk import CredentialType, NodeContext, NodeType, hookimpl


def test_a_registry_serves_the_node_and_credential_types_of_its_plugins() -> None:
    registry = build_registry([GoodPlugin()])
    assert dict(registry.node_type_versions("good.echo")) == {1: Echo, 2: EchoV2}
    assert registry.latest_version("good.echo") == 2
    assert isinstance(registry.node("good.echo", 1), Echo)
    assert isinstance(registry.credential_type("good.token"), Token)
    assert registry.credential_type_names() == ["good.token"]
    assert registry.healthy


def test_each_node_type_class_has_one_cached_instance() -> None:
    registry = build_registry([GoodPlugin()])
    assert registry.node("good.echo", 2) is registry.node("good.echo", 2)
    assert registry.node("good.echo", 1) is not registry.node("good.echo", 2)


def test_missing_names_and_versions_raise_key_error() -> None:
    registry = build_registry([GoodPlugin()])
    assert dict(registry.node_type_versions("good.missing")) == {}
    with pytest.raises(KeyError):
        registry.node("good.echo", 3)
    with pytest.raises(KeyError):
        registry.latest_version("good.missing")
    with pytest.raises(KeyError):
        registry.credential_type("good.missing")


def test_the_registry_is_the_catalog_the_engine_expects() -> None:
    catalog: NodeCatalog = build_registry([GoodPlugin()])
    assert catalog.unavailable_reason("good.echo") is None
    assert catalog.node_type_versions("good.echo")[2] is EchoV2


def test_the_report_lists_what_each_plugin_registered() -> None:
    [report] = build_registry([GoodPlugin()]).plugins
    assert report.name == "GoodPlugin"
    assert report.state is PluginState.OK
    assert report.node_types == (NodeTypeRef("good.echo", 1), NodeTypeRef("good.echo", 2))
    assert report.credential_types == ("good.token",)
    assert report.errors == ()


def test_node_type_infos_carry_the_json_schemas_for_catalogues() -> None:
    infos = build_registry([GoodPlugin()]).node_type_infos()
    assert [(i.name, i.version, i.plugin) for i in infos] == [
        ("good.echo", 1, "GoodPlugin"),
        ("good.echo", 2, "GoodPlugin"),
    ]
    assert infos[0].title == "Echo"
    assert infos[0].config_schema["$defs"]["EchoConfig"]["properties"] == {"prefix": {"type": "string", "default": ""}}
    assert infos[0].input_schema == {}
    assert infos[0].output_schema["$defs"]["EchoOutput"]["required"] == ["text"]
    msgspec.json.encode(infos)  # catalogues serve them as JSON


def test_registries_are_independent_and_see_only_the_plugins_given() -> None:
    assert build_registry().plugins == []
    assert dict(build_registry().node_type_versions("core.transform")) == {}
    assert build_registry([GoodPlugin()]).plugins[0].name == "GoodPlugin"


class NotStruct:
    pass


async def sync_free(self: NodeType, ctx: NodeContext, config: Any, input: Any) -> Any:
    return None


def sync_execute(self: NodeType, ctx: NodeContext, config: Any, input: Any) -> Any:
    return None


class Opaque:
    """A type msgspec can neither convert nor describe."""


class Total(msgspec.Struct):
    total: int


MALFORMED: dict[str, tuple[Any, str]] = {
    "not a class": ("good.thing", "is not a subclass of wirehub_sdk.NodeType"),
    "not a node type": (dict, "is not a subclass of wirehub_sdk.NodeType"),
    "no namespace": (node_type("echo"), "has name 'echo'"),
    "upper case": (node_type("Bad.Echo"), "has name 'Bad.Echo'"),
    "version 0": (node_type(version=0), "has version 0"),
    "version as text": (node_type(version="1"), "has version '1'"),
    "version as bool": (node_type(version=True), "has version True"),
    "config not a struct": (node_type(Config=dict), "Config <class 'dict'> is not a msgspec Struct"),
    "sync execute": (node_type(execute=sync_execute), "execute must be a coroutine function"),
    "no execute": (node_type(execute=NodeType.execute), "does not implement execute"),
    "opaque input": (node_type(Input=Opaque), "Input is not a type msgspec can convert"),
    "opaque output": (node_type(Output=list[Opaque]), "Output is not a type msgspec can convert"),
    "credential types not a tuple": (node_type(credential_types="good.token"), "credential_types must be a tuple"),
    "config attribute disagrees with the declared config": (
        node_type(base=NodeType[EchoConfig, Any, Any], Config=Total),
        "Config is <class 'tests.plugins_system.test_registry.Total'> but its NodeType[...] base declares "
        "<class 'tests.plugins_system.samples.EchoConfig'>",
    ),
    "output attribute disagrees with the declared output": (
        node_type(base=NodeType[EchoConfig, Any, EchoOutput], Output=Any),
        "Output is typing.Any but its NodeType[...] base declares",
    ),
}


@pytest.mark.parametrize(("item", "message"), MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_node_type_is_rejected_and_reported_against_its_plugin(item: Any, message: str) -> None:
    registry = build_registry([plugin_returning(item, Echo, plugin_name="Mixed")])
    [report] = registry.plugins
    assert report.state is PluginState.FAILED
    assert report.node_types == (NodeTypeRef("good.echo", 1),), "the well-formed type next to it still registers"
    [error] = report.errors
    assert error.startswith("node type from plugin 'Mixed' rejected:")
    assert message in error
    assert not registry.healthy


def test_the_reason_for_a_rejected_malformed_type_names_its_plugin() -> None:
    registry = build_registry([plugin_returning(node_type("bad.node", version=0), plugin_name="Broken")])
    assert dict(registry.node_type_versions("bad.node")) == {}
    reason = registry.unavailable_reason("bad.node")
    assert reason is not None
    assert "plugin 'Broken'" in reason
    assert "version 0" in reason


class First:
    @hookimpl
    def wirehub_node_types(self) -> list[type[NodeType]]:
        return [Echo]


class Second:
    @hookimpl
    def wirehub_node_types(self) -> list[type[NodeType]]:
        return [node_type("good.echo"), node_type("second.own")]


def test_a_duplicate_name_and_version_keeps_the_first_and_reports_the_second(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="wirehub.plugins"):
        registry = build_registry([First(), Second()])
    assert registry.node_type_versions("good.echo")[1] is Echo
    assert isinstance(registry.node("good.echo", 1), Echo)
    assert registry.node_type_versions("second.own"), "the rest of the second plugin still registers"
    first, second = registry.plugins
    assert first.errors == ()
    assert second.errors == ("good.echo v1 from plugin 'Second' conflicts with plugin 'First'",)
    assert registry.unavailable_reason("good.echo") == "good.echo v1 from plugin 'Second' conflicts with plugin 'First'"
    assert "good.echo v1 from plugin 'Second' conflicts with plugin 'First'" in caplog.text
    assert not registry.healthy


def test_the_same_class_twice_from_one_plugin_is_a_conflict_with_itself() -> None:
    registry = build_registry([plugin_returning(Echo, Echo, plugin_name="Twice")])
    assert registry.plugins[0].errors == ("good.echo v1 from plugin 'Twice' conflicts with plugin 'Twice'",)


class OtherToken(Token):
    name = "raising.token"


class RaisingNodeTypes:
    @hookimpl
    def wirehub_node_types(self) -> list[type[NodeType]]:
        raise RuntimeError("boom")

    @hookimpl
    def wirehub_credential_types(self) -> list[type[Token]]:
        return [OtherToken]


def test_a_hook_that_raises_fails_its_plugin_and_hides_no_other(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="wirehub.plugins"):
        registry = build_registry([RaisingNodeTypes(), GoodPlugin()])
    raising, good = registry.plugins
    assert raising.state is PluginState.FAILED
    assert raising.errors == ("wirehub_node_types() raised RuntimeError: boom",)
    assert raising.credential_types == ("raising.token",), "its other hook is still called"
    assert good.state is PluginState.OK
    assert good.node_types == (NodeTypeRef("good.echo", 1), NodeTypeRef("good.echo", 2))
    assert "wirehub_node_types() raised RuntimeError: boom" in caplog.text
    assert "RuntimeError: boom" in (registry.unavailable_reason("raising.node") or ""), (
        "its credential type's namespace"
    )
    assert registry.unavailable_reason("other.node") is None, "not blamed for another namespace"


def test_a_hook_returning_something_other_than_a_list_fails_its_plugin() -> None:
    plugin = type("Weird", (), {"wirehub_node_types": staticmethod(hookimpl(lambda: Echo))})
    [report] = build_registry([plugin]).plugins
    assert report.state is PluginState.FAILED
    assert "expected a list of classes" in report.errors[0]


def test_a_hook_returning_none_provides_nothing_and_is_fine() -> None:
    plugin = type("Nothing", (), {"wirehub_node_types": staticmethod(hookimpl(lambda: None))})
    [report] = build_registry([plugin]).plugins
    assert (report.state, report.errors, report.node_types) == (PluginState.OK, (), ())


class BadConstructor(NodeType):
    name = "bad.constructor"

    def __init__(self) -> None:
        raise ValueError("needs arguments")

    async def execute(self, ctx: NodeContext, config: Any, input: Any) -> Any:
        return None


def test_a_node_type_that_cannot_be_instantiated_is_rejected() -> None:
    registry = build_registry([plugin_returning(BadConstructor, plugin_name="Ctor")])
    assert dict(registry.node_type_versions("bad.constructor")) == {}
    assert "could not be created: ValueError: needs arguments" in registry.plugins[0].errors[0]


class Tokens:
    @hookimpl
    def wirehub_credential_types(self) -> list[Any]:
        class NoFields(Token):
            name = "bad.no_fields"
            Fields = dict  # type: ignore[assignment]  # the mistake under test

        class UnknownSecret(Token):
            name = "bad.unknown_secret"
            secret_fields = frozenset({"password"})

        class NoApply(Token):
            name = "bad.no_apply"
            apply = CredentialType.apply  # the base's, which is not implemented

        return [Token, Token, NoFields, UnknownSecret, NoApply, "bad.string"]


def test_credential_types_are_checked_and_duplicates_rejected() -> None:
    registry = build_registry([Tokens()])
    assert registry.credential_type_names() == ["good.token"]
    errors = registry.plugins[0].errors
    assert errors[0] == "credential type good.token from plugin 'Tokens' conflicts with plugin 'Tokens'"
    assert "Fields <class 'dict'> is not a msgspec Struct" in errors[1]
    assert "secret_fields frozenset({'password'}) must name fields of TokenFields (token)" in errors[2]
    assert "does not implement apply" in errors[3]
    assert "'bad.string' is not a subclass of wirehub_sdk.CredentialType" in errors[4]


class Typo:
    @hookimpl
    def wirehub_node_typez(self) -> list[type[NodeType]]:
        return [Echo]

    @hookimpl
    def wirehub_credential_type(self) -> list[Any]:
        return []


def test_hook_implementations_matching_no_hook_are_reported_not_raised() -> None:
    registry = build_registry([Typo(), GoodPlugin()])
    typo, good = registry.plugins
    assert typo.state is PluginState.FAILED
    assert sorted(typo.errors) == [
        "hook implementation 'wirehub_credential_type' matches no hub hook "
        "(known hooks: wirehub_credential_types, wirehub_node_types)",
        "hook implementation 'wirehub_node_typez' matches no hub hook "
        "(known hooks: wirehub_credential_types, wirehub_node_types)",
    ]
    assert good.errors == ()


def test_a_plugin_without_any_hookimpl_is_reported() -> None:
    class Forgot:
        def wirehub_node_types(self) -> list[type[NodeType]]:  # no @hookimpl
            return [Echo]

    [report] = build_registry([Forgot()]).plugins
    assert report.errors == ("implements none of the hub's hooks (is `@hookimpl` from wirehub_sdk missing?)",)


def test_a_hookimpl_with_arguments_the_spec_lacks_fails_registration() -> None:
    class Greedy:
        @hookimpl
        def wirehub_node_types(self, config: Any) -> list[type[NodeType]]:
            return [Echo]

    registry = build_registry([Greedy(), GoodPlugin()])
    greedy, good = registry.plugins
    assert greedy.state is PluginState.FAILED
    assert greedy.errors[0].startswith("could not be registered: PluginValidationError")
    assert good.state is PluginState.OK


def test_a_wrapper_implementation_is_refused() -> None:
    class Wrapping:
        @hookimpl(wrapper=True)
        def wirehub_node_types(self) -> Any:
            return (yield)

    registry = build_registry([Wrapping(), GoodPlugin()])
    assert registry.plugins[0].errors == (
        "wirehub_node_types is implemented as a wrapper, which the hub does not support",
    )
    assert registry.latest_version("good.echo") == 2


def test_allow_and_deny_apply_to_explicit_plugins_too() -> None:
    assert [p.state for p in build_registry([GoodPlugin()], deny=frozenset({"GoodPlugin"})).plugins] == [
        PluginState.BLOCKED
    ]
    registry = build_registry([GoodPlugin(), First()], allow=frozenset({"First"}))
    assert [(p.name, p.state) for p in registry.plugins] == [
        ("GoodPlugin", PluginState.BLOCKED),
        ("First", PluginState.OK),
    ]
    assert registry.healthy, "a blocked plugin is intended, not a problem"
    assert build_registry([First()], allow=frozenset({"First"}), deny=frozenset({"First"})).plugins[0].state is (
        PluginState.BLOCKED
    ), "deny wins"


def test_the_same_plugin_object_given_twice_registers_once() -> None:
    plugin = GoodPlugin()
    registry = build_registry([plugin, plugin])
    assert len(registry.plugins) == 1
    assert registry.healthy


def test_two_plugins_with_one_name_keep_the_first() -> None:
    one = type("Same", (), {"wirehub_node_types": staticmethod(hookimpl(lambda: [Echo]))})
    two = type("Same", (), {"wirehub_node_types": staticmethod(hookimpl(lambda: [node_type("other.node")]))})
    registry = build_registry([one, two])
    assert [p.state for p in registry.plugins] == [PluginState.OK, PluginState.FAILED]
    assert registry.plugins[1].errors == ("plugin name 'Same' is already taken by another plugin",)
    assert dict(registry.node_type_versions("other.node")) == {}


class Configured(NodeType):
    name = "good.configured"
    Config: ClassVar[type[Any]] = msgspec.defstruct("Cfg", [("n", int)])

    async def execute(self, ctx: NodeContext, config: Any, input: Any) -> Any:
        return config.n


def test_a_registry_is_usable_where_a_registry_type_is_expected() -> None:
    registry: Registry = build_registry([plugin_returning(Configured, plugin_name="Cfg")])
    assert registry.node_type_infos()[0].config_schema["$defs"]["Cfg"]["required"] == ["n"]


def test_a_plugin_that_only_had_a_type_rejected_is_not_blamed_for_other_names() -> None:
    registry = build_registry([First(), Second()])
    assert registry.plugins[1].state is PluginState.FAILED
    assert registry.unavailable_reason("nobody.provides_this") is None


def test_a_failed_plugin_is_blamed_for_its_namespace_only() -> None:
    broken = type("acme", (), {"wirehub_node_types": staticmethod(hookimpl(lambda: 1 / 0))})
    registry = build_registry([broken, GoodPlugin()])
    reason = registry.unavailable_reason("acme.create_ticket")
    assert reason == (
        "no installed plugin provides it; plugin 'acme' failed: wirehub_node_types() raised ZeroDivisionError: "
        "division by zero"
    )
    assert registry.unavailable_reason("core.htp") is None
    assert registry.unavailable_reason("good.missing") is None


def test_a_plugins_namespaces_are_its_names_and_its_distributions() -> None:
    assert plugin_namespace("acme") == plugin_namespace("Acme") == "acme"
    assert plugin_namespace("wirehub-plugin-acme") == plugin_namespace("wirehub_plugin.acme") == "acme"
    assert plugin_namespace("acme-tools") == "acme_tools"


def test_the_registry_lists_its_node_type_names() -> None:
    assert build_registry([GoodPlugin()]).node_type_names() == ["good.echo"]
