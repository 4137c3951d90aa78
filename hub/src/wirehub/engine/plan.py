"""Compiled plans: a validated definition as the graph the state machine walks.

A plan is immutable and built once per (workflow, version); the state
machine only reads it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

import msgspec

from wirehub.engine.expressions.evaluate import ExpressionSyntaxError, referenced_steps
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


class StepSet(AbstractSet[str]):
    """An immutable set of step ids, stored as a bit mask over the workflow's steps.

    Every step's ancestors are kept this way: as frozensets, a 2,000-step
    chain's ancestor sets took about 90 MB (n²/2 entries); as masks, n²/8 bytes.
    It compares equal to a ``set`` or ``frozenset`` of the same ids.

    Args:
        bits: Bit ``i`` set for the step at position ``i`` of ``ids``.
        ids: Every step id of the workflow, in definition order.
        index: The position of each id in ``ids``.
    """

    __slots__ = ("_bits", "_ids", "_index", "_sorted")

    def __init__(self, bits: int, ids: Sequence[str], index: Mapping[str, int]) -> None:
        self._bits = bits
        self._ids = ids
        self._index = index
        self._sorted: tuple[str, ...] | None = None

    def __contains__(self, step_id: object) -> bool:
        position = self._index.get(step_id) if isinstance(step_id, str) else None
        return position is not None and bool(self._bits >> position & 1)

    def __iter__(self) -> Iterator[str]:
        bits = self._bits
        ids = self._ids
        while bits:
            lowest = bits & -bits
            yield ids[lowest.bit_length() - 1]
            bits ^= lowest

    def __len__(self) -> int:
        return self._bits.bit_count()

    def __hash__(self) -> int:
        return self._hash()

    def __repr__(self) -> str:
        return f"StepSet({sorted(self)!r})"

    def in_id_order(self) -> tuple[str, ...]:
        """The ids sorted, computed once."""
        if self._sorted is None:
            self._sorted = tuple(sorted(self))
        return self._sorted


def ancestor_sets(ids: Sequence[str], order: Iterable[str], sources: Mapping[str, Iterable[str]]) -> dict[str, StepSet]:
    """Every step's ancestors (its sources, theirs, and so on), in ``order`` (a topological order).

    Args:
        ids: Every step id, in definition order.
        order: The ids in topological order.
        sources: The source ids of each step's incoming edges.
    """
    index = {step_id: position for position, step_id in enumerate(ids)}
    masks: dict[str, int] = {}
    for step_id in order:
        mask = 0
        for source in sources[step_id]:
            mask |= masks[source] | 1 << index[source]
        masks[step_id] = mask
    frozen_ids = tuple(ids)
    return {step_id: StepSet(mask, frozen_ids, index) for step_id, mask in masks.items()}


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
    ancestors: StepSet
    """Every step that has finished, one way or another, before this one starts."""
    sources: tuple[str, ...]
    """The distinct sources of its incoming edges, in edge order: what its default input is made of."""
    mapped_steps: tuple[str, ...] | None
    """The ancestors its input mapping reads (``steps.<id>``), in id order; ``None`` without a mapping,
    or when the mapping reaches ``steps`` dynamically (its scope then holds every ancestor)."""
    branches: tuple[str, ...] | None = None
    """Branch names, for routing steps."""
    takes_default_input: bool = True
    """``False`` when its node type reads its input as parameters: unmapped, its input is ``None``."""


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


def _mapped_steps(mapping: str | dict[str, str] | None, ancestors: StepSet) -> tuple[str, ...] | None:
    """The ancestors an input mapping reads, when its expressions name every step they read."""
    if mapping is None:
        return None
    found: set[str] = set()
    for text in (mapping,) if isinstance(mapping, str) else mapping.values():
        try:
            references = referenced_steps(text)
        except ExpressionSyntaxError:
            return None
        if references is None:
            return None
        found |= references
    return tuple(sorted(step_id for step_id in found if step_id in ancestors))


def build_plan(
    workflow: Workflow,
    *,
    versions: dict[str, int] | None = None,
    branches: dict[str, tuple[str, ...]] | None = None,
    configs: dict[str, dict[str, Any]] | None = None,
    without_default_input: frozenset[str] = frozenset(),
) -> Plan:
    """Compiles a valid definition into a plan.

    Args:
        workflow: A definition that passed validation (no cycles, known ids).
        versions: The node-type version each step resolved to, by step id.
        branches: The branch names of each routing step, by step id.
        configs: Configs after version migration, by step id.
        without_default_input: Steps whose node type does not take a default
            input (``NodeType.takes_default_input``); unmapped, they get ``None``.

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
    ancestors = ancestor_sets(ids, order, {s: [edge.source for edge in incoming[s]] for s in ids})
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
            mapped_steps=_mapped_steps(by_id[step_id].input, ancestors[step_id]),
            branches=branches.get(step_id),
            takes_default_input=step_id not in without_default_input,
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


class NodeFacts(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """What a plan takes from its steps' node types beyond the pinned definition.

    Recorded when a version is saved (validated against the installed node
    types then), so its plan compiles later without them: the node-type
    version and migrated config are already pinned in the definition.

    Attributes:
        branches: The branch names of each routing step, by step id.
        without_default_input: The steps whose node type does not take a
            default input, in id order.
    """

    branches: dict[str, tuple[str, ...]] = {}
    without_default_input: tuple[str, ...] = ()


def node_facts(plan: Plan) -> NodeFacts:
    """What ``plan`` took from its node types, to record beside its pinned definition."""
    return NodeFacts(
        branches={step.id: step.branches for step in plan.steps.values() if step.branches is not None},
        without_default_input=tuple(sorted(step.id for step in plan.steps.values() if not step.takes_default_input)),
    )


def compile_pinned(definition: dict[str, Any], facts: NodeFacts) -> Plan:
    """Compiles a saved, pinned definition with the node facts recorded when it was saved.

    No node type is needed: the definition was validated when it was saved,
    and every step's ``type_version`` and migrated config are pinned in it,
    so the plan is the one its validation compiled, on any worker.

    Args:
        definition: A definition as ``pin_versions`` returned it.
        facts: ``node_facts`` of the plan its validation compiled.

    Raises:
        ValueError: The definition does not decode, or its graph has a cycle
            (neither happens to a definition that passed validation).
    """
    try:
        workflow = msgspec.convert(definition, Workflow)
    except msgspec.ValidationError as exc:
        raise ValueError(f"the pinned definition does not decode: {exc}") from exc
    return build_plan(
        workflow, branches=dict(facts.branches), without_default_input=frozenset(facts.without_default_input)
    )
