"""What the events tests share: workflows, collecting a channel's events, in-process distributed workers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine

from wirehub.events import ExecutionChannels, ExecutionEvent, decode_event, recorded_events
from wirehub.runtime import NodeThreads, StepEnvironment
from wirehub.runtime.registry import NodeRegistry
from wirehub.settings import Settings
from wirehub.store import ExecutionStore, PlanCache, WorkflowVersionService, session_factory
from wirehub.worker import Worker

WITHIN = 30.0
"""Longest any one execution of these tests may take, on a busy two-core machine."""


def transform(step_id: str, *needs: str) -> dict[str, Any]:
    step: dict[str, Any] = {"id": step_id, "type": "core.transform", "config": {"expression": "{ok: `true`}"}}
    if needs:
        step["needs"] = list(needs)
    return step


def pausing(seconds: float, fan_out: int = 0) -> dict[str, Any]:
    """``a``, then ``fan_out`` parallel steps, then a ``pause`` of ``seconds``, then ``z``."""
    branches = [transform(f"b{index}", "a") for index in range(fan_out)]
    before = [step["id"] for step in branches] or ["a"]
    pause = {"id": "pause", "type": "core.delay", "needs": before, "config": {"seconds": seconds}}
    return {
        "name": f"pausing-{fan_out}",
        "steps": [transform("a"), *branches, pause, transform("z", "pause")],
    }


def chain(length: int) -> dict[str, Any]:
    return {
        "name": f"chain-{length}",
        "steps": [transform(f"s{i}", *([f"s{i - 1}"] if i else [])) for i in range(length)],
    }


@dataclass
class Listener:
    """Every event on one channel, from its subscription on, until ``executions`` executions are over."""

    events: list[ExecutionEvent]
    done: asyncio.Event
    executions: int = 1
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    """Set by every event."""

    def take(self, data: bytes) -> None:
        event = decode_event(data)
        self.events.append(event)
        self.arrived.set()
        if sum(1 for seen in self.events if seen.terminal) >= self.executions:
            self.done.set()


@contextlib.asynccontextmanager
async def listening(channels: ExecutionChannels, channel: str, executions: int = 1) -> AsyncIterator[Listener]:
    """Subscribes to ``channel`` for the block; the listener fills as events come."""
    listener = Listener([], asyncio.Event(), executions)

    async def take(data: bytes) -> None:
        listener.take(data)

    async with channels.subscribe([channel]) as subscriber, subscriber.run_in_background(take, join=False):
        yield listener


async def until_recorded(store: ExecutionStore, execution_id: UUID, event_type: str) -> list[ExecutionEvent]:
    """Waits (bounded) until the history has an event of ``event_type``; returns the history then."""
    async with asyncio.timeout(WITHIN):
        while True:
            events = await recorded_events(store, execution_id)
            if any(event.event_type == event_type for event in events):
                return events
            await asyncio.sleep(0.02)


async def save(engine: AsyncEngine, store: ExecutionStore, registry: NodeRegistry, definition: dict[str, Any]) -> UUID:
    async with session_factory(engine, writes=True).begin() as session:
        version = await WorkflowVersionService(session, registry, store.plans).create(definition)
    return version.workflow_id


@dataclass
class Node:
    """One in-process distributed worker with a store of its own, publishing on Redis."""

    store: ExecutionStore
    worker: Worker


@contextlib.asynccontextmanager
async def distributed_workers(
    engine: AsyncEngine,
    registry: NodeRegistry,
    settings: Settings,
    *,
    count: int,
    stream: str,
    channels: list[ExecutionChannels],
) -> AsyncIterator[list[Node]]:
    """``count`` distributed workers on one stream, each publishing on its own ``channels[i]``."""
    async with contextlib.AsyncExitStack() as stack:
        nodes: list[Node] = []
        for index in range(count):
            sessions = session_factory(engine, writes=True)
            store = ExecutionStore(sessions, PlanCache(), lease_seconds=settings.lease_seconds, catalog=registry)
            env = await stack.enter_async_context(StepEnvironment(registry, NodeThreads(settings.egress_policy)))
            worker = Worker(settings, store, env, name=f"w{index}", stream=stream, channels=channels[index])
            await stack.enter_async_context(worker.running(within=WITHIN))
            nodes.append(Node(store, worker))
        yield nodes
