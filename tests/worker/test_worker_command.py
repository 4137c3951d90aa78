"""``wirehub worker`` refuses to start without Redis, with one clear line."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from wirehub.cli.main import cli


def test_wirehub_worker_without_redis_exits_2_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WIREHUB_REDIS_URL", raising=False)
    result = CliRunner().invoke(cli, ["worker"])
    assert result.exit_code == 2
    assert "wirehub: error: WIREHUB_REDIS_URL is not set" in result.output


def test_wirehub_worker_with_a_bad_lease_setting_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIREHUB_LEASE_SECONDS", "soon")
    result = CliRunner().invoke(cli, ["worker"])
    assert result.exit_code == 2
    assert "WIREHUB_LEASE_SECONDS" in result.output


def test_the_worker_settings_parse_from_the_environment() -> None:
    from wirehub.settings import Settings

    settings = Settings.from_env(
        {
            "WIREHUB_REDIS_URL": "redis://127.0.0.1:6379/0",
            "WIREHUB_WORKER_CONCURRENCY": "4",
            "WIREHUB_LEASE_SECONDS": "2.5",
            "WIREHUB_SWEEP_INTERVAL_SECONDS": "0.2",
            "WIREHUB_SHUTDOWN_GRACE_SECONDS": "0",
        }
    )
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert (settings.worker_concurrency, settings.lease_seconds) == (4, 2.5)
    assert (settings.sweep_interval_seconds, settings.shutdown_grace_seconds) == (0.2, 0.0)
    assert Settings.from_env({}).redis_url is None
