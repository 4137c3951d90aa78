"""Checking the step graph: ids, references, branches, catch routes, cycles, fan-out, reachability.

Reachability, precisely: a root step (no ``needs``, no catch route leading
to it) can run. Another step can run when at least one of its incoming edges
can become active: an ``ok`` or ``branch`` edge when its source can run
(a branch the source does not have is reported on its own); an ``error`` edge when its
source can run and the catch route is not shadowed by an earlier route of the
same step that already catches all of its error kinds (the first matching
route wins). A step that cannot run this way would always end ``skipped``:
it is reported as unreachable.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field

from wirehub.engine.language import limits
from wirehub.engine.language.definition import Catch, Step
from wirehub.engine.language.problems import Problem, pointer
from wirehub.engine.plan import Edge, EdgeKind, StepSet, ancestor_sets, parse_need, topological_order

UNKNOWN_BRANCHES = ("?",)
"""Marker: the step's branches are unknown (its node type or config did not resolve)."""


@dataclass(slots=True)
class GraphFacts:
    """What the graph checks learnt, for the expression checks that follow.

    Attributes:
        ancestors: Every step that finishes before each step starts, by the
            step's index in the definition, for the steps that could be
            judged: not in or after a cycle, not after a step that did not
            decode, not the second step of a duplicate id.
    """

    ancestors: dict[int, StepSet] = field(default_factory=dict)


class _Suggestions:
    """ "Did you mean" hints for unknown step ids, for the first few names only.

    Finding a close match costs a pass over every id, so a definition with
    thousands of bad references gets hints for the first ``budget`` names.
    """

    def __init__(self, known: list[str], budget: int = 50) -> None:
        self.known = known
        self.budget = budget
        self.found: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        if name not in self.found:
            if self.budget <= 0:
                return ""
            self.budget -= 1
            close = difflib.get_close_matches(name, self.known, n=1)
            self.found[name] = f' Did you mean "{close[0]}"?' if close else ""
        return self.found[name]


def covers(earlier: str, kind: str) -> bool:
    """Whether catch pattern ``earlier`` matches every error ``kind`` matches."""
    return earlier == "*" or earlier == kind or kind.startswith(earlier + ".")


def _shadowed(catch: list[Catch], position: int) -> bool:
    return all(
        any(covers(pattern, kind) for route in catch[:position] for pattern in route.errors)
        for kind in catch[position].errors
    )


def check_graph(
    steps: list[tuple[int, Step]],
    ids: list[tuple[int, str]],
    branches: Mapping[str, tuple[str, ...] | None],
    problems: list[Problem],
    *,
    undecoded_targets: frozenset[str] = frozenset(),
) -> GraphFacts:
    """Checks the graph of ``steps`` (the steps that decoded, with their indexes).

    Args:
        steps: ``(index in the definition, step)`` pairs.
        ids: ``(index, id)`` of every step that has an id, decoded or not, so
            a reference to a step with other problems is not reported as
            unknown.
        branches: Branch names of each resolved step (``None``: not a routing
            step); ``UNKNOWN_BRANCHES`` or a missing id: unknown.
        problems: Where problems are appended.
        undecoded_targets: Where the catch routes of the steps that did not
            decode may lead.

    Returns:
        Ancestors of every step that could be judged. A broken part of the
        graph (a cycle, a step that did not decode, a duplicate id) leaves
        out only what depends on it: the steps after it are not judged, the
        others are, and their problems are reported.
    """
    first: dict[str, int] = {}
    for index, step_id in ids:
        if step_id in first:
            problems.append(
                Problem(
                    pointer("steps", index, "id"),
                    f'The step id "{step_id}" is already used by the step at /steps/{first[step_id]}.',
                    "duplicate-step-id",
                )
            )
        else:
            first[step_id] = index
    all_ids = set(first)
    by_id = {step.id: step for index, step in steps if first.get(step.id) == index}
    suggest = _Suggestions(sorted(all_ids))
    edges: list[tuple[Edge, str]] = []
    for index, step in steps:
        declared = _check_needs(index, step, all_ids, suggest, by_id, branches, problems)
        declared += _check_catch(index, step, all_ids, suggest, problems)
        if first[step.id] == index:
            edges += declared  # a step with a duplicate id joins no graph: its id means another step
    fan_out: dict[str, int] = {}
    for edge, _ in edges:
        fan_out[edge.source] = fan_out.get(edge.source, 0) + 1
    for step_id, width in fan_out.items():
        if width > limits.MAX_FAN_OUT:
            problems.append(
                Problem(
                    pointer("steps", first[step_id]),
                    f'{width} steps wait directly on step "{step_id}"; the limit is {limits.MAX_FAN_OUT} '
                    "(MAX_FAN_OUT). Group them behind intermediate steps.",
                    "fan-out-too-wide",
                )
            )
    # Edges between decoded steps are real whatever the other steps hold: cycles among them are real too.
    present = [step_id for step_id in first if step_id in by_id]
    inner = [(edge, at) for edge, at in edges if edge.source in by_id and edge.target in by_id]
    cyclic: set[str] = set()
    if topological_order(present, [edge for edge, _ in inner]) is None:
        cyclic = _report_cycles(present, inner, problems)
    doubtful = _downstream(
        cyclic
        | {edge.target for edge, _ in edges if edge.source not in by_id and edge.target in by_id}
        | (undecoded_targets & by_id.keys()),
        inner,
    )
    # Whatever a judged step depends on is judged too: its graph is whole and acyclic.
    judged = [step_id for step_id in present if step_id not in doubtful]
    kept = [(edge, at) for edge, at in inner if edge.target not in doubtful]
    ancestors = _reachability(judged, first, kept, by_id, problems)
    return GraphFacts({first[step_id]: found for step_id, found in ancestors.items()})


def _downstream(roots: set[str], edges: list[tuple[Edge, str]]) -> set[str]:
    """``roots`` and every step reachable from them along ``edges``."""
    successors: dict[str, list[str]] = {}
    for edge, _ in edges:
        successors.setdefault(edge.source, []).append(edge.target)
    found = set(roots)
    stack = list(roots)
    while stack:
        for target in successors.get(stack.pop(), ()):
            if target not in found:
                found.add(target)
                stack.append(target)
    return found


def _check_needs(
    index: int,
    step: Step,
    all_ids: set[str],
    suggest: _Suggestions,
    by_id: Mapping[str, Step],
    branches: Mapping[str, tuple[str, ...] | None],
    problems: list[Problem],
) -> list[tuple[Edge, str]]:
    edges: list[tuple[Edge, str]] = []
    seen: set[str] = set()
    for position, need in enumerate(step.needs):
        at = pointer("steps", index, "needs", position)
        if need in seen:
            problems.append(Problem(at, f'"{need}" is listed twice in needs.', "duplicate-need"))
            continue
        seen.add(need)
        source, branch = parse_need(need)
        if source not in all_ids:
            message = f'The step needs "{source}", but there is no step with that id.{suggest(source)}'
            problems.append(Problem(at, message, "unknown-step"))
            continue
        if branch is not None and source in by_id:
            names = branches.get(source, UNKNOWN_BRANCHES)
            if names is None:
                problems.append(
                    Problem(
                        at,
                        f'Step "{source}" is not a routing step (node type "{by_id[source].type}" has no branches), '
                        f'so "{need}" can never be chosen. Write "{source}" to wait for it to succeed.',
                        "not-a-routing-step",
                    )
                )
            elif names != UNKNOWN_BRANCHES and branch not in names:
                listed = ", ".join(names) if names else "none"
                problems.append(
                    Problem(
                        at,
                        f'Step "{source}" has no branch "{branch}"; its branches are: {listed}.',
                        "unknown-branch",
                    )
                )
        kind = EdgeKind.BRANCH if branch else EdgeKind.OK
        edges.append((Edge(source, step.id, kind, branch), at))
    return edges


def _check_catch(
    index: int, step: Step, all_ids: set[str], suggest: _Suggestions, problems: list[Problem]
) -> list[tuple[Edge, str]]:
    edges: list[tuple[Edge, str]] = []
    for position, route in enumerate(step.catch):
        at = pointer("steps", index, "catch", position)
        if route.next not in all_ids:
            message = f'The catch route goes to "{route.next}", but there is no step with that id.{suggest(route.next)}'
            problems.append(Problem(at + "/next", message, "unknown-step"))
            continue
        if _shadowed(step.catch, position):
            problems.append(
                Problem(
                    at,
                    "This catch route can never be taken: earlier routes of the step already catch "
                    f"{', '.join(route.errors)} (the first matching route wins).",
                    "unreachable-catch",
                )
            )
        edges.append((Edge(step.id, route.next, EdgeKind.ERROR), at + "/next"))
    return edges


def _report_cycles(ids: list[str], edges: list[tuple[Edge, str]], problems: list[Problem]) -> set[str]:
    """One problem per cycle-bearing group of steps, naming one cycle through it; returns their members."""
    position = {step_id: index for index, step_id in enumerate(ids)}
    successors: dict[str, list[tuple[str, str]]] = {step_id: [] for step_id in ids}
    for edge, at in edges:
        if edge.source in successors and edge.target in successors:
            successors[edge.source].append((edge.target, at))
    members: set[str] = set()
    for component in _strong_components(ids, successors):
        start = min(component, key=position.__getitem__)
        if len(component) == 1 and not any(target == start for target, _ in successors[start]):
            continue
        members |= component
        cycle, at = _cycle_through(start, component, successors)
        if len(cycle) == 2:
            message = f'Step "{start}" waits on itself, so it can never start.'
        else:
            chain = " → ".join(f'"{step_id}"' for step_id in cycle)
            message = f"Steps {chain} form a cycle: none of them can ever start."
        problems.append(Problem(at, message, "cycle"))
    return members


def _strong_components(ids: list[str], successors: Mapping[str, list[tuple[str, str]]]) -> list[set[str]]:
    """Tarjan's strongly connected components, iteratively (graphs of thousands of steps)."""
    index_of: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[set[str]] = []
    counter = 0
    for root in ids:
        if root in index_of:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index_of[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            targets = successors[node]
            if child < len(targets):
                work.append((node, child + 1))
                target = targets[child][0]
                if target not in index_of:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index_of[target])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index_of[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


def _cycle_through(
    start: str, component: set[str], successors: Mapping[str, list[tuple[str, str]]]
) -> tuple[list[str], str]:
    """A shortest cycle from ``start`` back to it, and the pointer of the edge that closes it."""
    previous: dict[str, tuple[str, str]] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for target, at in successors[node]:
                if target not in component:
                    continue
                if target == start:
                    path = [start]
                    closing = at
                    while node != start:
                        path.append(node)
                        node = previous[node][0]
                    return [start, *reversed(path[1:]), start], closing
                if target not in previous:
                    previous[target] = (node, at)
                    following.append(target)
        frontier = following
    return [start, start], ""


def _reachability(
    ids: list[str],
    first: Mapping[str, int],
    edges: list[tuple[Edge, str]],
    by_id: Mapping[str, Step],
    problems: list[Problem],
) -> dict[str, StepSet]:
    """Reports steps that can never run; returns every step's ancestors."""
    incoming: dict[str, list[Edge]] = {step_id: [] for step_id in ids}
    for edge, _ in edges:
        incoming[edge.target].append(edge)
    order = topological_order(ids, [edge for edge, _ in edges]) or []
    runs: dict[str, bool] = {}
    for step_id in order:
        reasons: list[str] = []
        for edge in incoming[step_id]:
            reason = _dead_edge(edge, runs, by_id)
            if reason is not None:
                reasons.append(reason)
        runs[step_id] = not incoming[step_id] or len(reasons) < len(incoming[step_id])
        if not runs[step_id]:
            problems.append(
                Problem(
                    pointer("steps", first[step_id]),
                    f'Step "{step_id}" can never run: {"; ".join(dict.fromkeys(reasons))}.',
                    "unreachable-step",
                )
            )
    # Bit masks, not frozensets: a long chain's ancestor sets would take memory quadratic in its length.
    return ancestor_sets(ids, order, {step_id: [edge.source for edge in incoming[step_id]] for step_id in ids})


def _dead_edge(edge: Edge, runs: Mapping[str, bool], by_id: Mapping[str, Step]) -> str | None:
    """Why ``edge`` can never become active, or ``None`` if it can.

    A branch edge naming a branch its source does not have is already
    reported where it is written; it does not make its step unreachable too.
    """
    if not runs[edge.source]:
        return f'step "{edge.source}" never runs'
    if edge.kind is EdgeKind.ERROR:
        catch = by_id[edge.source].catch
        live = [position for position, route in enumerate(catch) if route.next == edge.target]
        if live and all(_shadowed(catch, position) for position in live):
            return f'its catch route from "{edge.source}" is shadowed by an earlier route'
    return None
