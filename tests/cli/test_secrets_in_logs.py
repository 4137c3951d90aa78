"""`wirehub run -v` logs requests, and never a secret: query values, userinfo and credentials are redacted."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from tests.support.local_http import LocalServer
from wirehub.cli.logs import LogFormatter, redact, redact_url

SECRET = "SECRET-d41d8cd98f"
TOKEN = "TOKEN-9e107d9d372"


def _wirehub(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from wirehub.cli.main import main; main()", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env={**os.environ, **env}, check=False)


def test_verbose_run_logs_requests_without_query_secrets_or_credentials(tmp_path: Path, server: LocalServer) -> None:
    url = server.url(f"/content?type=text/plain&body=ok&api_key={SECRET}").replace("http://", f"http://me:{SECRET}@")
    definition = {
        "name": "secrets",
        "steps": [
            {"id": "plain", "type": "core.http", "credential": "bearer", "config": {"url": url}},
            {
                "id": "keyed",
                "type": "core.http",
                "needs": ["plain"],
                "input": "`{}`",  # not plain's response: its url would replace this step's
                "credential": "query",
                "config": {"url": server.url("/status/404")},
            },
        ],
        "output": "plain.status",
    }
    credentials = {
        "bearer": {"type": "core.bearer", "fields": {"token": TOKEN}},
        "query": {"type": "core.query", "fields": {"param": "key", "value": SECRET}},
    }
    (tmp_path / "wf.json").write_text(json.dumps(definition))
    (tmp_path / "creds.json").write_text(json.dumps(credentials))
    env = {"WIREHUB_EGRESS_ALLOW_NETWORKS": "127.0.0.0/8", "WIREHUB_CREDENTIALS_FILE": str(tmp_path / "creds.json")}

    for verbosity in ("-v", "-vv"):
        result = _wirehub(verbosity, "run", str(tmp_path / "wf.json"), env=env)
        assert result.returncode == 1, result.stderr  # the 404 fails the second step
        assert "HTTP Request: GET http://127.0.0.1" in result.stderr  # httpx's own line is there, redacted
        assert "/content -> 200" in result.stderr  # the node's own line, without its query
        for secret in (SECRET, TOKEN):
            assert secret not in result.stderr
            assert secret not in result.stdout
    keyed = [request.query.get("key") for request in server.requests if request.path == "/status/404"]
    assert keyed == [[SECRET], [SECRET]]  # the secret was sent, once per run


def test_urls_lose_userinfo_and_query_values_but_keep_parameter_names() -> None:
    assert redact_url("https://u:p@api.example/v1/x?api_key=s&page=2#frag") == (
        "https://***@api.example/v1/x?api_key=***&page=***#***"
    )
    assert redact_url("http://api.example/v1") == "http://api.example/v1"
    assert redact('GET "https://h/x?token=abc" -> 200', ()) == 'GET "https://h/x?token=***" -> 200'
    assert redact("the token is hunter22", ["hunter22"]) == "the token is ***"


def test_log_lines_escape_control_characters_from_messages() -> None:
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "bad \x1b]0;pwned\x07 step\rover", None, None)
    line = LogFormatter(json=False).format(record)
    assert "bad \\x1b]0;pwned\\x07 step\\x0dover" in line
    assert "\x1b" not in line
    assert "\r" not in line


def test_request_paths_lose_their_query_values() -> None:
    line = '127.0.0.1:5000 - "GET /api/v1/live?ticket=tk-secret&x=1 HTTP/1.1" 101'
    assert redact(line) == '127.0.0.1:5000 - "GET /api/v1/live?ticket=***&x=*** HTTP/1.1" 101'
    assert redact("no query in /api/v1/workflows here") == "no query in /api/v1/workflows here"
