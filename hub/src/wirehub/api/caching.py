"""Saved versions, shared by the API's replicas (``SharedVersions``).

A saved version never changes, so it is kept as long as
``WIREHUB_CACHE_DEFINITION_SECONDS`` allows. Nothing an update changes is
cached: a start reads the workflow's row anyway (in its own transaction, for
its checks) and takes the latest version's number and row id from the same
statement. A failing backend (Redis away) makes every lookup a miss, logged
once per outage: the database answers instead.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar
from uuid import UUID

import msgspec

from wirehub.api.shared import SharedStore
from wirehub.store.plans import VersionRecord

logger = logging.getLogger("wirehub.api")

T = TypeVar("T")

_encode = msgspec.json.Encoder().encode
_version_decoder = msgspec.json.Decoder(VersionRecord)


class SharedDefinitions:
    """``SharedVersions`` over a ``SharedStore``.

    Args:
        shared: Where the entries live.
        definition_seconds: How long a saved version is kept.
    """

    def __init__(self, shared: SharedStore, *, definition_seconds: float) -> None:
        self.shared = shared
        self.definition_seconds = definition_seconds
        self._failing = False

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
