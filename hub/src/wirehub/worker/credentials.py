"""The credential source of the durable hub: a step's credential, decrypted from the database, of its own workspace."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wirehub.runtime import StoredCredential
from wirehub.store.credential_keys import CredentialKeyring
from wirehub.store.credentials import credential_for_execution


class StoreCredentialSource:
    """``CredentialSource`` over the ``credentials`` table.

    A step gets the credential of its name in the workspace of its execution's
    workflow, and never one of another workspace: the workspace is read from the
    execution's row when the step runs.

    Args:
        sessions: Sessions on the hub's database.
        keyring: The keys that open the credentials' secrets.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], keyring: CredentialKeyring) -> None:
        self._sessions = sessions
        self._keyring = keyring

    async def get(self, name: str, *, execution_id: str) -> StoredCredential | None:
        """The credential called ``name`` in the execution's workspace, or ``None`` when it has none.

        Raises:
            CredentialSealError: The credential's secrets cannot be opened (its key is not configured).
        """
        found = await credential_for_execution(self._sessions, self._keyring, UUID(execution_id), name)
        if found is None:
            return None
        return StoredCredential(type=found.type, fields=found.fields, allowed_hosts=tuple(found.allowed_hosts))
