"""The `wirehub` command: validate and run, their output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from wirehub.cli.main import cli


def write(tmp_path: Path, definition: object, name: str = "wf.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(definition) if not isinstance(definition, str) else definition)
    return str(path)


def test_validate_reports_every_problem_with_its_pointer(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "name": "broken",
            "steps": [
                {"id": "a", "type": "core.transform", "needs": ["ghost"]},
                {"id": "a", "type": "core.nope"},
                {"id": "c", "type": "core.transform", "config": {"expression": "foo[["}},
            ],
        },
    )
    result = CliRunner().invoke(cli, ["validate", path, "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    pointers = {p["pointer"] for p in report["problems"]}
    assert report["valid"] is False
    assert "/steps/0/needs/0" in pointers
    assert "/steps/1/id" in pointers
    assert "/steps/1/type" in pointers
    assert any(p.startswith("/steps/2/config/expression") for p in pointers)


def test_validate_reports_malformed_json_with_its_position(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", write(tmp_path, '{"name": "x", "steps": [')])
    assert result.exit_code == 1
    assert "line 1" in result.stderr


def test_validate_accepts_a_good_definition(tmp_path: Path) -> None:
    path = write(tmp_path, {"name": "ok", "steps": [{"id": "a", "type": "core.transform"}]})
    result = CliRunner().invoke(cli, ["validate", path])
    assert result.exit_code == 0
    assert "valid" in result.stdout


def test_run_exits_non_zero_and_prints_the_error_when_the_execution_fails(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "name": "fails",
            "steps": [{"id": "stop", "type": "core.fail", "config": {"message": "no stock", "kind": "stock.empty"}}],
        },
    )
    result = CliRunner().invoke(cli, ["run", path])
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["status"] == "failed"
    assert body["error"]["kind"] == "stock.empty"
    assert body["error"]["message"] == "step 'stop' failed: no stock"
    assert body["error"]["step_id"] == "stop"
    assert body["error"]["attempt"] == 1
    assert "✗ stop" in result.stderr


def test_run_refuses_input_that_is_not_json(tmp_path: Path) -> None:
    path = write(tmp_path, {"name": "ok", "steps": [{"id": "a", "type": "core.transform"}]})
    result = CliRunner().invoke(cli, ["run", path, "--input", "{nope"])
    assert result.exit_code == 2
    assert "not valid JSON" in result.output


def test_run_quiet_prints_only_the_result(tmp_path: Path) -> None:
    path = write(
        tmp_path, {"name": "ok", "steps": [{"id": "a", "type": "core.transform", "config": {"expression": "`7`"}}]}
    )
    result = CliRunner().invoke(cli, ["run", path, "--quiet"])
    assert result.exit_code == 0
    assert result.stderr == ""
    assert json.loads(result.stdout) == {"status": "succeeded", "output": {"a": 7}}


def test_validate_pin_records_the_version_each_step_resolved_to(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "name": "pinned",
            "steps": [
                {"id": "a", "type": "core.transform"},
                {"id": "newest", "type": "example.slugify", "config": {"separator": "_"}},
                {"id": "kept", "type": "example.slugify", "type_version": 1, "config": {"separator": "_"}},
            ],
        },
    )
    result = CliRunner().invoke(cli, ["validate", path, "--pin"])
    assert result.exit_code == 0, result.output
    steps = json.loads(result.stdout)["steps"]
    assert [step["type_version"] for step in steps] == [1, 2, 1]
    assert steps[1]["config"] == {"separator": "_"}


def test_log_lines_from_a_node_name_the_execution_step_and_attempt() -> None:
    import logging

    from wirehub.cli.logs import LogFormatter

    record = logging.LogRecord("wirehub.runtime", logging.WARNING, __file__, 1, "attempt timed out", None, None)
    record.execution_id, record.step_id, record.attempt = "ex-1", "fetch", 2
    line = LogFormatter(json=False).format(record)
    assert "attempt timed out" in line
    assert "attempt=2 execution_id=ex-1" in line
    assert "step_id=fetch" in line
