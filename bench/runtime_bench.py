"""End-to-end speed of the embedded hub (``wirehub run``'s runtime) with real nodes.

Each workflow is saved once, then executions of it run to completion on one
embedded hub (a SQLite file, the in-process broker, a worker) with
``core.transform`` steps: the store's transactions, engine transitions, input
mapping, node invocation, output checks and the asyncio plumbing, on one core.

    uv run python bench/runtime_bench.py [--executions 200] [--steps 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

from wirehub.plugins import build_registry
from wirehub.settings import Settings
from wirehub.worker.embedded import embedded_hub
from wirehub_core import core


def chain(steps: int) -> dict[str, object]:
    return {
        "name": "bench-chain",
        "steps": [
            {
                "id": f"s{i}",
                "type": "core.transform",
                "needs": [f"s{i - 1}"] if i else [],
                "input": {"n": f"steps.s{i - 1}.n" if i else "input.n"},
                "config": {"expression": "{n: add(n, `1`)}"},
            }
            for i in range(steps)
        ],
        "output": f"steps.s{steps - 1}.n",
    }


def fan_out(width: int) -> dict[str, object]:
    branches = [
        {
            "id": f"b{i}",
            "type": "core.transform",
            "needs": ["root"],
            "input": "steps.root",
            "config": {"expression": "n"},
        }
        for i in range(width)
    ]
    return {
        "name": "bench-fan-out",
        "steps": [
            {"id": "root", "type": "core.transform", "input": "input"},
            *branches,
            {"id": "join", "type": "core.transform", "needs": [b["id"] for b in branches], "input": "`1`"},
        ],
    }


async def measure(definition: dict[str, object], executions: int, concurrency: int) -> None:
    registry = build_registry(extra_plugins=[core], load_entry_points=False)
    latencies: list[float] = []
    semaphore = asyncio.Semaphore(concurrency)
    async with embedded_hub(Settings(worker_concurrency=max(concurrency, 16)), registry) as hub:
        workflow_id = await hub.save(definition)

        async def one(i: int) -> None:
            async with semaphore:
                started = time.perf_counter()
                view = await hub.wait(await hub.start(workflow_id, {"n": i}), within=120)
                assert view.status == "succeeded", view.error
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(executions)))
        elapsed = time.perf_counter() - started
    steps = executions * len(definition["steps"])  # type: ignore[arg-type]
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    print(
        f"{definition['name']:<14} {steps // executions:>5} steps  concurrency {concurrency:>3}  "
        f"{executions / elapsed:>8,.1f} executions/s  {steps / elapsed:>9,.0f} steps/s  "
        f"latency p50 {p50:>7.1f} ms  p99 {p99:>7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=200)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    for concurrency in (1, 20):
        asyncio.run(measure(chain(args.steps), args.executions, concurrency))
    asyncio.run(measure(fan_out(100), max(args.executions // 10, 5), 1))


if __name__ == "__main__":
    main()
