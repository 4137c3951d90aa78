"""A failed execution's result carries the failing step's details: the HTTP status and body of a 400."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tests.support.local_http import LocalServer
from wirehub.cli.main import cli


def test_run_prints_the_status_and_body_of_a_400(tmp_path: Path, server: LocalServer) -> None:
    url = server.url("/status/400")
    definition = {"name": "bad", "steps": [{"id": "call", "type": "core.http", "config": {"url": url}}]}
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(definition))
    result = CliRunner().invoke(cli, ["run", str(path)], env={"WIREHUB_EGRESS_ALLOW_NETWORKS": "127.0.0.0/8"})
    assert result.exit_code == 1, result.output
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "http.status"
    assert error["step_id"] == "call"
    assert error["attempt"] == 1
    assert error["details"]["status"] == 400
    assert json.loads(error["details"]["body"]) == {"status": 400}
    assert "  status: 400" in result.stderr
    assert '  body: {"status": 400}' in result.stderr
