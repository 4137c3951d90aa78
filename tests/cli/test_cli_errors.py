"""Bad arguments, files and settings: one clear line naming what is wrong, exit status 2, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from wirehub.cli.main import cli

WORKFLOW = {"name": "ok", "steps": [{"id": "a", "type": "core.transform"}]}


def _run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args, env=env)
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr


def _one_line(stderr: str, *words: str) -> None:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("wirehub: error: ")
    for word in words:
        assert word in lines[0]


@pytest.fixture
def workflow(tmp_path: Path) -> str:
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(WORKFLOW))
    return str(path)


def test_input_from_a_missing_file(workflow: str, tmp_path: Path) -> None:
    code, stderr = _run(["run", workflow, "--input", f"@{tmp_path / 'nope.json'}"])
    assert code == 2
    _one_line(stderr, "nope.json", "No such file")


def test_input_at_sign_without_a_file_name(workflow: str) -> None:
    code, stderr = _run(["run", workflow, "--input", "@"])
    assert code == 2
    _one_line(stderr, "--input @")


def test_input_nested_a_thousand_levels(workflow: str, tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 1000 + "]" * 1000)
    code, stderr = _run(["run", workflow, "--input", f"@{deep}"])
    assert code == 2
    _one_line(stderr, "--input", "deeply")


def test_missing_workflow_file(tmp_path: Path) -> None:
    code, stderr = _run(["run", str(tmp_path / "absent.json")])
    assert code == 2
    _one_line(stderr, "absent.json")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('{"api":', ("creds.json", "not a JSON object")),
        ("[1, 2]", ("creds.json", "not a JSON object")),
        ('{"api": {"type": "core.bearer"}}', ("creds.json", "'api'", "fields")),
        ('{"api": {"fields": {"token": "x"}}}', ("creds.json", "'api'", "type")),
    ],
    ids=["truncated", "not-an-object", "no-fields", "no-type"],
)
def test_malformed_credentials_file(workflow: str, tmp_path: Path, content: str, words: tuple[str, ...]) -> None:
    creds = tmp_path / "creds.json"
    creds.write_text(content)
    code, stderr = _run(["run", workflow, "--credentials", str(creds)])
    assert code == 2
    _one_line(stderr, *words)


def test_credentials_file_setting_naming_a_missing_file(workflow: str, tmp_path: Path) -> None:
    code, stderr = _run(["run", workflow], env={"WIREHUB_CREDENTIALS_FILE": str(tmp_path / "gone.json")})
    assert code == 2
    _one_line(stderr, "gone.json", "No such file")


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("WIREHUB_EGRESS_ALLOW_NETWORKS", "10.0.0.0/8,not-a-cidr", ("not-a-cidr", "CIDR")),
        ("WIREHUB_EGRESS_MAX_RESPONSE_BYTES", "lots", ("integer",)),
        ("WIREHUB_EGRESS_MAX_RESPONSE_BYTES", "0", (">= 1",)),
    ],
)
@pytest.mark.parametrize("command", [["run", "WF"], ["validate", "WF"], ["plugins", "list"], ["nodes", "list"]])
def test_malformed_setting(
    workflow: str, command: list[str], variable: str, value: str, words: tuple[str, ...]
) -> None:
    args = [workflow if arg == "WF" else arg for arg in command]
    code, stderr = _run(args, env={variable: value})
    assert code == 2
    _one_line(stderr, variable, *words)
