"""Settings parse from the environment by their declared types, and every one is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from wirehub.settings import Settings, SettingsError

DOCS = Path(__file__).resolve().parents[1] / "docs" / "operations.md"


def test_every_setting_is_documented_in_operations() -> None:
    text = DOCS.read_text()
    missing = [name for name in Settings.variable_names() if f"| `{name}` |" not in text]
    assert not missing


def test_every_setting_describes_itself() -> None:
    descriptions = Settings.descriptions()
    assert list(descriptions) == Settings.variable_names()
    assert all(descriptions.values())


def test_settings_read_lists_numbers_and_paths() -> None:
    settings = Settings.from_env(
        {
            "WIREHUB_PLUGINS_DENY": "bad, worse",
            "WIREHUB_EGRESS_ALLOW_NETWORKS": "10.0.0.0/8, fd00::/8",
            "WIREHUB_EGRESS_MAX_RESPONSE_BYTES": " 2048 ",
            "WIREHUB_CREDENTIALS_FILE": "/tmp/creds.json",
            "WIREHUB_PLUGINS_ALLOW": "",
        }
    )
    assert settings.plugins_deny == ("bad", "worse")
    assert settings.plugins_allow == ()
    assert settings.egress_policy.allow_networks == ("10.0.0.0/8", "fd00::/8")
    assert settings.egress_policy.max_response_bytes == 2048
    assert settings.credentials_file == Path("/tmp/creds.json")
    assert Settings.from_env({}) == Settings()


def test_a_list_of_one_is_still_a_list() -> None:
    assert Settings.from_env({"WIREHUB_EGRESS_ALLOW_HOSTS": "api.internal"}).egress_allow_hosts == ("api.internal",)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("WIREHUB_EGRESS_MAX_RESPONSE_BYTES", "lots", "WIREHUB_EGRESS_MAX_RESPONSE_BYTES: expected an integer"),
        ("WIREHUB_EGRESS_MAX_RESPONSE_BYTES", "1.5", "WIREHUB_EGRESS_MAX_RESPONSE_BYTES: expected an integer"),
        ("WIREHUB_EGRESS_MAX_RESPONSE_BYTES", "0", "WIREHUB_EGRESS_MAX_RESPONSE_BYTES: expected `int` >= 1"),
        ("WIREHUB_EGRESS_ALLOW_NETWORKS", "10.0.0.0/8,not-a-cidr", "'not-a-cidr' is not a CIDR network"),
        ("WIREHUB_EGRESS_ALLOW_NETWORKS", "10.0.0.0/33", "'10.0.0.0/33' is not a CIDR network"),
    ],
)
def test_a_setting_that_does_not_parse_names_its_variable(variable: str, value: str, expected: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({variable: value})
    assert str(caught.value).startswith(variable)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)
