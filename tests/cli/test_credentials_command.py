"""`wirehub credentials rotate` and `new-key`; a distributed hub without its credential keys does not start."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from wirehub.api import create_app
from wirehub.cli.main import cli
from wirehub.settings import Settings, SettingsError
from wirehub.store import (
    DEFAULT_WORKSPACE_ID,
    Credential,
    CredentialKeyring,
    CredentialRows,
    database_engine,
    seed_access,
    session_factory,
    upgrade_database,
)
from wirehub.store.credential_keys import new_key_entry
from wirehub.worker import serve

OLD = new_key_entry("old")
NEW = new_key_entry("new")
TOKEN = "rotate-me-0f3e9b"
REDIS = "redis://127.0.0.1:6379/15"


async def _seed(url: str) -> None:
    engine = database_engine(url)
    try:
        await upgrade_database(engine)
        async with session_factory(engine, writes=True).begin() as session:
            await seed_access(session)
            await CredentialRows(session, CredentialKeyring.parse([OLD])).add(
                DEFAULT_WORKSPACE_ID,
                "acme",
                "core.bearer",
                {"token": TOKEN},
                secret_fields={"token"},
                allowed_hosts=["a.example"],
            )
    finally:
        await engine.dispose()


async def _opened(url: str, keys: list[str]) -> tuple[str, str]:
    engine = database_engine(url)
    try:
        async with session_factory(engine)() as session:
            row = (await session.scalars(select(Credential))).one()
            return row.key_id, CredentialRows(session, CredentialKeyring.parse(keys)).fields_of(row)["token"]
    finally:
        await engine.dispose()


def test_rotate_encrypts_again_under_the_first_key(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    asyncio.run(_seed(url))
    result = CliRunner().invoke(
        cli, ["credentials", "rotate"], env={"WIREHUB_DATABASE_URL": url, "WIREHUB_CREDENTIAL_KEYS": f"{NEW},{OLD}"}
    )
    assert result.exit_code == 0, result.output
    assert "re-encrypted 1 credential(s)" in result.stderr
    assert asyncio.run(_opened(url, [NEW])) == ("new", TOKEN), "the old key is no longer needed"


def test_rotate_without_the_old_key_says_which_key_is_missing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    asyncio.run(_seed(url))
    result = CliRunner().invoke(
        cli, ["credentials", "rotate"], env={"WIREHUB_DATABASE_URL": url, "WIREHUB_CREDENTIAL_KEYS": NEW}
    )
    assert result.exit_code == 2
    assert "key 'old', which is not configured" in result.stderr
    assert NEW.split(":")[1] not in result.stderr


def test_new_key_prints_an_entry_the_setting_accepts() -> None:
    result = CliRunner().invoke(cli, ["credentials", "new-key", "k2"])
    assert result.exit_code == 0
    keyring = CredentialKeyring.parse([result.stdout.strip()])
    assert keyring.primary == "k2"
    assert len(keyring.keys["k2"]) == 32
    assert CliRunner().invoke(cli, ["credentials", "new-key", "no spaces"]).exit_code == 2


def test_a_distributed_api_or_worker_without_credential_keys_refuses_to_start(tmp_path: Path) -> None:
    settings = Settings(redis_url=REDIS, secret_key="x" * 40, database_url="postgresql+asyncpg://hub@127.0.0.1:1/hub")
    with pytest.raises(SettingsError, match="WIREHUB_CREDENTIAL_KEYS: required when WIREHUB_REDIS_URL is set"):
        create_app(settings)
    with pytest.raises(SettingsError, match="WIREHUB_CREDENTIAL_KEYS"):
        asyncio.run(serve(settings))
    result = CliRunner().invoke(
        cli, ["worker"], env={"WIREHUB_REDIS_URL": REDIS, "WIREHUB_DATABASE_URL": settings.database_url}
    )
    assert result.exit_code == 2
    assert "WIREHUB_CREDENTIAL_KEYS: required" in result.stderr
