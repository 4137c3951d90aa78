"""Fake installed distributions, discovered through real ``wirehub`` entry points."""

from __future__ import annotations

import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from wirehub.plugins import clear_registry_cache


class FakeDistributions:
    """Writes ``<name>-<version>.dist-info`` directories and modules into a directory on ``sys.path``.

    Module and distribution names get a per-test suffix, so nothing imported
    in one test is found in ``sys.modules`` by another.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.suffix = uuid.uuid4().hex[:8]
        self.modules: list[str] = []

    def module_name(self, base: str) -> str:
        """The unique module name this test uses for ``base``."""
        return f"{base}_{self.suffix}"

    def add(self, plugin: str, source: str, *, distribution: str | None = None, version: str = "1.0") -> str:
        """Installs a distribution declaring ``plugin = <module>`` in the ``wirehub`` group.

        Returns:
            The module's (unique) name.
        """
        module = self.module_name(plugin)
        dist = distribution or f"fake-{plugin.replace('_', '-')}-{self.suffix}"
        info = self.root / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[wirehub]\n{plugin} = {module}\n")
        (self.root / f"{module}.py").write_text(textwrap.dedent(source))
        self.modules.append(module)
        return module

    def distribution(self, plugin: str) -> str:
        """The distribution name ``add`` gave ``plugin`` by default."""
        return f"fake-{plugin.replace('_', '-')}-{self.suffix}"


THROWAWAY_PLUGIN = """
    from typing import Any

    from wirehub_sdk import NodeContext, NodeType, hookimpl


    class Extra(NodeType):
        name = "throwaway.node"

        async def execute(self, ctx: NodeContext, config: Any, input: Any) -> Any:
            return input


    class Clash(NodeType):
        name = "core.transform"

        async def execute(self, ctx: NodeContext, config: Any, input: Any) -> Any:
            return "clash"


    @hookimpl
    def wirehub_node_types():
        return [Extra, Clash]
"""


def install_throwaway_plugins(fakes: FakeDistributions) -> None:
    """What an operator's environment may hold besides this repository's plugins.

    A plugin that fails to import, and one that provides a node type of its
    own and claims ``core.transform`` (a conflict): tests that see only the
    plugins they ask for pass all the same.
    """
    fakes.add("throwaway", THROWAWAY_PLUGIN)
    fakes.add("throwaway_broken", "raise ImportError('broken on purpose')\n")


@pytest.fixture(params=["as shipped", "with throwaway plugins installed"])
def fake_dists(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeDistributions]:
    """Installs fake plugin distributions for one test; they vanish afterwards.

    Every test that uses it runs twice: with the environment as this
    repository ships it, and with throwaway plugins installed besides. A test
    that loads installed plugins must ask for the ones it means (an allow
    list): whatever else is installed may not change its outcome.
    """
    monkeypatch.syspath_prepend(str(tmp_path))
    fakes = FakeDistributions(tmp_path)
    if request.param != "as shipped":
        install_throwaway_plugins(fakes)
    clear_registry_cache()
    yield fakes
    clear_registry_cache()
    for module in fakes.modules:
        sys.modules.pop(module, None)


VALID_PLUGIN = """
    from typing import Any

    from wirehub_sdk import NodeContext, NodeType, hookimpl


    class Node(NodeType):
        name = "{name}"
        version = {version}

        async def execute(self, ctx: NodeContext, config: Any, input: Any) -> Any:
            return input


    @hookimpl
    def wirehub_node_types():
        return [Node]
"""


def valid_plugin(name: str, version: int = 1) -> str:
    """Source of a plugin module providing one node type."""
    return VALID_PLUGIN.format(name=name, version=version)
