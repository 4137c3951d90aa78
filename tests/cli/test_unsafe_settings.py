"""A distributed hub refuses unsafe settings at startup, with one line naming each variable."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from wirehub.cli.main import cli
from wirehub.settings import Settings

DISTRIBUTED = {"WIREHUB_REDIS_URL": "redis://127.0.0.1:6379/0"}


def test_embedded_settings_are_never_unsafe() -> None:
    assert Settings.from_env({}).unsafe() == []


def test_a_distributed_hub_on_sqlite_without_a_secret_has_two_reasons() -> None:
    reasons = Settings.from_env({**DISTRIBUTED, "WIREHUB_DATABASE_URL": "sqlite+aiosqlite:///x.db"}).unsafe()
    assert [reason.split(":")[0] for reason in reasons] == ["WIREHUB_DATABASE_URL", "WIREHUB_SECRET_KEY"]


def test_a_short_secret_is_unsafe_and_a_long_one_on_postgresql_is_not() -> None:
    base = {**DISTRIBUTED, "WIREHUB_DATABASE_URL": "postgresql+asyncpg://hub@db/hub"}
    assert Settings.from_env({**base, "WIREHUB_SECRET_KEY": "short"}).unsafe()[0].startswith("WIREHUB_SECRET_KEY")
    assert Settings.from_env({**base, "WIREHUB_SECRET_KEY": "k" * 40}).unsafe() == []


@pytest.mark.parametrize("command", [["serve"], ["worker"]])
def test_serve_and_worker_stop_with_exit_2_on_a_shared_sqlite_file(
    command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIREHUB_REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("WIREHUB_DATABASE_URL", "sqlite+aiosqlite:///shared.db")
    monkeypatch.setenv("WIREHUB_SECRET_KEY", "k" * 40)
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 2
    assert "wirehub: error: unsafe settings: WIREHUB_DATABASE_URL" in result.output
