"""`wirehub nodes`: the node-type catalogue with each type's schemas, from the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import msgspec
from click.testing import CliRunner

from wirehub.cli.main import cli
from wirehub_core.http import HttpConfig, HttpInput, HttpOutput


def test_nodes_list_shows_each_type_with_its_versions_and_plugin() -> None:
    result = CliRunner().invoke(cli, ["nodes", "list"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:]}
    assert rows["core.http"][1:3] == ["1", "core"]
    assert result.stdout.splitlines()[0].split() == ["NODE", "TYPE", "VERSIONS", "PLUGIN", "TITLE"]


def test_nodes_list_json_has_every_version_with_schemas() -> None:
    result = CliRunner().invoke(cli, ["nodes", "list", "--json"])
    assert result.exit_code == 0, result.output
    infos = json.loads(result.stdout)["node_types"]
    http = next(info for info in infos if info["name"] == "core.http")
    assert http["plugin"] == "core"
    assert http["title"] == "HTTP request"
    assert http["config_schema"] == msgspec.json.schema(HttpConfig)


def test_nodes_show_prints_the_three_schemas_as_json() -> None:
    result = CliRunner().invoke(cli, ["nodes", "show", "core.http", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["version"] == 1
    assert info["config_schema"] == msgspec.json.schema(HttpConfig)
    assert info["input_schema"] == msgspec.json.schema(HttpInput | None)
    assert info["output_schema"] == msgspec.json.schema(HttpOutput)
    assert "core.bearer" in info["credential_types"]


def test_nodes_show_human_output_names_the_plugin_and_the_schemas() -> None:
    result = CliRunner().invoke(cli, ["nodes", "show", "core.http"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("core.http v1: HTTP request\n  plugin: core\n  versions: 1\n")
    for label in ("config schema:", "input schema:", "output schema:"):
        assert f"\n{label}\n" in result.stdout
    assert '"HttpConfig"' in result.stdout


def test_nodes_show_picks_a_version() -> None:
    latest = CliRunner().invoke(cli, ["nodes", "show", "example.slugify", "--json"])
    first = CliRunner().invoke(cli, ["nodes", "show", "example.slugify", "--version", "1", "--json"])
    assert json.loads(latest.stdout)["version"] == 2
    assert json.loads(first.stdout)["version"] == 1


def test_nodes_show_an_unknown_type_or_version_is_one_line_and_exit_2() -> None:
    unknown = CliRunner().invoke(cli, ["nodes", "show", "core.htp"])
    assert unknown.exit_code == 2
    assert unknown.stderr.startswith("wirehub: error: no node type 'core.htp' is installed")
    missing = CliRunner().invoke(cli, ["nodes", "show", "core.http", "--version", "9"])
    assert missing.exit_code == 2
    assert missing.stderr == "wirehub: error: core.http has no version 9; installed: 1\n"


def test_help_does_not_import_the_engine_or_the_plugins() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from wirehub.cli.main import cli\n"
        "assert CliRunner().invoke(cli, ['--help']).exit_code == 0\n"
        "heavy = ('wirehub.engine', 'wirehub.plugins', 'wirehub.runtime', 'httpx')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "[]"
