"""Where a step's named credential comes from when it runs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import msgspec


class StoredCredential(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A named credential: its type and its fields (secrets included)."""

    type: str
    fields: dict[str, Any]


class CredentialSource(Protocol):
    """Looks up a credential by the name a step refers to.

    ``get`` is a coroutine, awaited on the driver's loop before the node runs: the
    durable hub reads and decrypts credentials from its database there. An exception
    it raises fails the attempt with kind ``node.unexpected``.
    """

    async def get(self, name: str) -> StoredCredential | None:
        """The credential called ``name``, or ``None`` when there is none."""
        ...


class MappingCredentialSource:
    """Credentials held in memory, e.g. loaded from a file for ``wirehub run``."""

    def __init__(self, credentials: Mapping[str, StoredCredential] | None = None) -> None:
        self._credentials = dict(credentials or {})

    async def get(self, name: str) -> StoredCredential | None:
        """The credential called ``name``, or ``None`` when there is none."""
        return self._credentials.get(name)

    @classmethod
    def from_file(cls, path: Path) -> MappingCredentialSource:
        """Reads ``{"name": {"type": "core.bearer", "fields": {...}}}`` from a JSON file.

        Raises:
            msgspec.ValidationError: The file is not of that shape.
        """
        data = msgspec.json.decode(path.read_bytes(), type=dict[str, StoredCredential])
        return cls(data)
