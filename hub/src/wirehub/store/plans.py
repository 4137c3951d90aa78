"""Compiled plans, kept by (workflow, version): a saved version never changes, so its plan never goes stale."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from uuid import UUID

from wirehub.engine import Plan

PlanKey = tuple[UUID, int]


class PlanCache:
    """A bounded, least-recently-used map of ``(workflow id, version) -> Plan``.

    The same key always gives back the same plan object while it is held;
    the first plan stored for a key wins, so two callers racing to compile
    the same version end up sharing one.

    Args:
        max_plans: How many plans to hold; the least recently used goes first.
    """

    def __init__(self, max_plans: int = 256) -> None:
        if max_plans < 1:
            raise ValueError("max_plans must be at least 1")
        self.max_plans = max_plans
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
