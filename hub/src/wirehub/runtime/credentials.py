"""Where a step's named credential comes from when it runs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import msgspec


class StoredCredential(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A named credential: its type and its fields (secrets included).

    Attributes:
        type: The credential type's name (``core.bearer``...).
        fields: Every field, secrets included, as the type's ``Fields`` reads them.
        allowed_hosts: The only hosts its requests may go to, redirects included
            (``api.example.com``, ``*.example.com``, ``host:port``); ``None``: not bound
            (the credential still goes to the step URL's origin only).
    """

    type: str
    fields: dict[str, Any]
    allowed_hosts: tuple[str, ...] | None = None


class CredentialSource(Protocol):
    """Looks up a credential by the name a step refers to.

    ``get`` is a coroutine, awaited on the driver's loop before the node runs: the
    durable hub reads and decrypts credentials from its database there, in the
    workspace of the execution (``execution_id``) and no other. An exception it
    raises fails the attempt with kind ``node.unexpected``.
    """

    async def get(self, name: str, *, execution_id: str) -> StoredCredential | None:
        """The credential called ``name`` that the execution may use, or ``None`` when there is none."""
        ...


class MappingCredentialSource:
    """Credentials held in memory, e.g. loaded from a file for ``wirehub run``."""

    def __init__(self, credentials: Mapping[str, StoredCredential] | None = None) -> None:
        self._credentials = dict(credentials or {})

    async def get(self, name: str, *, execution_id: str) -> StoredCredential | None:
        """The credential called ``name``, or ``None`` when there is none (every execution sees them all)."""
        return self._credentials.get(name)

    @classmethod
    def from_file(cls, path: Path) -> MappingCredentialSource:
        """Reads ``{"name": {"type": "core.bearer", "fields": {...}}}`` from a JSON file.

        Raises:
            msgspec.ValidationError: The file is not of that shape.
        """
        data = msgspec.json.decode(path.read_bytes(), type=dict[str, StoredCredential])
        return cls(data)
