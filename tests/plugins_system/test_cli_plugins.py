"""``wirehub plugins list``: the table, the JSON, and the exit code of ``--check``."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.plugins_system.conftest import FakeDistributions, valid_plugin
from tests.plugins_system.samples import GoodPlugin, node_type, plugin_returning
from wirehub.cli.plugins import plugins_group, summary
from wirehub.plugins import build_registry


class Denied:
    """A plugin the deny list keeps out."""


@pytest.fixture
def installed(fake_dists: FakeDistributions, monkeypatch: pytest.MonkeyPatch) -> FakeDistributions:
    """Three fake plugins (one broken, one denied); the real ones are left out by the allow list."""
    fake_dists.add("alpha", valid_plugin("alpha.node"), version="1.2")
    fake_dists.add("broken", "raise ImportError('needs libfoo')\n")
    fake_dists.add("denied", valid_plugin("denied.node"))
    monkeypatch.setenv("WIREHUB_PLUGINS_ALLOW", "alpha,broken,denied")
    monkeypatch.setenv("WIREHUB_PLUGINS_DENY", "denied")
    return fake_dists


def test_the_table_shows_each_plugin_its_types_state_and_error(installed: FakeDistributions) -> None:
    result = CliRunner().invoke(plugins_group, ["list"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["PLUGIN", "DISTRIBUTION", "STATE", "NODE", "TYPES", "CREDENTIAL", "TYPES"]
    alpha = next(line for line in lines if line.startswith("alpha "))
    assert alpha.split() == ["alpha", installed.distribution("alpha"), "1.2", "ok", "alpha.node", "v1", "-"]
    broken = lines.index(next(line for line in lines if line.startswith("broken ")))
    assert "failed" in lines[broken].split()
    assert lines[broken + 1].startswith("  error: failed to load")
    assert "ImportError: needs libfoo" in lines[broken + 1]
    assert next(line for line in lines if line.startswith("denied ")).split()[3] == "blocked"
    # Every other installed plugin (core, example, whatever else) is listed too, blocked by the allow list.
    blocked = sum(1 for line in lines[1:-1] if not line.startswith(" ") and "blocked" in line.split())
    assert blocked >= 3
    assert lines[-1] == f"{blocked + 2} plugin(s): {blocked} blocked, 1 failed, 1 ok; 1 node type(s); 1 problem(s)"


def test_the_summary_counts_plugins_by_state_node_types_and_problems() -> None:
    registry = build_registry(
        [GoodPlugin(), plugin_returning(node_type(version=0), plugin_name="Bad"), Denied], deny=frozenset({"Denied"})
    )
    assert summary(registry) == "3 plugin(s): 1 blocked, 1 failed, 1 ok; 2 node type(s); 1 problem(s)"
    assert summary(build_registry([GoodPlugin()])) == "1 plugin(s): 1 ok; 2 node type(s); healthy"


def test_json_output_carries_the_same_reports(installed: FakeDistributions) -> None:
    result = CliRunner().invoke(plugins_group, ["list", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["healthy"] is False
    by_name = {p["name"]: p for p in document["plugins"] if p["name"] in {"alpha", "broken", "denied"}}
    assert by_name["alpha"] == {
        "name": "alpha",
        "distribution": installed.distribution("alpha"),
        "version": "1.2",
        "state": "ok",
        "errors": [],
        "node_types": [{"name": "alpha.node", "version": 1}],
        "credential_types": [],
    }
    assert by_name["broken"]["state"] == "failed"
    assert "ImportError: needs libfoo" in by_name["broken"]["errors"][0]
    assert by_name["denied"]["state"] == "blocked"


def test_check_exits_1_when_a_plugin_has_problems(installed: FakeDistributions) -> None:
    assert CliRunner().invoke(plugins_group, ["list", "--check"]).exit_code == 1


def test_check_exits_0_when_every_plugin_is_healthy(
    installed: FakeDistributions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIREHUB_PLUGINS_DENY", "denied,broken")
    result = CliRunner().invoke(plugins_group, ["list", "--check"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].endswith("; healthy")
