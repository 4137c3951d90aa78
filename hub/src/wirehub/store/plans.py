"""Compiled plans, kept by (workflow, version): a saved version never changes, so its plan never goes stale.

A ``PlanCache`` may also carry a shared layer (``SharedVersions``: Redis for
the API replicas of a distributed hub, memory embedded) holding the saved
versions (immutable) that every process compiles plans from. Only immutable
things are cached: a start reads which version is a workflow's latest (the
one thing an update changes) from the workflow's row. ``CacheStats`` counts
the hits and misses of both layers and the time each took.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

import msgspec

from wirehub.engine import Plan
from wirehub.metrics import observe_cache

PlanKey = tuple[UUID, int]


class VersionRecord(msgspec.Struct, frozen=True):
    """What a saved version's plan compiles from (the row's immutable columns)."""

    id: UUID
    workflow_id: UUID
    version: int
    definition: dict[str, Any]
    node_facts: dict[str, Any] | None


class SharedVersions(Protocol):
    """Saved versions shared by the processes of a hub (implemented by the API).

    Every method answers ``None`` or does nothing when its backend is away: the
    database is the record, the cache only spares it.
    """

    async def version(self, workflow_id: UUID, number: int) -> VersionRecord | None:
        """A saved version, or ``None``."""

    async def keep_version(self, record: VersionRecord) -> None:
        """Keeps a saved version (it never changes)."""


@dataclass
class CacheCounter:
    """Hits and misses of one cache, and the time each took (seconds, summed).

    A miss's time is what the database read cost; ``saved_seconds`` is the
    hits' count times the difference of the mean miss and the mean hit. A
    named counter also counts in the process's Prometheus metrics
    (``wirehub_cache_lookups_total{cache=name}``).
    """

    name: str | None = None
    hits: int = 0
    misses: int = 0
    hit_seconds: float = 0.0
    miss_seconds: float = 0.0

    def hit(self, seconds: float) -> None:
        """Counts a hit that took ``seconds``."""
        self.hits += 1
        self.hit_seconds += seconds
        if self.name is not None:
            observe_cache(self.name, "hit", seconds)

    def miss(self, seconds: float) -> None:
        """Counts a miss that took ``seconds`` (the lookup and the read it caused)."""
        self.misses += 1
        self.miss_seconds += seconds
        if self.name is not None:
            observe_cache(self.name, "miss", seconds)

    @property
    def hit_rate(self) -> float:
        """Hits over lookups; 0 before any lookup."""
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    @property
    def saved_seconds(self) -> float:
        """The time the hits saved, estimated from the mean miss and the mean hit."""
        if not self.hits or not self.misses:
            return 0.0
        return max(0.0, self.hits * (self.miss_seconds / self.misses - self.hit_seconds / self.hits))

    def as_dict(self) -> dict[str, float]:
        """The figures, for a report."""
        return {
            "hits": self.hits,
            "misses": self.misses,
            "hit_rate": round(self.hit_rate, 4),
            "saved_seconds": round(self.saved_seconds, 6),
        }


@dataclass
class CacheStats:
    """What the caches of one process did.

    Attributes:
        plans: Compiled plans, in this process.
        versions: Saved versions, in the shared layer (a miss reads the database).
    """

    plans: CacheCounter = field(default_factory=lambda: CacheCounter("plans"))
    versions: CacheCounter = field(default_factory=lambda: CacheCounter("versions"))

    def as_dict(self) -> dict[str, dict[str, float]]:
        """Each cache's figures, for a report."""
        return {"plans": self.plans.as_dict(), "versions": self.versions.as_dict()}


def elapsed(since: float) -> float:
    """Seconds on the monotonic clock since ``since``."""
    return time.perf_counter() - since


class PlanCache:
    """A bounded, least-recently-used map of ``(workflow id, version) -> Plan``.

    The same key always gives back the same plan object while it is held;
    the first plan stored for a key wins, so two callers racing to compile
    the same version end up sharing one.

    Args:
        max_plans: How many plans to hold; the least recently used goes first.
        shared: The layer shared with the hub's other processes, if any.
    """

    def __init__(self, max_plans: int = 256, *, shared: SharedVersions | None = None) -> None:
        if max_plans < 1:
            raise ValueError("max_plans must be at least 1")
        self.max_plans = max_plans
        self.shared = shared
        self.stats = CacheStats()
        self._plans: OrderedDict[PlanKey, Plan] = OrderedDict()

    def __len__(self) -> int:
        return len(self._plans)

    def __contains__(self, key: object) -> bool:
        return key in self._plans

    def get(self, key: PlanKey) -> Plan | None:
        """The plan held for ``key``, or ``None``."""
        plan = self._plans.get(key)
        if plan is not None:
            self._plans.move_to_end(key)
        return plan

    def get_or_compile(self, key: PlanKey, compile_plan: Callable[[], Plan]) -> Plan:
        """The plan held for ``key``, compiling and keeping it first when it is missing."""
        plan = self.get(key)
        if plan is None:
            plan = self._plans.setdefault(key, compile_plan())
            while len(self._plans) > self.max_plans:
                self._plans.popitem(last=False)
        return plan

    def clear(self) -> None:
        """Forgets every plan."""
        self._plans.clear()
