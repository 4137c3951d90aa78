"""A worker's queued claims: attempts it claimed beyond its free slots, started in order as slots free up.

A result that makes several attempts ready (a fan-out) claims, in its own
transaction, not only as many as the worker has free slots but also a few
more for this queue (``ExecutionStore.finish(..., queue=n)``): each is an
ordinary fenced claim, whose lease the worker renews while it waits, and
which it starts by its ``starts_by`` or hands back. How many it queues
follows its pace: no more than the attempts that ended on it in the last
``START_WITHIN_SECONDS``, so that at that pace each starts within about that
long, and never more than ``limit``: a busy worker does not hoard work.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wirehub.store import QUEUED_START_SECONDS

if TYPE_CHECKING:
    from collections.abc import Iterable

    from wirehub.store import Claim

START_WITHIN_SECONDS = 0.2
"""How soon a queued claim is expected to start: the queue takes no more than this worker ends in that time."""


@dataclass(eq=False)
class Queued:
    """One queued claim.

    Attributes:
        claim: The claim, with its lease.
        asked: The loop time just before the transaction that claimed it: its
            ``starts_by`` is ``QUEUED_START_SECONDS`` after a store instant later than this.
        renewed: The loop time its lease was last known to hold (``asked``, then each renewal).
    """

    claim: Claim
    asked: float
    renewed: float


class ClaimQueue:
    """The queued claims of one worker, oldest first.

    Args:
        limit: How many claims may wait at once (``0``: the worker queues none).
        start_within: The pace window (``START_WITHIN_SECONDS``); ``None``: up to ``limit``
            whatever the pace (for tests that need a known number queued).
        hand_back_after: How long a claim may wait before it is handed back;
            at most the store's ``QUEUED_START_SECONDS``.
    """

    def __init__(
        self,
        limit: int,
        *,
        start_within: float | None = START_WITHIN_SECONDS,
        hand_back_after: float = QUEUED_START_SECONDS,
    ) -> None:
        if limit < 0:
            raise ValueError("a claim queue's limit cannot be negative")
        if not 0 < hand_back_after <= QUEUED_START_SECONDS:
            raise ValueError(f"a queued claim is handed back within {QUEUED_START_SECONDS} s")
        self.limit = limit
        self.start_within = start_within
        self.hand_back_after = hand_back_after
        self._waiting: deque[Queued] = deque()
        self._reserved = 0
        self._ended: deque[float] = deque()

    def __len__(self) -> int:
        return len(self._waiting)

    def note_ended(self, now: float) -> None:
        """Counts an attempt that ended on this worker at loop time ``now`` (its slot is about to be free)."""
        if self.limit and self.start_within is not None:
            self._ended.append(now)
            self._forget_before(now - self.start_within)

    def reserve(self, now: float) -> int:
        """Takes the places a result may fill now, before its transaction; give back the unused with ``release``."""
        places = self.limit - len(self._waiting) - self._reserved
        if self.start_within is not None:
            self._forget_before(now - self.start_within)
            places = min(places, len(self._ended))
        places = max(0, places)
        self._reserved += places
        return places

    def release(self, count: int) -> None:
        """Gives back ``count`` reserved places (filled or not)."""
        self._reserved -= count

    def put(self, claims: Iterable[Claim], asked: float) -> None:
        """Queues claims a transaction begun at loop time ``asked`` returned, in order."""
        self._waiting.extend(Queued(claim, asked, asked) for claim in claims)

    def pop(self, now: float) -> Queued | None:
        """The oldest claim still in time to start, taken off the queue; ``None`` when there is none.

        A claim past its time stays for ``overdue``, which hands it back.
        """
        if self._waiting and now < self._waiting[0].asked + self.hand_back_after:
            return self._waiting.popleft()
        return None

    def overdue(self, now: float) -> list[Queued]:
        """Takes off the queue the claims that waited ``hand_back_after`` (the oldest come first)."""
        late: list[Queued] = []
        while self._waiting and now >= self._waiting[0].asked + self.hand_back_after:
            late.append(self._waiting.popleft())
        return late

    def due_for_renewal(self, before: float) -> list[Queued]:
        """The claims whose lease was last renewed before loop time ``before``."""
        return [entry for entry in self._waiting if entry.renewed < before]

    def drop(self, entries: Iterable[Queued]) -> None:
        """Takes claims off the queue (their lease is lost: there is nothing to start or hand back)."""
        gone = set(map(id, entries))
        self._waiting = deque(entry for entry in self._waiting if id(entry) not in gone)

    def take_all(self) -> list[Queued]:
        """Empties the queue (the worker is stopping): every claim, oldest first."""
        taken = list(self._waiting)
        self._waiting.clear()
        return taken

    def _forget_before(self, cutoff: float) -> None:
        while self._ended and self._ended[0] < cutoff:
            self._ended.popleft()
