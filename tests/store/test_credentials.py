"""Stored credentials: sealed with AES-256-GCM, bound to their row, rotated to a new key."""

from __future__ import annotations

import base64
import stat
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from wirehub.settings import Settings, SettingsError
from wirehub.store import (
    DEFAULT_WORKSPACE_ID,
    Credential,
    CredentialExistsError,
    CredentialKeyring,
    CredentialRows,
    CredentialSealError,
    Workspace,
    credential_keyring,
    rotate_credentials,
    seed_access,
    session_factory,
)
from wirehub.store.credential_keys import new_key_entry

OLD = new_key_entry("old")
NEW = new_key_entry("new")
TOKEN = "tok-3f9a1c0e2b7d"


async def _add(
    engine: AsyncEngine, keyring: CredentialKeyring, name: str, workspace_id: UUID = DEFAULT_WORKSPACE_ID
) -> UUID:
    async with session_factory(engine, writes=True).begin() as session:
        row = await CredentialRows(session, keyring).add(
            workspace_id,
            name,
            "core.header",
            {"header": "X-Key", "value": TOKEN},
            secret_fields={"value"},
            allowed_hosts=["api.example.com"],
        )
        return row.id


async def _fields(engine: AsyncEngine, keyring: CredentialKeyring, credential_id: UUID) -> dict[str, object]:
    async with session_factory(engine)() as session:
        row = await session.get(Credential, credential_id)
        assert row is not None
        return CredentialRows(session, keyring).fields_of(row)


@pytest.fixture
async def seeded(migrated: AsyncEngine) -> AsyncEngine:
    async with session_factory(migrated, writes=True).begin() as session:
        await seed_access(session)
    return migrated


async def test_secret_fields_are_stored_encrypted_and_the_rest_in_clear(seeded: AsyncEngine) -> None:
    keyring = CredentialKeyring.parse([OLD])
    credential_id = await _add(seeded, keyring, "acme")
    async with seeded.connect() as connection:
        row = (await connection.execute(text("SELECT * FROM credentials"))).mappings().one()
    stored = " ".join(str(value) for value in row.values())
    assert TOKEN not in stored
    assert TOKEN.encode() not in bytes(row["ciphertext"])
    assert len(bytes(row["nonce"])) == 12
    assert row["key_id"] == "old"
    assert await _fields(seeded, keyring, credential_id) == {"header": "X-Key", "value": TOKEN}


async def test_every_write_takes_a_fresh_nonce(seeded: AsyncEngine) -> None:
    keyring = CredentialKeyring.parse([OLD])
    first, second = await _add(seeded, keyring, "a"), await _add(seeded, keyring, "b")
    async with session_factory(seeded)() as session:
        nonces = {bytes(row.nonce) for row in (await session.scalars(select(Credential))).all()}
    assert len(nonces) == 2, (first, second)


async def test_a_ciphertext_copied_into_another_row_does_not_decrypt(seeded: AsyncEngine) -> None:
    keyring = CredentialKeyring.parse([OLD])
    source, target = await _add(seeded, keyring, "source"), await _add(seeded, keyring, "target")
    async with session_factory(seeded, writes=True).begin() as session:
        copied = await session.get(Credential, source)
        victim = await session.get(Credential, target)
        assert copied is not None
        assert victim is not None
        victim.ciphertext, victim.nonce = copied.ciphertext, copied.nonce
    with pytest.raises(CredentialSealError, match="not this row's ciphertext") as refused:
        await _fields(seeded, keyring, target)
    assert TOKEN not in str(refused.value)
    assert (await _fields(seeded, keyring, source))["value"] == TOKEN, "the original still opens"


async def test_a_row_renamed_or_moved_without_sealing_again_does_not_decrypt(seeded: AsyncEngine) -> None:
    keyring = CredentialKeyring.parse([OLD])
    renamed, moved = await _add(seeded, keyring, "renamed"), await _add(seeded, keyring, "moved")
    async with session_factory(seeded, writes=True).begin() as session:
        other = Workspace(name="other")
        session.add(other)
        await session.flush()
        first, second = await session.get(Credential, renamed), await session.get(Credential, moved)
        assert first is not None
        assert second is not None
        first.name = "something-else"
        second.workspace_id = other.id
    for credential_id in (renamed, moved):
        with pytest.raises(CredentialSealError):
            await _fields(seeded, keyring, credential_id)


async def test_a_name_is_unique_in_its_workspace_only(seeded: AsyncEngine) -> None:
    keyring = CredentialKeyring.parse([OLD])
    await _add(seeded, keyring, "acme")
    with pytest.raises(CredentialExistsError):
        await _add(seeded, keyring, "acme")
    async with session_factory(seeded, writes=True).begin() as session:
        other = Workspace(name="other")
        session.add(other)
    await _add(seeded, keyring, "acme", other.id)


async def test_rotation_seals_every_row_under_the_first_key_and_the_old_key_can_then_go(seeded: AsyncEngine) -> None:
    old_only = CredentialKeyring.parse([OLD])
    ids = [await _add(seeded, old_only, f"c{number}") for number in range(5)]
    both = CredentialKeyring.parse([NEW, OLD])  # step 1: the new key first, the old one still decrypts
    assert (await _fields(seeded, both, ids[0]))["value"] == TOKEN
    assert await rotate_credentials(session_factory(seeded, writes=True), both, batch=2) == 5
    assert await rotate_credentials(session_factory(seeded, writes=True), both) == 0, "nothing left to rotate"
    async with session_factory(seeded)() as session:
        assert {row.key_id for row in (await session.scalars(select(Credential))).all()} == {"new"}
    new_only = CredentialKeyring.parse([NEW])  # step 3: the old key removed
    for credential_id in ids:
        assert (await _fields(seeded, new_only, credential_id))["value"] == TOKEN
    with pytest.raises(CredentialSealError, match="key 'new', which is not configured"):
        await _fields(seeded, old_only, ids[0])


async def test_rotation_stops_on_a_row_whose_key_is_not_configured(seeded: AsyncEngine) -> None:
    await _add(seeded, CredentialKeyring.parse([OLD]), "acme")
    with pytest.raises(CredentialSealError, match="key 'old'"):
        await rotate_credentials(session_factory(seeded, writes=True), CredentialKeyring.parse([NEW]))


def test_keys_are_read_first_encrypts_and_a_bad_entry_is_named_without_its_key() -> None:
    keyring = CredentialKeyring.parse([NEW, OLD])
    assert keyring.primary == "new"
    assert set(keyring.keys) == {"new", "old"}
    short = "k1:" + base64.b64encode(b"sixteen byte key").decode()
    for entries, message in [
        (["nocolon"], "entry 1 must be id:base64key"),
        (["k1:%%%"], "the key of 'k1' is not base64"),
        ([short], "must be 32 bytes"),
        ([OLD, OLD], "appears twice"),
    ]:
        with pytest.raises(SettingsError, match=message) as refused:
            CredentialKeyring.parse(entries)
        assert "c2l4dGVlbi" not in str(refused.value)
        assert OLD.split(":")[1] not in str(refused.value)


def test_the_embedded_hub_generates_a_key_file_of_mode_600_once(tmp_path: Path) -> None:
    key_file = tmp_path / ".wirehub" / "credential.key"
    first = credential_keyring(Settings(), embedded_file=key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = credential_keyring(Settings(), embedded_file=key_file)
    assert again == first
    assert len(first.keys[first.primary]) == 32


def test_the_distributed_hub_without_keys_refuses_to_start(tmp_path: Path) -> None:
    key_file = tmp_path / "credential.key"
    with pytest.raises(SettingsError, match="WIREHUB_CREDENTIAL_KEYS: required when WIREHUB_REDIS_URL is set"):
        credential_keyring(Settings(redis_url="redis://127.0.0.1:6379/0"), embedded_file=key_file)
    assert not key_file.exists()
    configured = credential_keyring(Settings(redis_url="redis://127.0.0.1:6379/0", credential_keys=(NEW,)))
    assert configured.primary == "new"
