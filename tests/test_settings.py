"""Settings parse from the environment, and every one is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from wirehub.settings import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs" / "operations.md"


def test_every_setting_is_documented_in_operations() -> None:
    text = DOCS.read_text()
    missing = [name for name in Settings.variable_names() if f"`{name}`" not in text]
    assert not missing


def test_settings_read_lists_numbers_and_paths() -> None:
    settings = Settings.from_env(
        {
            "WIREHUB_PLUGINS_DENY": "bad, worse",
            "WIREHUB_EGRESS_ALLOW_NETWORKS": "10.0.0.0/8",
            "WIREHUB_EGRESS_MAX_RESPONSE_BYTES": "2048",
            "WIREHUB_CREDENTIALS_FILE": "/tmp/creds.json",
        }
    )
    assert settings.plugins_deny == ("bad", "worse")
    assert settings.egress_policy.allow_networks == ("10.0.0.0/8",)
    assert settings.egress_policy.max_response_bytes == 2048
    assert settings.credentials_file == Path("/tmp/creds.json")
    assert Settings.from_env({}) == Settings()


def test_a_setting_that_does_not_parse_names_its_variable() -> None:
    with pytest.raises(ValueError, match="WIREHUB_EGRESS_MAX_RESPONSE_BYTES"):
        Settings.from_env({"WIREHUB_EGRESS_MAX_RESPONSE_BYTES": "lots"})
