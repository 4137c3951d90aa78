"""Credentials as rows: secret fields sealed with AES-256-GCM, bound to their row; lookups, rotation.

Each write seals the secret fields (a JSON object) under the keyring's primary key
with a fresh random 96-bit nonce. The associated data names the row (credential
id, workspace id, name) and the key id, so a ciphertext copied into another row,
or a row renamed or moved without sealing again, does not decrypt.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from uuid_utils.compat import uuid7

from wirehub.store.credential_keys import CredentialKeyring
from wirehub.store.errors import StoreError
from wirehub.store.models import Credential, Execution, Workflow

NONCE_BYTES = 12
_AAD_LABEL = "wirehub.credential.v1"


class CredentialSealError(StoreError):
    """A credential's secrets cannot be opened: its key is not configured, or the ciphertext is not this row's."""


class CredentialExistsError(StoreError):
    """The workspace has a credential of that name already."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"a credential named {name!r} exists already in this workspace")


def associated_data(credential_id: UUID, workspace_id: UUID, name: str, key_id: str) -> bytes:
    """What binds a ciphertext to its row and key: authenticated, not encrypted."""
    return msgspec.json.encode([_AAD_LABEL, str(credential_id), str(workspace_id), name, key_id])


def seal(keyring: CredentialKeyring, row: Credential, secrets: Mapping[str, Any]) -> None:
    """Encrypts ``secrets`` into ``row`` under the primary key (its id, workspace and name must be set)."""
    nonce = os.urandom(NONCE_BYTES)
    key_id = keyring.primary
    aad = associated_data(row.id, row.workspace_id, row.name, key_id)
    row.ciphertext = AESGCM(keyring.keys[key_id]).encrypt(nonce, msgspec.json.encode(dict(secrets)), aad)
    row.nonce = nonce
    row.key_id = key_id
    row.secret_names = sorted(secrets)


def unseal(keyring: CredentialKeyring, row: Credential) -> dict[str, Any]:
    """The secret fields of ``row``.

    Raises:
        CredentialSealError: Its key is not in the keyring, or the ciphertext fails authentication
            (tampered, or copied from another row). The message names the credential, never a value.
    """
    key = keyring.key(row.key_id)
    if key is None:
        raise CredentialSealError(f"credential {row.name!r} is sealed with key {row.key_id!r}, which is not configured")
    aad = associated_data(row.id, row.workspace_id, row.name, row.key_id)
    try:
        plain = AESGCM(key).decrypt(row.nonce, row.ciphertext, aad)
    except InvalidTag as exc:
        raise CredentialSealError(f"credential {row.name!r} does not decrypt: it is not this row's ciphertext") from exc
    secrets: dict[str, Any] = msgspec.json.decode(plain)
    return secrets


def split_fields(fields: Mapping[str, Any], secret_fields: Collection[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(clear, secret)``: the fields that are not secret, and those that are."""
    clear = {name: value for name, value in fields.items() if name not in secret_fields}
    secret = {name: value for name, value in fields.items() if name in secret_fields}
    return clear, secret


class CredentialRows:
    """A workspace's credentials in the caller's session and transaction (nothing is committed here).

    Args:
        session: The session to read and write through.
        keyring: The keys secrets are sealed and opened with.
    """

    def __init__(self, session: AsyncSession, keyring: CredentialKeyring) -> None:
        self.session = session
        self.keyring = keyring

    async def named(self, workspace_id: UUID, name: str) -> Credential | None:
        """The workspace's credential called ``name``, if any."""
        found: Credential | None = await self.session.scalar(
            select(Credential).where(Credential.workspace_id == workspace_id, Credential.name == name)
        )
        return found

    async def get(self, workspace_id: UUID, credential_id: UUID) -> Credential | None:
        """The credential, if it belongs to the workspace."""
        row = await self.session.get(Credential, credential_id)
        return row if row is not None and row.workspace_id == workspace_id else None

    async def page(self, workspace_id: UUID, *, limit: int, after: str | None = None) -> list[Credential]:
        """Up to ``limit`` of the workspace's credentials by name, those named after ``after``."""
        query = select(Credential).where(Credential.workspace_id == workspace_id)
        if after is not None:
            query = query.where(Credential.name > after)
        return list((await self.session.scalars(query.order_by(Credential.name).limit(limit))).all())

    async def names(self, workspace_id: UUID, names: Collection[str]) -> dict[str, str]:
        """Of ``names``, those the workspace has, with their types."""
        if not names:
            return {}
        query = select(Credential.name, Credential.type).where(
            Credential.workspace_id == workspace_id, Credential.name.in_(list(names))
        )
        return {str(name): str(kind) for name, kind in (await self.session.execute(query)).all()}

    async def add(
        self,
        workspace_id: UUID,
        name: str,
        type: str,
        fields: Mapping[str, Any],
        *,
        secret_fields: Collection[str],
        allowed_hosts: list[str],
    ) -> Credential:
        """Stores a new credential, its secret fields sealed.

        Raises:
            CredentialExistsError: The name is taken in the workspace.
        """
        if await self.named(workspace_id, name) is not None:
            raise CredentialExistsError(name)
        clear, secret = split_fields(fields, secret_fields)
        row = Credential(
            id=uuid7(), workspace_id=workspace_id, name=name, type=type, fields=clear, allowed_hosts=allowed_hosts
        )
        seal(self.keyring, row, secret)
        self.session.add(row)
        await self.session.flush()
        return row

    async def replace(
        self,
        row: Credential,
        *,
        name: str,
        fields: Mapping[str, Any],
        secret_fields: Collection[str],
        allowed_hosts: list[str],
    ) -> Credential:
        """Gives ``row`` a new name, fields (secrets included) and hosts, sealed again under the primary key.

        Raises:
            CredentialExistsError: Another credential of the workspace has ``name``.
        """
        if name != row.name and await self.named(row.workspace_id, name) is not None:
            raise CredentialExistsError(name)
        clear, secret = split_fields(fields, secret_fields)
        row.name = name
        row.fields = clear
        row.allowed_hosts = list(allowed_hosts)
        seal(self.keyring, row, secret)
        await self.session.flush()
        return row

    def fields_of(self, row: Credential) -> dict[str, Any]:
        """Every field of ``row``, secrets opened.

        Raises:
            CredentialSealError: The secrets cannot be opened.
        """
        return {**row.fields, **unseal(self.keyring, row)}

    async def delete(self, row: Credential) -> None:
        """Removes ``row``."""
        await self.session.delete(row)
        await self.session.flush()


@dataclass(frozen=True, slots=True)
class ResolvedCredential:
    """A credential as a step gets it: type, every field, the hosts it may go to."""

    type: str
    fields: dict[str, Any]
    allowed_hosts: list[str]


async def credential_for_execution(
    sessions: async_sessionmaker[AsyncSession], keyring: CredentialKeyring, execution_id: UUID, name: str
) -> ResolvedCredential | None:
    """The credential called ``name`` in the workspace of the execution's workflow; ``None`` when it has none.

    The workspace comes from the execution's row, never from the caller: a step
    cannot name its way into another workspace's credential.

    Raises:
        CredentialSealError: The credential exists but its secrets cannot be opened.
    """
    query = (
        select(Credential)
        .join(Workflow, Workflow.workspace_id == Credential.workspace_id)
        .join(Execution, Execution.workflow_id == Workflow.id)
        .where(Execution.id == execution_id, Credential.name == name)
    )
    async with sessions() as session:
        row = await session.scalar(query)
        if row is None:
            return None
        fields = {**row.fields, **unseal(keyring, row)}
        return ResolvedCredential(row.type, fields, list(row.allowed_hosts))


async def rotate_credentials(
    sessions: async_sessionmaker[AsyncSession], keyring: CredentialKeyring, *, batch: int = 100
) -> int:
    """Seals again, under the primary key, every credential sealed with another key; returns how many.

    Each batch is one transaction that locks its rows (``FOR UPDATE`` on PostgreSQL), so an
    update through the API meanwhile is never overwritten with older fields.

    Raises:
        CredentialSealError: A row's key is not configured (nothing of that batch is written).
    """
    done = 0
    while True:
        async with sessions.begin() as session:
            query = (
                select(Credential)
                .where(Credential.key_id != keyring.primary)
                .order_by(Credential.id)
                .limit(batch)
                .with_for_update()
            )
            rows = list((await session.scalars(query)).all())
            for row in rows:
                seal(keyring, row, unseal(keyring, row))
        done += len(rows)
        if len(rows) < batch:
            return done
