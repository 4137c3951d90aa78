"""Compiled plans: a validated definition as the graph the state machine walks.

A plan is immutable and built once per (workflow, version); the state
machine only reads it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from wirehub.engine.language.definition import Catch, RetryPolicy, Step, Workflow

NO_RETRY = RetryPolicy(max_attempts=1)


class EdgeKind(enum.Enum):
    """Why a step waits on another."""

    OK = "ok"
    """Runs after the source succeeds (whatever branch it chose)."""
    BRANCH = "branch"
    """Runs after the source, a routing step, chooses ``branch``."""
    ERROR = "error"
    """Runs after the source fails with an error its catch route matches."""


@dataclass(frozen=True, slots=True)
class Edge:
    """One dependency: ``target`` waits on ``source``."""

    source: str
    target: str
    kind: EdgeKind
    branch: str | None = None


@dataclass(frozen=True, slots=True)
class StepPlan:
    """One step, with its edges resolved."""

    id: str
    index: int
    type: str
    type_version: int
    config: dict[str, Any]
    input: str | dict[str, str] | None
    timeout_seconds: float | None
    """Limit of one attempt from its claim (start-to-close)."""
    queue_timeout_seconds: float | None
    """Limit on how long an attempt may wait to be claimed (schedule-to-start)."""
    retry: RetryPolicy
    catch: tuple[Catch, ...]
    credential: str | None
    incoming: tuple[Edge, ...]
    outgoing: tuple[Edge, ...]
    ancestors: frozenset[str]
    """Every step that has finished, one way or another, before this one starts."""
    sources: tuple[str, ...]
    """The distinct sources of its incoming edges, in edge order: what its default input is made of."""
    branches: tuple[str, ...] | None = None
    """Branch names, for routing steps."""


@dataclass(frozen=True, slots=True)
class Plan:
    """A workflow as a graph, in topological order."""

    name: str
    steps: dict[str, StepPlan]
    order: tuple[str, ...]
    roots: tuple[str, ...]
    output: str | dict[str, str] | None = None
    timeout_seconds: float | None = None
    input_schema: dict[str, Any] | None = None


def parse_need(need: str) -> tuple[str, str | None]:
    """Splits ``"step"`` or ``"step:branch"`` into the step id and branch."""
    step_id, _, branch = need.partition(":")
    return step_id, (branch or None)


def edges_of(workflow: Workflow) -> list[Edge]:
    """Every edge the definition declares, in definition order."""
    edges: list[Edge] = []
    for step in workflow.steps:
        for need in step.needs:
            source, branch = parse_need(need)
            kind = EdgeKind.BRANCH if branch else EdgeKind.OK
            edges.append(Edge(source, step.id, kind, branch))
    for step in workflow.steps:
        for route in step.catch:
            edges.append(Edge(step.id, route.next, EdgeKind.ERROR))
    return edges


def topological_order(step_ids: list[str], edges: list[Edge]) -> list[str] | None:
    """Kahn's order, stable in definition order; ``None`` when there is a cycle."""
    indegree = dict.fromkeys(step_ids, 0)
    children: dict[str, list[str]] = {s: [] for s in step_ids}
    for edge in edges:
        if edge.source in indegree and edge.target in indegree:
            indegree[edge.target] += 1
            children[edge.source].append(edge.target)
    position = {s: i for i, s in enumerate(step_ids)}
    ready = [s for s in step_ids if indegree[s] == 0]
    order: list[str] = []
    while ready:
        ready.sort(key=position.__getitem__, reverse=True)
        current = ready.pop()
        order.append(current)
        for child in children[current]:
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    return order if len(order) == len(step_ids) else None


def build_plan(
    workflow: Workflow,
    *,
    versions: dict[str, int] | None = None,
    branches: dict[str, tuple[str, ...]] | None = None,
    configs: dict[str, dict[str, Any]] | None = None,
) -> Plan:
    """Compiles a valid definition into a plan.

    Args:
        workflow: A definition that passed validation (no cycles, known ids).
        versions: The node-type version each step resolved to, by step id.
        branches: The branch names of each routing step, by step id.
        configs: Configs after version migration, by step id.

    Raises:
        ValueError: The graph has a cycle (validation reports it properly).
    """
    versions = versions or {}
    branches = branches or {}
    configs = configs or {}
    ids = [s.id for s in workflow.steps]
    edges = edges_of(workflow)
    order = topological_order(ids, edges)
    if order is None:
        raise ValueError("the step graph has a cycle")
    incoming: dict[str, list[Edge]] = {s: [] for s in ids}
    outgoing: dict[str, list[Edge]] = {s: [] for s in ids}
    for edge in edges:
        incoming[edge.target].append(edge)
        outgoing[edge.source].append(edge)
    ancestors: dict[str, frozenset[str]] = {}
    for step_id in order:
        found: set[str] = set()
        for edge in incoming[step_id]:
            found.add(edge.source)
            found |= ancestors[edge.source]
        ancestors[step_id] = frozenset(found)
    by_id: dict[str, Step] = {s.id: s for s in workflow.steps}
    steps = {
        step_id: StepPlan(
            id=step_id,
            index=index,
            type=by_id[step_id].type,
            type_version=versions.get(step_id, by_id[step_id].type_version or 1),
            config=configs.get(step_id, by_id[step_id].config),
            input=by_id[step_id].input,
            timeout_seconds=by_id[step_id].timeout_seconds,
            queue_timeout_seconds=by_id[step_id].queue_timeout_seconds,
            retry=by_id[step_id].retry or NO_RETRY,
            catch=tuple(by_id[step_id].catch),
            credential=by_id[step_id].credential,
            incoming=tuple(incoming[step_id]),
            outgoing=tuple(outgoing[step_id]),
            ancestors=ancestors[step_id],
            sources=tuple(dict.fromkeys(edge.source for edge in incoming[step_id])),
            branches=branches.get(step_id),
        )
        for index, step_id in enumerate(ids)
    }
    return Plan(
        name=workflow.name,
        steps=steps,
        order=tuple(order),
        roots=tuple(s for s in order if not incoming[s]),
        output=workflow.output,
        timeout_seconds=workflow.timeout_seconds,
        input_schema=workflow.input_schema,
    )
