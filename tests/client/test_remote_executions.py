"""``wirehub push`` of an existing workflow and ``wirehub executions list|failed|cancel|retry`` against the real app."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from tests.client.conftest import BROKEN_ONCE, FAILING, SLOW_ONCE, Hub, chain
from tests.client.test_client_executions import until
from tests.client.test_remote_cli import login, wirehub, write
from wirehub_sdk.client import Client

TOO_SLOW = {"name": "too-slow", "timeout_seconds": 0.3, "steps": chain("x", 1, seconds=30)["steps"]}
"""Times out as a whole, with no step to blame."""


@pytest.fixture
def logged_in(hub: Hub, config_dir: Path) -> Hub:
    login(hub)
    return hub


def test_push_of_a_workflow_that_exists_saves_its_next_version(logged_in: Hub, client: Client, tmp_path: Path) -> None:
    first = json.loads(wirehub("push", write(tmp_path, chain("pushed", 1))).stdout)

    second = wirehub("push", write(tmp_path, chain("pushed", 2)))
    unchanged = wirehub("push", write(tmp_path, chain("pushed", 2)))

    assert second.exit_code == 0, second.output
    assert (json.loads(second.stdout)["id"], json.loads(second.stdout)["latest_version"]) == (first["id"], 2)
    assert "saved pushed version 2" in second.stderr
    assert json.loads(unchanged.stdout)["latest_version"] == 2  # the same definition stores nothing
    assert [v.version for v in client.workflow_versions(first["id"]).items] == [2, 1]
    fresh = json.loads(wirehub("push", write(tmp_path, chain("pushed", 1)), "--new").stdout)
    assert fresh["id"] != first["id"]
    ambiguous = wirehub("push", write(tmp_path, chain("pushed", 3)))
    assert ambiguous.exit_code == 2
    assert "2 workflows are named 'pushed'" in ambiguous.stderr


def test_push_leaves_an_archived_workflow_of_that_name_alone(logged_in: Hub, client: Client, tmp_path: Path) -> None:
    old = client.push(chain("reborn", 1))
    client.archive_workflow(old.id)
    result = wirehub("push", write(tmp_path, chain("reborn", 2)))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["id"] != str(old.id)
    assert client.workflow(old.id).latest_version == 1


def test_executions_list_filters_by_workflow_status_and_time(logged_in: Hub, client: Client) -> None:
    client.push(chain("fine", 1, seconds=0.01))
    client.push(FAILING)
    fine = client.wait(client.start("fine").id, timeout=20)
    failing = client.wait(client.start("failing").id, timeout=20)

    everything = wirehub("executions", "list")
    failed_only = wirehub("executions", "list", "--status", "failed")
    by_workflow = wirehub("executions", "list", "--workflow", "fine", "--json")

    assert everything.exit_code == 0, everything.output
    assert [line.split()[0] for line in everything.stdout.splitlines()] == [str(failing.id), str(fine.id)]
    assert [line.split()[:2] for line in failed_only.stdout.splitlines()] == [[str(failing.id), "failed"]]
    assert [item["id"] for item in json.loads(by_workflow.stdout)["items"]] == [str(fine.id)]
    later = wirehub("executions", "list", "--since", "2999-01-01T00:00:00Z")
    assert (later.exit_code, later.stdout, later.stderr.strip()) == (0, "", "no executions")
    paged = wirehub("executions", "list", "--limit", "1")
    assert len(paged.stdout.splitlines()) == 1
    assert "(more:" in paged.stderr
    refused = wirehub("executions", "list", "--status", "broken")
    assert refused.exit_code == 2


def test_failed_shows_each_recent_failure_with_its_step_attempt_kind_and_message(
    logged_in: Hub, client: Client
) -> None:
    client.push(FAILING)
    client.push(BROKEN_ONCE)
    client.push(TOO_SLOW)
    client.push(chain("fine", 1, seconds=0.01))
    failing = client.wait(client.start("failing").id, timeout=20)
    broken = client.wait(client.start("broken-once").id, timeout=20)
    slow = client.wait(client.start("too-slow").id, timeout=20)
    client.wait(client.start("fine").id, timeout=20)
    assert (failing.status, broken.status, slow.status) == ("failed", "failed", "timed_out")

    result = wirehub("executions", "failed")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[1] for line in lines] == [str(slow.id), str(broken.id), str(failing.id)]  # newest first
    assert "  too-slow  no step  timeout: " in lines[0]
    assert "  broken-once  step b attempt 1  test.broken: " in lines[1]
    assert lines[1].endswith("this never works")
    assert "  failing  step boom attempt 1  test.broken: " in lines[2]
    assert lines[2].endswith("it broke")

    one = wirehub("executions", "failed", "--workflow", "failing", "--json")
    assert [item["execution_id"] for item in json.loads(one.stdout)] == [str(failing.id)]
    assert json.loads(one.stdout)[0]["step_id"] == "boom"
    assert json.loads(one.stdout)[0]["node_type"] == "core.fail"
    flaky = wirehub("executions", "failed", "--node-type", "test.flaky")
    assert [line.split()[1] for line in flaky.stdout.splitlines()] == [str(broken.id)]
    timeouts = wirehub("executions", "failed", "--error-kind", "timeout")
    assert [line.split()[1] for line in timeouts.stdout.splitlines()] == [str(slow.id)]
    # The times are on the list rows, not on the execution itself.
    ended = {row.id: row.finished_at for row in client.iter_executions() if row.finished_at}
    later = (ended[failing.id] + timedelta(microseconds=1)).isoformat()
    since = wirehub("executions", "failed", "--since", later)
    assert [line.split()[1] for line in since.stdout.splitlines()] == [str(slow.id), str(broken.id)]
    assert lines[0].startswith(ended[slow.id].isoformat(timespec="seconds") + "  ")  # the time it ended
    refused = wirehub("executions", "failed", "--error-kind", "not a kind")
    assert refused.exit_code != 0
    assert "error_kind" in refused.stderr
    none = wirehub("executions", "failed", "--since", "2999-01-01T00:00:00Z")
    assert (none.exit_code, none.stdout) == (0, "")
    assert "no failures since 2999-01-01T00:00:00+00:00" in none.stderr
    limited = wirehub("executions", "failed", "--limit", "2")
    assert [line.split()[1] for line in limited.stdout.splitlines()] == [str(slow.id), str(broken.id)]
    assert "(more:" in limited.stderr


def test_cancel_stops_a_running_execution_once(logged_in: Hub, client: Client) -> None:
    execution = client.start(client.push(SLOW_ONCE).id)
    until(client, execution.id, "running")

    result = wirehub("executions", "cancel", str(execution.id))
    again = wirehub("executions", "cancel", str(execution.id))

    assert result.exit_code == 0, result.output
    assert f"execution {execution.id} cancelled" in result.stderr
    assert client.execution(execution.id).status == "cancelled"
    assert again.exit_code == 1
    assert "409 execution-over" in again.stderr


def test_retry_with_watch_runs_a_failed_execution_again_to_success(logged_in: Hub, client: Client) -> None:
    failed = client.wait(client.start(client.push(BROKEN_ONCE).id).id, timeout=20)

    result = wirehub("executions", "retry", str(failed.id), "--watch", "--timeout", "30")

    assert result.exit_code == 0, result.output
    assert f"execution {failed.id} running" in result.stderr
    assert any("✓ b" in line and "attempt 2" in line for line in result.stderr.splitlines()), result.stderr
    assert json.loads(result.stdout)["status"] == "succeeded"
    again = wirehub("executions", "retry", str(failed.id))
    assert again.exit_code == 1
    assert "409 not-retryable" in again.stderr
