"""The remote ``wirehub`` commands against the real app served over TCP (embedded hub)."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.client.conftest import FAILING, Hub, chain
from wirehub.cli.main import cli
from wirehub_sdk.client import AuthenticationError, Client, Tokens


def wirehub(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input)


def write(tmp_path: Path, definition: object) -> str:
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps(definition))
    return str(path)


def login(hub: Hub) -> Result:
    result = wirehub(
        "remote", "login", "--url", hub.url, "--username", hub.admin[0], "--password-stdin", input=hub.admin[1] + "\n"
    )
    assert result.exit_code == 0, result.output
    return result


def test_login_stores_the_tokens_for_the_owner_alone_and_never_the_password(hub: Hub, config_dir: Path) -> None:
    result = login(hub)
    stored = config_dir / "login.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o700
    text = stored.read_text()
    assert hub.admin[1] not in text
    assert hub.admin[1] not in result.output
    assert json.loads(text)["url"] == hub.url

    status = wirehub("remote", "status")
    assert status.exit_code == 0, status.output
    assert hub.url in status.stdout
    assert "default" in status.stdout


def test_push_then_start_with_watch_shows_each_step_and_the_result(hub: Hub, config_dir: Path, tmp_path: Path) -> None:
    login(hub)
    pushed = wirehub("push", write(tmp_path, chain("watched", 2)))
    assert pushed.exit_code == 0, pushed.output
    workflow = json.loads(pushed.stdout)
    assert (workflow["name"], workflow["latest_version"]) == ("watched", 1)

    started = wirehub("start", "watched", "--watch", "--timeout", "30")
    assert started.exit_code == 0, started.output
    assert json.loads(started.stdout)["status"] == "succeeded"
    lines = started.stderr.splitlines()
    for step in ("s0", "s1"):
        assert any("▶" in line and step in line and "running" in line for line in lines), lines
        assert any("⏸" in line and step in line and "waiting" in line for line in lines), lines
    assert any("succeeded" in line for line in lines)

    execution_id = json.loads(started.stdout)["id"]
    shown = wirehub("executions", "show", execution_id)
    assert shown.exit_code == 0, shown.output
    assert "succeeded" in shown.stdout
    assert "s0" in shown.stdout
    assert "s1" in shown.stdout
    as_json = wirehub("executions", "show", execution_id, "--json")
    assert json.loads(as_json.stdout)["id"] == execution_id


def test_a_failing_execution_exits_1_with_its_error(hub: Hub, config_dir: Path, tmp_path: Path) -> None:
    login(hub)
    assert wirehub("push", write(tmp_path, FAILING)).exit_code == 0
    result = wirehub("start", "failing", "--watch")
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["error"]["kind"] == "test.broken"
    assert "✗ boom" in result.stderr
    assert "error: test.broken" in result.stderr


def test_an_api_key_from_the_environment_needs_no_login(
    hub: Hub, config_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIREHUB_URL", hub.url)
    monkeypatch.setenv("WIREHUB_API_KEY", hub.api_key("editor"))
    assert wirehub("push", write(tmp_path, chain("keyed", 1))).exit_code == 0
    started = wirehub("start", "keyed", "--input", "{}")
    assert started.exit_code == 0, started.output
    execution_id = json.loads(started.stdout)["id"]
    watched = wirehub("executions", "watch", execution_id, "--timeout", "30")
    assert watched.exit_code == 0, watched.output
    assert json.loads(watched.stdout)["status"] == "succeeded"
    assert not (config_dir / "login.json").exists()


def test_a_refused_definition_shows_each_pointer_and_the_correlation_id(
    hub: Hub, config_dir: Path, tmp_path: Path
) -> None:
    login(hub)
    result = wirehub("push", write(tmp_path, {"name": "bad", "steps": [{"id": "a", "type": "core.nope"}]}))
    assert result.exit_code == 1
    assert "422 invalid-definition" in result.stderr
    assert "/steps/0" in result.stderr
    assert "correlation id" in result.stderr


def test_without_a_login_the_command_says_how_to_log_in(config_dir: Path) -> None:
    result = wirehub("executions", "show", "01a22e14-8def-7564-924d-9f94e7400bc2")
    assert result.exit_code == 2
    assert "wirehub remote login" in result.stderr


def test_a_refreshed_login_is_written_back(hub: Hub, config_dir: Path) -> None:
    login(hub)
    path = config_dir / "login.json"
    stored = json.loads(path.read_text())
    old_refresh = stored["tokens"]["refresh_token"]
    stored["tokens"]["expires_at"] = time.time() - 1
    path.write_text(json.dumps(stored))
    assert wirehub("remote", "status").exit_code == 0
    renewed = json.loads(path.read_text())["tokens"]
    assert renewed["refresh_token"] != old_refresh
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert wirehub("remote", "status").exit_code == 0  # the renewed login works


def test_logout_ends_the_login_on_the_hub_and_forgets_it(hub: Hub, config_dir: Path) -> None:
    login(hub)
    tokens = Tokens.from_dict(json.loads((config_dir / "login.json").read_text())["tokens"])
    result = wirehub("remote", "logout")
    assert result.exit_code == 0, result.output
    assert not (config_dir / "login.json").exists()
    with Client(hub.url, tokens=tokens) as client, pytest.raises(AuthenticationError):
        client.workspaces()
