"""Plugins found through real ``wirehub`` entry points of installed distributions."""

from __future__ import annotations

import logging
import sys

import pytest

from tests.plugins_system.conftest import FakeDistributions, valid_plugin
from wirehub.engine import validate_definition
from wirehub.plugins import NodeTypeRef, PluginState, Registry, build_registry, get_plugin_manager, load_registry

RAISES_ON_IMPORT = """
    raise RuntimeError("this plugin must never be imported")
"""


def test_an_installed_plugin_is_discovered_with_its_distribution(fake_dists: FakeDistributions) -> None:
    fake_dists.add("alpha", valid_plugin("alpha.node"), version="2.3.1")
    registry = build_registry(load_entry_points=True, allow=frozenset({"alpha"}))
    report = next(p for p in registry.plugins if p.name == "alpha")
    assert (report.distribution, report.version, report.state) == (fake_dists.distribution("alpha"), "2.3.1", "ok")
    assert report.node_types == (NodeTypeRef("alpha.node", 1),)
    assert registry.latest_version("alpha.node") == 1


def test_a_plugin_that_fails_to_import_is_reported_and_the_rest_load(
    fake_dists: FakeDistributions, caplog: pytest.LogCaptureFixture
) -> None:
    fake_dists.add("alpha", valid_plugin("alpha.node"))
    broken = fake_dists.add("broken", "import a_module_that_does_not_exist\n")
    fake_dists.add("omega", valid_plugin("omega.node"))
    with caplog.at_level(logging.ERROR, logger="wirehub.plugins"):
        registry = build_registry(load_entry_points=True, allow=frozenset({"alpha", "broken", "omega"}))
    states = {p.name: p.state for p in registry.plugins if p.state is not PluginState.BLOCKED}
    assert states == {"alpha": "ok", "broken": "failed", "omega": "ok"}
    report = next(p for p in registry.plugins if p.name == "broken")
    assert report.distribution == fake_dists.distribution("broken")
    assert report.errors == (
        f"failed to load {broken!r}: ModuleNotFoundError: No module named 'a_module_that_does_not_exist'",
    )
    assert registry.latest_version("alpha.node") == registry.latest_version("omega.node") == 1
    assert "a_module_that_does_not_exist" in caplog.text
    assert not registry.healthy


def test_the_reason_for_a_missing_type_names_the_plugin_that_failed_to_load(fake_dists: FakeDistributions) -> None:
    fake_dists.add("broken", "raise ImportError('needs libfoo')\n")
    registry = build_registry(load_entry_points=True, allow=frozenset({"broken"}))
    reason = registry.unavailable_reason("broken.node")
    assert reason is not None
    assert reason.startswith("no installed plugin provides it; plugin 'broken' failed: failed to load")
    assert "ImportError: needs libfoo" in reason


def test_a_denied_plugin_is_never_imported(fake_dists: FakeDistributions) -> None:
    module = fake_dists.add("trap", RAISES_ON_IMPORT)
    fake_dists.add("alpha", valid_plugin("alpha.node"))
    registry = build_registry(load_entry_points=True, deny=frozenset({"trap"}))
    trap = next(p for p in registry.plugins if p.name == "trap")
    assert trap.state is PluginState.BLOCKED
    assert trap.errors == ()
    assert trap.distribution == fake_dists.distribution("trap")
    assert module not in sys.modules
    assert registry.latest_version("alpha.node") == 1


def test_a_plugin_outside_the_allow_list_is_never_imported(fake_dists: FakeDistributions) -> None:
    module = fake_dists.add("trap", RAISES_ON_IMPORT)
    fake_dists.add("alpha", valid_plugin("alpha.node"))
    registry = build_registry(load_entry_points=True, allow=frozenset({"alpha"}))
    assert next(p for p in registry.plugins if p.name == "trap").state is PluginState.BLOCKED
    assert module not in sys.modules
    assert registry.unavailable_reason("trap.node") == (
        "no installed plugin provides it; plugin 'trap' is blocked by the allow/deny lists"
    )


def test_deny_wins_over_allow(fake_dists: FakeDistributions) -> None:
    module = fake_dists.add("trap", RAISES_ON_IMPORT)
    registry = build_registry(load_entry_points=True, allow=frozenset({"trap"}), deny=frozenset({"trap"}))
    assert next(p for p in registry.plugins if p.name == "trap").state is PluginState.BLOCKED
    assert module not in sys.modules


def test_the_import_trap_would_have_been_caught(fake_dists: FakeDistributions) -> None:
    """The control for the two tests above: loaded, the trap module fails."""
    fake_dists.add("trap", RAISES_ON_IMPORT)
    registry = build_registry(load_entry_points=True, allow=frozenset({"trap"}))
    [report] = [p for p in registry.plugins if p.name == "trap"]
    assert report.state is PluginState.FAILED
    assert "RuntimeError: this plugin must never be imported" in report.errors[0]


def test_a_hook_that_raises_in_an_installed_plugin_is_attributed_to_it(fake_dists: FakeDistributions) -> None:
    fake_dists.add(
        "raising",
        """
        from wirehub_sdk import hookimpl

        @hookimpl
        def wirehub_node_types():
            raise KeyError("missing setting")
        """,
    )
    fake_dists.add("alpha", valid_plugin("alpha.node"))
    registry = build_registry(load_entry_points=True, allow=frozenset({"raising", "alpha"}))
    raising = next(p for p in registry.plugins if p.name == "raising")
    assert raising.state is PluginState.FAILED
    assert raising.errors == ("wirehub_node_types() raised KeyError: 'missing setting'",)
    assert registry.latest_version("alpha.node") == 1


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        ("'not a class'", "'not a class' is not a subclass of wirehub_sdk.NodeType"),
        ("type('Wrong', (Node,), {'name': 'NoDots'})", "has name 'NoDots'"),
        ("type('Zero', (Node,), {'version': 0})", "has version 0"),
        ("type('Sync', (Node,), {'execute': lambda self, ctx, config, input: input})", "must be a coroutine function"),
    ],
    ids=["not a class", "wrong name", "version 0", "sync execute"],
)
def test_a_malformed_type_from_an_installed_plugin_is_rejected(
    fake_dists: FakeDistributions, returned: str, message: str
) -> None:
    source = valid_plugin("malformed.node").replace("return [Node]", f"return [Node, {returned}]")
    fake_dists.add("malformed", source)
    registry = build_registry(load_entry_points=True, allow=frozenset({"malformed"}))
    [report] = [p for p in registry.plugins if p.name == "malformed"]
    assert report.node_types == (NodeTypeRef("malformed.node", 1),)
    [error] = report.errors
    assert message in error


def test_duplicate_names_across_installed_plugins_keep_the_first_in_load_order(fake_dists: FakeDistributions) -> None:
    fake_dists.add("aaa", valid_plugin("shared.node"))
    fake_dists.add("bbb", valid_plugin("shared.node"))
    fake_dists.add("ccc", valid_plugin("shared.node", version=2))
    registry = build_registry(load_entry_points=True, allow=frozenset({"aaa", "bbb", "ccc"}))
    owners = {i.version: i.plugin for i in registry.node_type_infos() if i.name == "shared.node"}
    assert owners == {1: "aaa", 2: "ccc"}
    bbb = next(p for p in registry.plugins if p.name == "bbb")
    assert bbb.errors == ("shared.node v1 from plugin 'bbb' conflicts with plugin 'aaa'",)
    assert registry.unavailable_reason("shared.node") == "shared.node v1 from plugin 'bbb' conflicts with plugin 'aaa'"


def test_an_unmatched_hookimpl_in_an_installed_plugin_is_reported(fake_dists: FakeDistributions) -> None:
    fake_dists.add(
        "typo",
        """
        from wirehub_sdk import hookimpl

        @hookimpl
        def wirehub_nodes():
            return []
        """,
    )
    pm = get_plugin_manager(allow=frozenset({"typo"}))
    record = pm.record("typo")
    assert record.state is PluginState.FAILED
    assert record.errors == [
        "hook implementation 'wirehub_nodes' matches no hub hook "
        "(known hooks: wirehub_credential_types, wirehub_node_types)"
    ]


def test_two_distributions_declaring_one_plugin_name_load_only_the_first(fake_dists: FakeDistributions) -> None:
    fake_dists.add("twin", valid_plugin("twin.node"), distribution=f"aaa-twin-{fake_dists.suffix}")
    # The second declaration points at another module, written by hand: add() names modules by plugin.
    other = fake_dists.root / f"bbb_twin_{fake_dists.suffix}-1.0.dist-info"
    other.mkdir()
    (other / "METADATA").write_text(f"Metadata-Version: 2.1\nName: bbb-twin-{fake_dists.suffix}\nVersion: 1.0\n")
    (other / "entry_points.txt").write_text("[wirehub]\ntwin = a_module_never_imported\n")
    registry = build_registry(load_entry_points=True, allow=frozenset({"twin"}))
    twins = [p for p in registry.plugins if p.name == "twin"]
    assert [p.state for p in twins] == [PluginState.OK, PluginState.FAILED]
    assert twins[1].errors == (f"plugin name 'twin' is already taken by distribution 'aaa-twin-{fake_dists.suffix}'",)
    assert registry.latest_version("twin.node") == 1


def test_an_explicit_plugin_already_installed_registers_once(fake_dists: FakeDistributions) -> None:
    module_name = fake_dists.add("alpha", valid_plugin("alpha.node"))
    module = __import__(module_name)
    registry = build_registry([module], load_entry_points=True, allow=frozenset({"alpha", module_name}))
    assert [p.name for p in registry.plugins if p.state is not PluginState.BLOCKED] == ["alpha"]
    assert registry.healthy


def test_load_registry_is_built_once_per_process_and_lists(fake_dists: FakeDistributions) -> None:
    fake_dists.add("alpha", valid_plugin("alpha.node"))
    allow = frozenset({"alpha"})
    first = load_registry(allow=allow)
    assert load_registry(allow=allow) is first
    assert load_registry(allow=allow, deny=allow) is not first


def test_the_builtin_core_plugin_loads_through_its_entry_point(fake_dists: FakeDistributions) -> None:
    registry = build_registry(load_entry_points=True, allow=frozenset({"core"}))
    [core] = [p for p in registry.plugins if p.name == "core"]
    assert (core.distribution, core.state, core.errors) == ("wirehub-core", PluginState.OK, ())
    names = {ref.name for ref in core.node_types}
    assert {"core.transform", "core.condition", "core.delay", "core.http"} <= names
    assert registry.plugins[0].name == "core", "built-in plugins load first"


def test_the_example_plugin_loads_through_its_entry_point(fake_dists: FakeDistributions) -> None:
    registry = build_registry(load_entry_points=True, allow=frozenset({"example"}))
    [example] = [p for p in registry.plugins if p.name == "example"]
    assert (example.distribution, example.state, example.errors) == ("wirehub-plugin-example", PluginState.OK, ())
    assert dict(registry.node_type_versions("example.slugify")).keys() == {1, 2}
    assert registry.credential_type_names() == ["example.signing_key"]


def test_the_plugins_this_repository_ships_load_cleanly(fake_dists: FakeDistributions) -> None:
    registry = build_registry(load_entry_points=True, allow=frozenset({"core", "example"}))
    assert registry.problems() == []
    assert [p.name for p in registry.plugins if p.state is PluginState.OK] == ["core", "example"]
    assert registry.node("core.transform", 1).__module__ == "wirehub_core.transform"


def test_throwaway_plugins_are_really_installed_in_the_second_run(fake_dists: FakeDistributions) -> None:
    """The proof that the parametrized runs differ: without an allow list the extras load and fail."""
    registry = build_registry(load_entry_points=True)
    extras = {p.name: p.state for p in registry.plugins if p.name.startswith("throwaway")}
    if not fake_dists.modules:
        assert extras == {}
        return
    assert extras == {"throwaway": PluginState.FAILED, "throwaway_broken": PluginState.FAILED}
    assert registry.latest_version("throwaway.node") == 1
    assert registry.node("core.transform", 1).__module__ == "wirehub_core.transform", "core keeps its name"


def test_a_distribution_with_unreadable_entry_points_is_reported_and_the_rest_load(
    fake_dists: FakeDistributions,
) -> None:
    fake_dists.add("alpha", valid_plugin("alpha.node"))
    dist = f"garbled-{fake_dists.suffix}"
    info = fake_dists.root / f"garbled_{fake_dists.suffix}-0.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.3\n")
    (info / "entry_points.txt").write_text("[wirehub]\nno equals sign here\n")
    registry = build_registry(load_entry_points=True, allow=frozenset({"alpha", dist}))
    [garbled] = [p for p in registry.plugins if p.name == dist]
    assert (garbled.distribution, garbled.version, garbled.state) == (dist, "0.3", PluginState.FAILED)
    assert garbled.errors[0].startswith("its entry points could not be read: ")
    assert registry.latest_version("alpha.node") == 1


def unknown_type_messages(registry: Registry, *types: str) -> dict[str, str]:
    steps = [{"id": f"s{index}", "type": name} for index, name in enumerate(types)]
    report = validate_definition({"name": "typos", "steps": steps}, registry)
    return {types[int(p.pointer.split("/")[2])]: p.message for p in report.problems if p.code == "unknown-node-type"}


def test_a_broken_plugin_is_blamed_for_its_own_namespace_and_a_typo_gets_a_suggestion(
    fake_dists: FakeDistributions,
) -> None:
    fake_dists.add("broken", "raise ImportError('needs libfoo')\n")
    registry = build_registry(load_entry_points=True, allow=frozenset({"core", "broken"}))
    messages = unknown_type_messages(registry, "core.htp", "broken.node", "nobody.node")
    assert (
        messages["core.htp"]
        == 'Unknown node type "core.htp": no installed plugin provides it. Did you mean "core.http"?'
    )
    assert messages["broken.node"].startswith(
        "Node type \"broken.node\" is not available: no installed plugin provides it; plugin 'broken' failed: "
        f"failed to load {fake_dists.module_name('broken')!r}: ImportError: needs libfoo"
    )
    assert "Did you mean" not in messages["broken.node"], "no other plugin's node type is offered in its place"
    assert messages["nobody.node"] == 'Unknown node type "nobody.node": no installed plugin provides it.'


def test_a_failed_plugin_of_the_namespace_and_a_close_name_are_both_named(fake_dists: FakeDistributions) -> None:
    fake_dists.add("alpha", valid_plugin("alpha.send_mail"))
    fake_dists.add("mailer", "raise ImportError('needs libbar')\n", distribution="wirehub-plugin-alpha")
    registry = build_registry(load_entry_points=True, allow=frozenset({"alpha", "mailer"}))
    message = unknown_type_messages(registry, "alpha.send_mails")["alpha.send_mails"]
    assert "plugin 'mailer' failed" in message, "blamed through its distribution's namespace"
    assert message.endswith('Did you mean "alpha.send_mail"?')
