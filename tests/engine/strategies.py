"""Hypothesis strategies: random valid workflow plans for the state machine.

A generated workflow has 1 to 10 steps ``s0 .. s{n-1}``. Each step needs a
few earlier steps (plainly, or a branch of an earlier routing step), so the
graph is acyclic; some steps route to 2 or 3 branches, some have catch
routes to later steps, random retry policies, run and queue timeouts, and a few have
an input mapping, one that works or one that always fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from hypothesis import strategies as st

from wirehub.engine.language.definition import Workflow
from wirehub.engine.plan import Plan, build_plan

ERROR_KINDS = ("http.status", "http.timeout", "db.lock", "node.failed", "node.config")
"""Kinds the simulated nodes fail with (plus ``timeout`` and ``expression`` from the engine)."""
PATTERNS = ("*", "http", "http.status", "db", "timeout", "expression", "node")

GOOD_INPUT = {"x": "input.x", "seen": "keys(steps)"}
"""Reads the whole ``steps`` object: the engine must gather every succeeded ancestor."""
NAMED_INPUT = {"x": "input.x", "s0": "steps.s0.by"}
"""Names the one step it reads: the engine may gather only that one."""
BAD_INPUT = "abs(input)"
"""Fails whenever it runs: the execution input is an object."""
EXECUTION_INPUT = {"x": 1}


@dataclass(frozen=True)
class PlanCase:
    """A generated workflow: its definition and its compiled plan."""

    definition: dict[str, Any]
    branches: dict[str, tuple[str, ...]]
    plan: Plan


@st.composite
def retry_policies(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "max_attempts": draw(st.integers(1, 4)),
        "interval_seconds": draw(st.sampled_from([0, 0.5, 1, 3])),
        "backoff_rate": draw(st.sampled_from([1, 2, 3])),
        "max_delay_seconds": draw(st.sampled_from([0, 2, 5, 60])),
        "jitter": draw(st.sampled_from([0, 0, 0.25, 1])),
        "retry_on": draw(st.sampled_from([["*"], ["*"], ["http", "timeout"], ["db"], ["node", "expression"]])),
    }


@st.composite
def plan_cases(draw: st.DrawFn, max_steps: int = 10) -> PlanCase:
    """A random valid workflow and its plan."""
    n = draw(st.integers(1, max_steps))
    ids = [f"s{i}" for i in range(n)]
    branches: dict[str, tuple[str, ...]] = {}
    steps: list[dict[str, Any]] = []
    for i, step_id in enumerate(ids):
        if i < n - 1 and draw(st.integers(0, 3)) == 0:
            branches[step_id] = tuple(f"b{k}" for k in range(draw(st.integers(2, 3))))
        sources = draw(st.lists(st.sampled_from(ids[:i]), max_size=3, unique=True)) if i else []
        needs: list[str] = []
        for source in sources:
            if source in branches and draw(st.booleans()):
                needs.append(f"{source}:{draw(st.sampled_from(branches[source]))}")
            else:
                needs.append(source)
        step: dict[str, Any] = {"id": step_id, "type": "test.node", "needs": needs}
        if draw(st.booleans()):
            step["retry"] = draw(retry_policies())
        if draw(st.integers(0, 3)) == 0:
            step["timeout_seconds"] = draw(st.sampled_from([1, 30]))
        if draw(st.integers(0, 4)) == 0:
            step["queue_timeout_seconds"] = draw(st.sampled_from([1, 60]))
        mapping = draw(st.sampled_from(["none"] * 16 + ["good"] * 2 + ["named"] * 2 + ["bad"]))
        if mapping == "good":
            step["input"] = GOOD_INPUT
        elif mapping == "named":
            step["input"] = NAMED_INPUT
        elif mapping == "bad":
            step["input"] = BAD_INPUT
        if i < n - 1 and draw(st.integers(0, 2)) == 0:
            handlers = draw(st.lists(st.sampled_from(ids[i + 1 :]), min_size=1, max_size=2, unique=True))
            step["catch"] = [
                {
                    "errors": draw(st.sampled_from([["*"], ["*"], ["http"], ["timeout", "db"], ["expression"]])),
                    "next": h,
                }
                for h in handlers
            ]
        steps.append(step)
    definition: dict[str, Any] = {"name": "random", "steps": steps}
    if draw(st.integers(0, 3)) == 0:
        definition["timeout_seconds"] = 3600
    output = draw(st.sampled_from(["none"] * 6 + ["good"] * 3 + ["bad"]))
    if output == "good":
        definition["output"] = {"x": "input.x", "n": "length(keys(steps))"}
    elif output == "bad":
        definition["output"] = "abs(input)"
    plan = build_plan(msgspec.convert(definition, Workflow), branches=branches)
    return PlanCase(definition, branches, plan)
