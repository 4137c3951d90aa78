"""How many transitions per second the pure state machine makes on one core.

Run with ``uv run python bench/engine_bench.py`` (about half a minute). Each
scenario builds a plan, then drives ``start``/``apply`` in a loop: every
``RunStep`` is answered with ``StepStarted`` and ``StepSucceeded``, until the
execution finishes. A transition is one call of ``start`` or ``apply``. The
floor is 20,000 transitions/s; the figures are printed as a table.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec

from wirehub.engine import (
    ExecutionStatus,
    FinishExecution,
    RunStep,
    StepStarted,
    StepSucceeded,
    apply,
    start,
)
from wirehub.engine.language.definition import Workflow
from wirehub.engine.plan import Plan, build_plan

FLOOR = 20_000.0
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def chain(n: int, *, mapped: bool = False) -> dict[str, Any]:
    """``s0 -> s1 -> ... -> s{n-1}``; with ``mapped``, each step maps its input from the one before."""
    steps: list[dict[str, Any]] = []
    for i in range(n):
        step: dict[str, Any] = {"id": f"s{i}", "type": "core.noop"}
        if i:
            step["needs"] = [f"s{i - 1}"]
        if mapped:
            step["input"] = {"order": "input.order_id", "previous": f"steps.s{i - 1}.value" if i else "input.start"}
        steps.append(step)
    return {"name": f"chain-{n}", "steps": steps}


def fan_out(width: int, *, mapped: bool = False) -> dict[str, Any]:
    """One root, ``width`` steps after it, one join after all of them."""
    leaf_input = {"order": "input.order_id", "root": "steps.root.value"} if mapped else None
    steps: list[dict[str, Any]] = [{"id": "root", "type": "core.noop"}]
    for i in range(width):
        step: dict[str, Any] = {"id": f"w{i}", "type": "core.noop", "needs": ["root"]}
        if leaf_input:
            step["input"] = leaf_input
        steps.append(step)
    join: dict[str, Any] = {"id": "join", "type": "core.noop", "needs": [f"w{i}" for i in range(width)]}
    if mapped:
        join["input"] = "length(keys(steps))"
    steps.append(join)
    return {"name": f"fan-{width}", "steps": steps}


def random_dag(n: int, seed: int, *, mapped: bool = False) -> dict[str, Any]:
    """``n`` steps, each needing up to three random earlier ones."""
    rng = random.Random(seed)
    steps: list[dict[str, Any]] = []
    for i in range(n):
        step: dict[str, Any] = {"id": f"s{i}", "type": "core.noop"}
        if i:
            needs = sorted({rng.randrange(max(0, i - 20), i) for _ in range(rng.randint(1, 3))})
            step["needs"] = [f"s{j}" for j in needs]
            if mapped:
                step["input"] = {"order": "input.order_id", "first": f"steps.s{needs[0]}.value"}
        steps.append(step)
    return {"name": f"dag-{n}-{seed}", "steps": steps}


def run_once(plan: Plan, execution_id: str) -> int:
    """Drives one execution to its end with successes; returns the number of transitions."""
    state, commands = start(plan, execution_id, {"order_id": 7, "start": 0}, NOW)
    transitions = 1
    queue: deque[RunStep] = deque(c for c in commands if isinstance(c, RunStep))
    finished = False
    while queue:
        run = queue.popleft()
        state, _ = apply(plan, state, StepStarted(run.step_id, run.attempt, NOW))
        state, commands = apply(plan, state, StepSucceeded(run.step_id, run.attempt, NOW, {"value": run.attempt}))
        transitions += 2
        for command in commands:
            if isinstance(command, RunStep):
                queue.append(command)
            elif isinstance(command, FinishExecution):
                finished = True
    if not finished or state.status is not ExecutionStatus.SUCCEEDED:
        raise RuntimeError(f"{plan.name} did not succeed: {state.status}")
    return transitions


def measure(plans: list[Plan], budget: float) -> tuple[int, float]:
    """Runs the plans round-robin for about ``budget`` seconds; returns (transitions, seconds)."""
    transitions = 0
    rounds = 0
    began = time.perf_counter()
    while True:
        for plan in plans:
            transitions += run_once(plan, f"bench-{rounds}")
        rounds += 1
        elapsed = time.perf_counter() - began
        if elapsed >= budget:
            return transitions, elapsed


def scenarios() -> list[tuple[str, Callable[[], list[Plan]]]]:
    def plans(*definitions: dict[str, Any]) -> list[Plan]:
        return [build_plan(msgspec.convert(d, Workflow)) for d in definitions]

    return [
        ("chain, 100 steps", lambda: plans(chain(100))),
        ("fan-out 1,000 + join", lambda: plans(fan_out(1000))),
        ("random DAGs, 200 steps x 5 seeds", lambda: plans(*(random_dag(200, seed) for seed in range(5)))),
        ("chain, 100 steps, input mapped", lambda: plans(chain(100, mapped=True))),
        ("fan-out 1,000 + join, input mapped", lambda: plans(fan_out(1000, mapped=True))),
        ("random DAGs, input mapped", lambda: plans(*(random_dag(200, seed, mapped=True) for seed in range(5)))),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="time budget per scenario and repeat")
    parser.add_argument("--repeats", type=int, default=1, help="measurements per scenario (the median is shown)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the figures claim
        print(f"pinned to CPU {next(iter(os.sched_getaffinity(0)))}")

    header = f"{'scenario':<38} {'transitions':>11} {'trans/s':>10} {'us/trans':>9} {'x floor':>8}"
    print(header)
    print("-" * len(header))
    for name, build in scenarios():
        plans = build()
        run_once(plans[0], "warm-up")
        rates: list[float] = []
        counted = 0
        for _ in range(args.repeats):
            transitions, seconds = measure(plans, args.seconds)
            rates.append(transitions / seconds)
            counted += transitions
        rate = statistics.median(rates)
        print(f"{name:<38} {counted:>11,} {rate:>10,.0f} {1e6 / rate:>9.1f} {rate / FLOOR:>8.1f}")


if __name__ == "__main__":
    main()
