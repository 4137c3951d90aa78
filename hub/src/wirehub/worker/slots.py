"""The attempts one worker may run at once, shared by its consumer and the claims its results make."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class Slots:
    """A count of free slots: the consumer waits for one before it reads a message; results take them at once.

    A slot is held from the read of a message (or the eager claim of an
    attempt) until the attempts it carries have finished. The consumer's read
    holds its slot while it waits, so a result never claims a slot a message
    is about to fill. A slot given back goes first to ``handoff`` (the
    worker's queued claims, already claimed and waiting), then to whoever
    waits for one.

    Args:
        size: How many attempts may run at once (``worker_concurrency``).
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a worker needs at least one slot")
        self.size = size
        self.used = 0
        self._freed = asyncio.Event()
        self.handoff: Callable[[], bool] | None = None
        """Offered each slot given back: True when it took the slot (started a queued claim in it)."""

    @property
    def free(self) -> int:
        """Slots nobody holds now."""
        return self.size - self.used

    def take(self, wanted: int) -> int:
        """Takes up to ``wanted`` free slots without waiting; returns how many it took."""
        taken = max(0, min(wanted, self.free))
        self.used += taken
        return taken

    def give(self, count: int = 1) -> None:
        """Gives back ``count`` slots."""
        handoff = self.handoff
        while count > 0 and handoff is not None and handoff():
            count -= 1  # the slot passed on, still used
        if count:
            self.used -= count
            self._freed.set()

    async def acquire(self) -> bool:
        """Waits for a free slot and takes it; True once taken."""
        while self.free <= 0:
            self._freed.clear()
            await self._freed.wait()
        self.used += 1
        return True
