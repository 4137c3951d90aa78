"""Structured logs: JSON lines that name the attempt or the request they come from, readable lines in a terminal."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar, get
from litestar.exceptions import HTTPException
from litestar.testing import TestClient

from tests.support.local_http import LocalServer
from wirehub.api.correlation import CorrelationMiddleware
from wirehub.cli.logs import LogFormatter, level_for, wants_json

TOKEN = "TOKEN-5a105e8b9d40"


def _wirehub(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from wirehub.cli.main import main; main()", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env={**os.environ, **env}, check=False)


def _workflow(tmp_path: Path, server: LocalServer) -> dict[str, str]:
    definition = {
        "name": "logged",
        "steps": [
            {"id": "fetch", "type": "core.http", "credential": "api", "config": {"url": server.url("/status/200")}},
        ],
    }
    credentials = {"api": {"type": "core.bearer", "fields": {"token": TOKEN}}}
    (tmp_path / "wf.json").write_text(json.dumps(definition))
    (tmp_path / "creds.json").write_text(json.dumps(credentials))
    return {"WIREHUB_EGRESS_ALLOW_NETWORKS": "127.0.0.0/8", "WIREHUB_CREDENTIALS_FILE": str(tmp_path / "creds.json")}


def test_json_lines_from_a_step_carry_the_execution_step_and_attempt(tmp_path: Path, server: LocalServer) -> None:
    env = {**_workflow(tmp_path, server), "WIREHUB_LOG_FORMAT": "json", "WIREHUB_LOG_LEVEL": "info"}
    result = _wirehub("run", str(tmp_path / "wf.json"), "--quiet", env=env)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert lines, result.stderr
    for line in lines:
        assert {"event", "level", "logger", "timestamp"} <= set(line)
    from_step = [line for line in lines if "step_id" in line]
    # The node's own line (through ctx.logger) and httpx's, logged on the node's thread: both name the attempt.
    assert {line["logger"] for line in from_step} >= {"wirehub.runtime", "httpx"}
    for line in from_step:
        assert line["step_id"] == "fetch"
        assert line["attempt"] == 1
        assert len(line["execution_id"]) >= 32
    assert len({line["execution_id"] for line in from_step}) == 1
    assert TOKEN not in result.stderr


def test_console_lines_are_readable_text_with_the_attempt_as_key_values(tmp_path: Path, server: LocalServer) -> None:
    env = {**_workflow(tmp_path, server), "WIREHUB_LOG_FORMAT": "console"}
    result = _wirehub("-v", "run", str(tmp_path / "wf.json"), "--quiet", env=env)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "step_id=fetch" in line]
    assert lines, result.stderr
    assert not [line for line in result.stderr.splitlines() if line.startswith("{")]
    node_line = next(line for line in lines if "/status/200 -> 200" in line)
    assert "[info" in node_line
    assert "attempt=1" in node_line
    assert "execution_id=" in node_line
    assert "\x1b[" not in result.stderr  # not a terminal: no colours
    assert TOKEN not in result.stderr


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(LogFormatter(json=True))
    logger = logging.getLogger("wirehub.api.test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def test_api_lines_carry_the_requests_correlation_id(captured: io.StringIO) -> None:
    @get("/hello", sync_to_thread=False)
    def hello() -> dict[str, Any]:
        logging.getLogger("wirehub.api.test").info("said hello")
        return {}

    app = Litestar(route_handlers=[hello], middleware=[CorrelationMiddleware])
    with TestClient(app) as client:
        given = client.get("/hello", headers={"X-Request-ID": "req-42"})
        generated = client.get("/hello")
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    assert [line["correlation_id"] for line in lines] == ["req-42", generated.headers["x-correlation-id"]]
    assert given.headers["x-correlation-id"] == "req-42"
    logging.getLogger("wirehub.api.test").info("outside a request")
    assert "correlation_id" not in json.loads(captured.getvalue().splitlines()[-1])


def test_a_traceback_is_kept_and_its_secrets_hidden() -> None:
    formatter = LogFormatter(json=True, secrets=[TOKEN])
    try:
        raise RuntimeError(f"the API answered {TOKEN}")
    except RuntimeError:
        record = logging.LogRecord("wirehub.api", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    line = json.loads(formatter.format(record))
    assert "RuntimeError: the API answered ***" in line["exception"]
    assert TOKEN not in json.dumps(line)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_means_readable_text_in_a_terminal_and_json_elsewhere() -> None:
    assert wants_json("auto", io.StringIO()) is True
    assert wants_json("auto", _Terminal()) is False
    assert wants_json("json", _Terminal()) is True
    assert wants_json("console", io.StringIO()) is False


def test_the_level_is_the_setting_lowered_by_verbose_flags() -> None:
    assert level_for(0) == logging.WARNING
    assert level_for(0, "error") == logging.ERROR
    assert level_for(1, "error") == logging.INFO
    assert level_for(2, "info") == logging.DEBUG
    assert level_for(0, "debug") == logging.DEBUG
    assert level_for(1, "debug") == logging.DEBUG


def test_each_request_has_an_access_line_with_its_correlation_id_and_no_query() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(LogFormatter(json=True))
    logger = logging.getLogger("wirehub.api.access")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    @get("/hello", sync_to_thread=False)
    def hello() -> dict[str, Any]:
        return {}

    @get("/taken", sync_to_thread=False)
    def taken() -> None:
        raise HTTPException(status_code=409, detail="taken")

    try:
        app = Litestar(route_handlers=[hello, taken], middleware=[CorrelationMiddleware])
        with TestClient(app) as client:
            client.get("/hello?ticket=secret-ticket", headers={"X-Request-ID": "req-7"})
            client.get("/taken")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["correlation_id"] == "req-7"
    assert lines[0]["event"].startswith("GET /hello 200 ")
    assert lines[1]["event"].startswith("GET /taken 409 ")
    assert "secret-ticket" not in stream.getvalue()


def test_wirehub_serve_keeps_the_hubs_log_lines_access_lines_included_without_a_query(tmp_path: Path) -> None:
    """Litestar's default logging would take the root logger over at startup (its format, no redaction)."""
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "WIREHUB_LOG_FORMAT": "json", "WIREHUB_LOG_LEVEL": "info"}
    env = {key: value for key, value in env.items() if key not in ("WIREHUB_DATABASE_URL", "WIREHUB_REDIS_URL")}
    command = [sys.executable, "-c", "from wirehub.cli.main import main; main()", "serve", "--port", str(port)]
    server = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live?ticket={TOKEN}", timeout=2):
                    break
            except OSError:
                assert server.poll() is None, "wirehub serve exited"
                assert time.monotonic() < deadline, "wirehub serve did not answer"
                time.sleep(0.2)
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "wirehub.api.access"]
    assert access, stderr
    assert all(line["event"].startswith("GET /health/live 200 ") for line in access)
    assert TOKEN not in stderr
    assert not [line for line in stderr.splitlines() if line.startswith("INFO - ")]  # no Litestar-format line
