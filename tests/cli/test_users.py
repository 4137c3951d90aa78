"""``wirehub users create-admin`` makes an admin who can log in; ``wirehub serve`` says how while there is none."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner
from litestar.testing import AsyncTestClient

from wirehub.api import create_app
from wirehub.api.app import FIRST_ADMIN_HINT
from wirehub.cli.main import cli
from wirehub.settings import Settings

PASSWORD = "a password long enough"
SECRET = "a-test-signing-key-that-is-long-enough-0123456789"


async def _log_in(database_url: str, username: str, password: str) -> tuple[int, int]:
    app = create_app(Settings(database_url=database_url, secret_key=SECRET))
    async with AsyncTestClient(app=app) as client:
        login = await client.post("/api/v1/auth/token", json={"username": username, "password": password})
        if login.status_code != 200:
            return login.status_code, 0
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        return login.status_code, (await client.get("/api/v1/users", headers=headers)).status_code


def test_the_first_admin_made_by_the_command_logs_in_and_manages_users(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    env = {"WIREHUB_DATABASE_URL": database_url}
    made = CliRunner().invoke(
        cli, ["users", "create-admin", "root", "--password-stdin"], input=PASSWORD + "\n", env=env
    )
    assert made.exit_code == 0, made.output
    assert PASSWORD not in made.output
    assert asyncio.run(_log_in(database_url, "root", PASSWORD)) == (200, 200)
    assert asyncio.run(_log_in(database_url, "root", "not the password"))[0] == 401

    again = CliRunner().invoke(
        cli, ["users", "create-admin", "root", "--password-stdin"], input=PASSWORD + "\n", env=env
    )
    assert again.exit_code == 2
    assert "exists already" in again.output
    short = CliRunner().invoke(cli, ["users", "create-admin", "other", "--password-stdin"], input="short\n", env=env)
    assert short.exit_code == 2
    assert "12 characters" in short.output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_serve_prints_how_to_create_the_first_admin_while_there_is_none(tmp_path: Path) -> None:
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("WIREHUB_")},
        "WIREHUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
    }
    command = [sys.executable, "-c", "from wirehub.cli.main import main; main()", "serve", "--port", str(_free_port())]
    lines: list[str] = []
    with subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stderr is not None
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                line = process.stderr.readline()
                if not line:
                    break
                lines.append(line)
                if line.startswith(f"wirehub: {FIRST_ADMIN_HINT}"):
                    break
        finally:
            process.terminate()
            process.communicate(timeout=30)
    assert any(line.startswith(f"wirehub: {FIRST_ADMIN_HINT}") for line in lines), lines
    assert "wirehub users create-admin NAME" in FIRST_ADMIN_HINT
