"""Saved versions and latest-version pointers, shared by the API's replicas (``SharedVersions``).

A saved version never changes, so it is kept as long as
``WIREHUB_CACHE_DEFINITION_SECONDS`` allows; the latest-version pointer is
the only thing an update changes, and the transaction that saves a version
raises it when it commits (``wirehub.store.latest``), numbers only growing.
A failing backend (Redis away) makes every lookup a miss, logged once per
outage: the database answers instead.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar
from uuid import UUID

import msgspec

from wirehub.api.shared import SharedStore
from wirehub.store.plans import VersionRecord, VersionRef

logger = logging.getLogger("wirehub.api")

T = TypeVar("T")

_encode = msgspec.json.Encoder().encode
_version_decoder = msgspec.json.Decoder(VersionRecord)
_ref_decoder = msgspec.json.Decoder(VersionRef)


class SharedDefinitions:
    """``SharedVersions`` over a ``SharedStore``.

    Args:
        shared: Where the entries live.
        latest_seconds: How long a latest-version pointer is kept.
        definition_seconds: How long a saved version is kept.
    """

    def __init__(self, shared: SharedStore, *, latest_seconds: float, definition_seconds: float) -> None:
        self.shared = shared
        self.latest_seconds = latest_seconds
        self.definition_seconds = definition_seconds
        self._failing = False

    async def latest(self, workflow_id: UUID) -> VersionRef | None:
        """The workflow's latest version as last raised, or ``None``."""
        found = await self._quietly(self.shared.numbered(f"latest:{workflow_id}"))
        if found is None:
            return None
        return _ref_decoder.decode(found[1])

    async def raise_latest(self, workflow_id: UUID, ref: VersionRef) -> None:
        """Records ``ref`` as the latest version unless a higher number is recorded."""
        key = f"latest:{workflow_id}"
        await self._quietly(self.shared.raise_number(key, ref.number, _encode(ref).decode(), self.latest_seconds))

    async def version(self, workflow_id: UUID, number: int) -> VersionRecord | None:
        """A saved version, or ``None``."""
        data = await self._quietly(self.shared.get(f"version:{workflow_id}:{number}"))
        return _version_decoder.decode(data) if data is not None else None

    async def keep_version(self, record: VersionRecord) -> None:
        """Keeps a saved version."""
        key = f"version:{record.workflow_id}:{record.version}"
        await self._quietly(self.shared.put(key, _encode(record), self.definition_seconds))

    async def _quietly(self, step: Awaitable[T]) -> T | None:
        try:
            result = await step
        except Exception as exc:  # the cache only spares the database: a failure is a miss
            if not self._failing:
                self._failing = True
                logger.warning("the shared cache failed (the database answers meanwhile): %s", exc)
            return None
        if self._failing:
            self._failing = False
            logger.info("the shared cache answers again")
        return result
