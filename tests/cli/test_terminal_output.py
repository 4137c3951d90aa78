"""Text from a definition never reaches the terminal raw: control characters are shown escaped."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from wirehub.cli.main import cli
from wirehub.cli.text import escape, json_text

TITLE = "\x1b]0;pwned\x07"  # an xterm escape sequence that retitles the window
RAW = ("\x1b", "\x07", "\r", "\x9b", "\u2028", "\u202e")


def _evil(tmp_path: Path) -> str:
    definition = {
        "name": f"evil{TITLE}",
        "steps": [
            {"id": f"a{TITLE}\rb", "type": "core.nope\x9b2J"},
            {"id": "c", "type": "core.transform", "needs": ["\u2028x"], "config": {"\u202ekey": 1}},
        ],
    }
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(definition))
    return str(path)


def test_validate_escapes_control_characters_in_problems(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", _evil(tmp_path)])
    assert result.exit_code == 1
    assert not [c for c in RAW if c in result.output]
    assert "\\x1b]0;pwned\\x07\\x0db" in result.stderr
    assert "\\u2028x" in result.stderr


def test_validate_json_keeps_the_same_values_with_nothing_raw(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", _evil(tmp_path), "--json"])
    assert result.exit_code == 1
    assert not [c for c in RAW if c in result.stdout]
    problems = json.loads(result.stdout)["problems"]
    assert any(TITLE in problem["message"] for problem in problems)  # decoded, the JSON says what the file said


def test_run_escapes_control_characters_in_what_it_prints(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["run", _evil(tmp_path)])
    assert result.exit_code == 2
    assert not [c for c in RAW if c in result.output]
    assert "\\x1b]0;pwned" in result.stderr


def test_run_output_with_control_characters_stays_json(tmp_path: Path) -> None:
    # A JSON literal: the output holds the characters themselves. (A lone surrogate is refused when the
    # expression compiles, see tests/engine/test_expressions.py.)
    expression = r'`"\u001b\u009b\u2028"`'
    definition = {"name": "out", "steps": [{"id": "a", "type": "core.transform", "config": {"expression": expression}}]}
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(definition))
    result = CliRunner().invoke(cli, ["run", str(path), "--quiet"])
    assert result.exit_code == 0, result.output
    assert not [c for c in RAW if c in result.stdout]
    assert json.loads(result.stdout)["output"] == {"a": "\x1b\x9b\u2028"}


def test_escape_and_json_text() -> None:
    assert escape("a\x1b[31mred\r\n\u2028\ud800\\") == "a\\x1b[31mred\\x0d\\x0a\\u2028\\ud800\\"
    assert escape("plain ünïcode ✓") == "plain ünïcode ✓"
    text = json_text({"k\u2028": "\x9b\x1b\ud800"})
    assert "\u2028" not in text
    assert "\x9b" not in text
    assert json.loads(text) == {"k\u2028": "\x9b\x1b\ud800"}
