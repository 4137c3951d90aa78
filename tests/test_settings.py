"""Settings parse from the environment by their declared types, and every one is documented."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from wirehub.settings import Settings, SettingsError, variable_name
from wirehub.settings_reference import COMMAND, render

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_the_settings_reference_is_the_one_the_code_generates() -> None:
    assert (DOCS / "settings.md").read_text() == render(), f"run: uv run {COMMAND}"


def test_the_reference_lists_every_setting_with_its_type_default_and_description() -> None:
    text = render()
    for field in msgspec.structs.fields(Settings):
        row = next(line for line in text.splitlines() if line.startswith(f"| `{variable_name(field.name)}` |"))
        variable, kind, default, description = (cell.strip() for cell in row.strip("|").split(" | "))
        assert all((kind, default, description)), variable
    assert "| `WIREHUB_WORKER_CONCURRENCY` | integer (>= 1, <= 10000) | `16` |" in text
    assert "| `WIREHUB_LOG_FORMAT` | one of `auto`, `json`, `console` | `auto` |" in text
    assert "| `WIREHUB_REDIS_URL` | text, optional | (unset) |" in text


def test_operations_and_the_readme_link_the_reference() -> None:
    assert "(settings.md)" in (DOCS / "operations.md").read_text()
    assert "(docs/settings.md)" in (DOCS.parent / "README.md").read_text()


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


def test_a_choice_ignores_case() -> None:
    settings = Settings.from_env({"WIREHUB_LOG_FORMAT": "JSON", "WIREHUB_LOG_LEVEL": " Info "})
    assert (settings.log_format, settings.log_level) == ("json", "info")
    with pytest.raises(SettingsError, match="WIREHUB_LOG_FORMAT"):
        Settings.from_env({"WIREHUB_LOG_FORMAT": "xml"})
