"""Properties of the state machine over random graphs, outcomes and deliveries.

A simulated worker pool answers every command the machine emits with a
random outcome, in a random order, and now and then delivers an event
twice, an event that was never valid, a cancel or the execution timeout.
Every transition is checked against rules computed here, independently of
the engine's own bookkeeping.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.engine.machine_helpers import T0, snapshot
from tests.engine.strategies import (
    BAD_INPUT,
    ERROR_KINDS,
    EXECUTION_INPUT,
    GOOD_INPUT,
    NAMED_INPUT,
    PlanCase,
    plan_cases,
)
from wirehub.engine.execution.commands import CancelStep, Command, FinishExecution, RunStep, StartTimer
from wirehub.engine.execution.events import (
    CancelRequested,
    Event,
    ExecutionStarted,
    StepFailed,
    StepReleased,
    StepStarted,
    StepSucceeded,
    StepSuspended,
    StepTimedOut,
    TimerFired,
    TimerKind,
)
from wirehub.engine.execution.machine import apply, prepare
from wirehub.engine.execution.state import (
    ErrorInfo,
    ExecutionState,
    ExecutionStatus,
    IllegalTransitionError,
    StepRun,
    StepStatus,
)
from wirehub.engine.execution.timers import live_timers
from wirehub.engine.execution.transitions import step_pairs
from wirehub.engine.language import limits
from wirehub.engine.language.definition import RetryPolicy
from wirehub.engine.plan import Edge, EdgeKind, Plan

S = StepStatus
K = TimerKind
TERMINAL_FAILURES = {S.FAILED, S.TIMED_OUT}
ALLOWED_PAIRS = step_pairs()


# Rules, written here from the language's definition


def matches(patterns: list[str] | tuple[str, ...], kind: str) -> bool:
    return any(p == "*" or kind == p or kind.startswith(p + ".") for p in patterns)


def should_retry(policy: RetryPolicy, error: ErrorInfo, attempt: int) -> bool:
    return error.retryable and matches(policy.retry_on, error.kind) and attempt < policy.max_attempts


def delay_bounds(policy: RetryPolicy, attempt: int, retry_after: float | None) -> tuple[float, float]:
    base = min(policy.interval_seconds * policy.backoff_rate ** (attempt - 1), policy.max_delay_seconds)
    low, high = base * (1 - policy.jitter), base
    if retry_after:
        floor = min(retry_after, policy.max_delay_seconds)
        low, high = max(low, floor), max(high, floor)
    return low, high


def active(edge: Edge, runs: dict[str, StepRun]) -> bool:
    source = runs[edge.source]
    if edge.kind is EdgeKind.OK:
        return source.status is S.SUCCEEDED
    if edge.kind is EdgeKind.BRANCH:
        return source.status is S.SUCCEEDED and source.branch == edge.branch
    return source.status in TERMINAL_FAILURES and source.caught_by == edge.target


def expected_default_input(plan: Plan, step_id: str, runs: dict[str, StepRun]) -> Any:
    """The default input the language promises: the execution input, one source's value, or them all by id."""
    incoming = plan.steps[step_id].incoming
    if not incoming:
        return EXECUTION_INPUT
    values: dict[str, Any] = {}
    for edge in incoming:
        source = runs[edge.source]
        if edge.source in values or not active(edge, runs):
            continue
        if edge.kind is EdgeKind.ERROR:
            assert source.error is not None
            error = source.error
            values[edge.source] = {"step": edge.source, "kind": error.kind, "message": error.message, "details": {}}
        else:
            values[edge.source] = source.output
    if len({e.source for e in incoming}) == 1:
        (value,) = values.values()
        return value
    return values


def ancestors_of(plan: Plan, step_id: str) -> set[str]:
    found: set[str] = set()
    frontier = [e.source for e in plan.steps[step_id].incoming]
    while frontier:
        current = frontier.pop()
        if current not in found:
            found.add(current)
            frontier.extend(e.source for e in plan.steps[current].incoming)
    return found


def sources_terminal(plan: Plan, step_id: str, runs: dict[str, StepRun]) -> bool:
    return all(runs[e.source].status.terminal for e in plan.steps[step_id].incoming)


def may_run(plan: Plan, step_id: str, runs: dict[str, StepRun]) -> bool:
    incoming = plan.steps[step_id].incoming
    return not incoming or any(active(e, runs) for e in incoming)


# The simulated world


@dataclass
class World:
    """Delivers events for the commands the machine emits, checking every transition."""

    case: PlanCase
    rnd: random.Random
    reliability: float = 0.7
    """The chance that an attempt succeeds (a wait counts as a failure here)."""
    state: ExecutionState | None = None
    now: Any = T0
    work: list[tuple[str, Any]] = field(default_factory=list)
    applied: list[Event] = field(default_factory=list)
    emitted: list[Command] = field(default_factory=list)
    issued: set[tuple[str, int]] = field(default_factory=set)
    released: set[tuple[str, int]] = field(default_factory=set)
    """Attempts a worker gave back: a duplicate of their claim or release may be legal again."""
    finishes: int = 0
    cancel_sent: bool = False
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def plan(self) -> Plan:
        return self.case.plan

    def count(self, name: str) -> None:
        self.stats[name] = self.stats.get(name, 0) + 1

    # Delivering

    def deliver(self, event: Event, *, expect: str) -> bool:
        """Applies ``event``; ``expect`` is "legal", "stale", "illegal" or "any"."""
        assert self.state is not None
        before = snapshot(self.state)
        refusal: IllegalTransitionError | None = None
        try:
            new, commands = apply(self.plan, self.state, event)
        except IllegalTransitionError as exc:
            refusal = exc
        if refusal is not None:
            assert self.state == before, "an illegal event changed the state"
            assert expect != "legal", f"{event} was refused: {refusal}"
            if expect == "stale":
                assert refusal.stale, f"{event} should be stale: {refusal}"
            elif expect == "illegal":
                assert not refusal.stale, f"{event} should not be stale: {refusal}"
            self.count("refused")
            return False
        assert expect in ("legal", "any"), f"{event} was accepted, expected {expect}"
        assert self.state == before, "apply mutated the state it was given"
        self.check(self.state, event, new, commands)
        self.state = new
        self.applied.append(event)
        self.emitted.extend(commands)
        self.absorb(commands)
        self.count("applied")
        return True

    def absorb(self, commands: list[Command]) -> None:
        for command in commands:
            if isinstance(command, RunStep):
                self.work.append(("run", command))
            elif isinstance(command, StartTimer) and command.kind is K.EXECUTION_TIMEOUT:
                self.work.append(("execution-timer", command))
            elif isinstance(command, StartTimer):
                self.work.append(("timer", command))

    def tick(self) -> None:
        self.now += timedelta(seconds=self.rnd.choice([0, 0.25, 1, 7]))

    def running(self) -> bool:
        assert self.state is not None
        return not self.state.status.terminal

    def outcome(self, command: RunStep) -> Event:
        step_id, attempt = command.step_id, command.attempt
        branches = self.plan.steps[step_id].branches
        if self.rnd.random() < self.reliability:
            branch = self.rnd.choice(branches) if branches else None
            return StepSucceeded(step_id, attempt, self.now, {"by": step_id, "attempt": attempt}, branch)
        roll = self.rnd.random()
        if roll < 0.45:
            retry_after = self.rnd.choice([None, None, 0.5, 100.0])
            error = ErrorInfo(self.rnd.choice(ERROR_KINDS), "flaky", retryable=True, retry_after=retry_after)
            return StepFailed(step_id, attempt, self.now, error)
        if roll < 0.6:
            return StepFailed(step_id, attempt, self.now, ErrorInfo(self.rnd.choice(ERROR_KINDS), "broken"))
        if roll < 0.8 or branches:
            return StepTimedOut(step_id, attempt, self.now)
        until = self.now + timedelta(seconds=self.rnd.choice([0, 60, 86400]))
        return StepSuspended(step_id, attempt, self.now, until, {"by": step_id, "woke": True})

    def step_once(self) -> None:
        roll = self.rnd.random()
        if roll < 0.05 and self.applied:
            self.duplicate()
            return
        if roll < 0.07:
            self.bogus()
            return
        kind, item = self.work.pop(self.rnd.randrange(len(self.work)))
        self.tick()
        expect = "legal" if self.running() else "stale"
        if kind in ("run", "result") and expect == "legal":
            run = self.state.steps[item.step_id] if self.state else None
            if run is None or run.attempt != item.attempt or run.status not in (S.SCHEDULED, S.RUNNING):
                expect = "stale"  # an engine timer timed the attempt out first
        if kind == "run":
            if self.rnd.random() < 0.6:
                self.deliver(StepStarted(item.step_id, item.attempt, self.now), expect=expect)
                self.work.append(("result", item))
            else:
                self.deliver(self.outcome(item), expect=expect)
        elif kind == "result":
            assert self.state is not None
            if expect == "legal" and self.state.steps[item.step_id].status is S.RUNNING and self.rnd.random() < 0.15:
                self.deliver(StepReleased(item.step_id, item.attempt, self.now, "no worker has it"), expect=expect)
                self.released.add((item.step_id, item.attempt))
                self.work.append(("run", item))  # dispatched again, to another worker
                self.count("released")
                return
            self.deliver(self.outcome(item), expect=expect)
        elif kind == "timer":
            if item.kind in (K.RUN_TIMEOUT, K.SCHEDULE_TIMEOUT) and self.work and self.rnd.random() < 0.7:
                self.work.append((kind, item))  # a timeout usually comes after the attempt's own report
                return
            self.now = max(self.now, item.at)
            if expect == "legal" and item.kind in (K.RUN_TIMEOUT, K.SCHEDULE_TIMEOUT):
                run = self.state.steps[item.step_id] if self.state else None
                wanted = S.RUNNING if item.kind is K.RUN_TIMEOUT else S.SCHEDULED
                if run is None or run.attempt != item.attempt or run.status is not wanted:
                    expect = "stale"  # the attempt moved on: its timeout is moot
            self.deliver(item.fired(self.now), expect=expect)
            self.count(f"timer-{item.kind}")
        elif kind == "execution-timer":
            if self.work and self.rnd.random() < 0.9:
                self.work.append((kind, item))  # an execution timeout is rare: usually it has not come due
            else:
                self.now = max(self.now, item.at)
                self.deliver(item.fired(self.now), expect=expect)

    def duplicate(self) -> None:
        event = self.rnd.choice(self.applied)
        if isinstance(event, (StepStarted, StepReleased)) and (event.step_id, event.attempt) in self.released:
            return  # a released attempt is claimed and released again legally
        self.count("duplicates")
        expect = "illegal" if isinstance(event, (CancelRequested, ExecutionStarted)) else "stale"
        self.deliver(event, expect=expect)

    def bogus(self) -> None:
        assert self.state is not None
        step_id = self.rnd.choice(list(self.plan.steps))
        run = self.state.steps[step_id]
        candidates: list[Event] = [
            StepStarted("no_such_step", 1, self.now),
            StepSucceeded(step_id, run.attempt + 1, self.now),
            TimerFired(K.RETRY, self.now, step_id, run.attempt + 1),
            StepFailed(step_id, 0, self.now, ErrorInfo("x", "y")),
        ]
        event = self.rnd.choice(candidates)
        self.count("bogus")
        self.deliver(event, expect="illegal")

    def cancel(self) -> None:
        self.cancel_sent = True
        self.tick()
        self.deliver(CancelRequested(self.now, "stop"), expect="legal" if self.running() else "illegal")

    # Checking one transition

    def check(self, old: ExecutionState, event: Event, new: ExecutionState, commands: list[Command]) -> None:
        plan = self.plan
        assert not old.status.terminal
        changed = {s for s in plan.steps if new.steps[s] != old.steps[s]}
        for step_id in changed:
            before, after = old.steps[step_id].status, new.steps[step_id].status
            assert before == after or (before, after) in ALLOWED_PAIRS, f"{step_id}: {before} -> {after} on {event}"

        finished = [c for c in commands if isinstance(c, FinishExecution)]
        if new.status.terminal:
            assert len(finished) == 1
            assert finished[0].status is new.status
            self.finishes += 1
            assert all(run.status.terminal for run in new.steps.values())
            assert new.open_steps == 0
        else:
            assert not finished
            assert new.open_steps == sum(not r.status.terminal for r in new.steps.values())
            for step_id in plan.steps:
                if new.steps[step_id].status is S.PENDING:
                    assert not sources_terminal(plan, step_id, new.steps), f"{step_id} was left undecided"

        self.check_runs(old, event, new, commands)
        self.check_skips(old, new)
        self.check_timers(new, commands)
        if isinstance(event, (StepFailed, StepTimedOut)) or (
            isinstance(event, TimerFired) and event.kind in (K.RUN_TIMEOUT, K.SCHEDULE_TIMEOUT)
        ):
            self.check_failure(old, event, new, commands)
        if isinstance(event, CancelRequested) or (isinstance(event, TimerFired) and event.kind is K.EXECUTION_TIMEOUT):
            expected = ExecutionStatus.CANCELLED if isinstance(event, CancelRequested) else ExecutionStatus.TIMED_OUT
            assert new.status is expected
            in_flight = {(s, r.attempt) for s, r in old.steps.items() if r.status in (S.SCHEDULED, S.RUNNING)}
            assert {(c.step_id, c.attempt) for c in commands if isinstance(c, CancelStep)} == in_flight
            self.count(f"ended-{expected}")
        if isinstance(event, StepSuspended):
            assert commands == [StartTimer(K.WAKE, event.until, event.step_id, event.attempt)]
            assert new.steps[event.step_id].status is S.WAITING
        if isinstance(event, StepStarted):
            timeout = plan.steps[event.step_id].timeout_seconds
            deadline = event.at + timedelta(seconds=timeout) if timeout else None
            assert new.steps[event.step_id].run_deadline == deadline, "the run deadline starts at the claim"
            assert commands == ([StartTimer(K.RUN_TIMEOUT, deadline, event.step_id, event.attempt)] if deadline else [])
        if isinstance(event, StepReleased):
            held, back = old.steps[event.step_id], new.steps[event.step_id]
            limit = event.at + timedelta(seconds=limits.DEFAULT_QUEUE_TIMEOUT_SECONDS)
            deadline = held.queue_deadline or limit
            assert (back.status, back.attempt, back.run_deadline) == (S.SCHEDULED, held.attempt, None)
            assert back.queue_deadline == deadline, "a release keeps the first queue deadline"
            assert commands == [StartTimer(K.SCHEDULE_TIMEOUT, deadline, event.step_id, event.attempt)]
        if isinstance(event, TimerFired) and event.kind is K.WAKE and event.step_id is not None:
            assert new.steps[event.step_id].status is S.SUCCEEDED
            assert new.steps[event.step_id].output == old.steps[event.step_id].output

    def check_runs(self, old: ExecutionState, event: Event, new: ExecutionState, commands: list[Command]) -> None:
        plan = self.plan
        started = {c.step_id: c for c in commands if isinstance(c, RunStep)}
        for step_id, command in started.items():
            key = (step_id, command.attempt)
            assert key not in self.issued, f"RunStep {key} issued twice"
            self.issued.add(key)
            run = new.steps[step_id]
            assert run.status is S.SCHEDULED
            assert run.attempt == command.attempt
            assert sources_terminal(plan, step_id, new.steps), f"{step_id} started before its sources finished"
            assert may_run(plan, step_id, new.steps), f"{step_id} started with no active incoming edge"
            if command.attempt > 1:
                assert isinstance(event, TimerFired)
                assert (event.step_id, event.attempt) == (step_id, command.attempt - 1)
                assert old.steps[step_id].status is S.RETRY_WAIT
            assert command.timeout_seconds == plan.steps[step_id].timeout_seconds
            mapping = plan.steps[step_id].input
            assert mapping != BAD_INPUT, "a step whose input fails was run"
            succeeded = {a for a in ancestors_of(plan, step_id) if new.steps[a].status is S.SUCCEEDED}
            catches = any(e.kind is EdgeKind.ERROR and active(e, new.steps) for e in plan.steps[step_id].incoming)
            if mapping == GOOD_INPUT:
                assert command.input["x"] == EXECUTION_INPUT["x"]
                assert set(command.input["seen"]) == succeeded
            elif mapping == NAMED_INPUT:
                assert command.input == {"x": EXECUTION_INPUT["x"], "s0": "s0" if "s0" in succeeded else None}
            else:
                expected = expected_default_input(plan, step_id, new.steps)
                assert command.input == expected, (step_id, command.input, expected)
            if catches:
                self.count("handler-runs")
        for step_id in plan.steps:
            run = new.steps[step_id]
            if run.status is S.SCHEDULED and old.steps[step_id].status is not S.SCHEDULED:
                if isinstance(event, StepReleased) and event.step_id == step_id:
                    continue  # the same attempt, dispatched again by the store
                assert step_id in started, f"{step_id} was scheduled without a RunStep"
            if run.status is S.FAILED and old.steps[step_id].status in (S.PENDING, S.RETRY_WAIT):
                assert plan.steps[step_id].input == BAD_INPUT
                assert run.error is not None
                assert run.error.kind == "expression"
                self.count("input-failures")

    def check_timers(self, new: ExecutionState, commands: list[Command]) -> None:
        """Every timer the transition starts is live in the new state; a finished execution holds none."""
        live = {(t.kind, t.step_id, t.attempt): t.at for t in live_timers(new)}
        for command in commands:
            if isinstance(command, StartTimer):
                assert live.get((command.kind, command.step_id, command.attempt)) == command.at, command
        if new.status.terminal:
            assert live_timers(new) == []
            for run in new.steps.values():
                assert (run.queue_deadline, run.run_deadline, run.wake_at) == (None, None, None), run
        else:
            assert all(t.execution_id == new.execution_id for t in live_timers(new))

    def check_skips(self, old: ExecutionState, new: ExecutionState) -> None:
        ended_early = new.status in (ExecutionStatus.FAILED, ExecutionStatus.CANCELLED, ExecutionStatus.TIMED_OUT)
        for step_id in self.plan.steps:
            if new.steps[step_id].status is not S.SKIPPED or old.steps[step_id].status is S.SKIPPED:
                continue
            assert old.steps[step_id].status is S.PENDING
            self.count("skips")
            if not ended_early:
                assert sources_terminal(self.plan, step_id, new.steps)
                assert not may_run(self.plan, step_id, new.steps), f"{step_id} was skipped but could run"

    def check_failure(
        self,
        old: ExecutionState,
        event: StepFailed | StepTimedOut | TimerFired,
        new: ExecutionState,
        commands: list[Command],
    ) -> None:
        assert event.step_id is not None
        step = self.plan.steps[event.step_id]
        if isinstance(event, StepFailed):
            error = event.error
        elif isinstance(event, TimerFired) and event.kind is K.SCHEDULE_TIMEOUT:
            error = ErrorInfo("timeout.queue", "", retryable=True)
        else:
            error = ErrorInfo("timeout", "", retryable=True)
        if isinstance(event, TimerFired):
            assert CancelStep(event.step_id, event.attempt) in commands
        run = new.steps[event.step_id]
        assert run.error is not None
        assert run.error.kind == error.kind
        timers = [c for c in commands if isinstance(c, StartTimer) and c.kind is K.RETRY]
        if should_retry(step.retry, error, event.attempt):
            assert run.status is S.RETRY_WAIT
            assert timers == [StartTimer(K.RETRY, timers[0].at, event.step_id, event.attempt)]
            low, high = delay_bounds(step.retry, event.attempt, error.retry_after)
            waited = (timers[0].at - event.at).total_seconds()
            assert low - 1e-6 <= waited <= high + 1e-6, (waited, low, high)
            self.count("retries")
            return
        assert not timers
        assert run.status is (S.FAILED if isinstance(event, StepFailed) else S.TIMED_OUT)
        route = next((c for c in step.catch if matches(c.errors, error.kind)), None)
        assert run.caught_by == (route.next if route else None)
        if route is None:
            assert new.status is ExecutionStatus.FAILED
        else:
            self.count("caught")

    # The whole run

    def run(self, *, cancel_before_start: bool, cancel_at: int | None) -> None:
        self.state = prepare(self.plan, "ex-prop", EXECUTION_INPUT)
        if cancel_before_start:
            self.cancel()
            assert self.state.status is ExecutionStatus.CANCELLED
            return
        assert self.deliver(ExecutionStarted(T0), expect="legal")
        rounds = 0
        while self.work:
            rounds += 1
            assert rounds < 10_000, "the execution did not terminate"
            if cancel_at is not None and rounds >= cancel_at and not self.cancel_sent:
                self.cancel()
            self.step_once()
        if cancel_at is not None and not self.cancel_sent:
            self.cancel()
        assert self.state.status.terminal, "no work is left but the execution has not ended"
        assert self.finishes == 1
        if self.state.status is ExecutionStatus.SUCCEEDED:
            self.check_final_classification()

    def check_final_classification(self) -> None:
        """Which steps ran and which were skipped follows from the final statuses alone."""
        assert self.state is not None
        runs = self.state.steps
        for step_id in self.plan.order:
            status = runs[step_id].status
            assert status in (S.SUCCEEDED, S.FAILED, S.TIMED_OUT, S.SKIPPED)
            assert (status is not S.SKIPPED) is may_run(self.plan, step_id, runs), step_id


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example])
@given(
    case=plan_cases(),
    seed=st.integers(0, 2**32 - 1),
    cancel=st.sampled_from(["never"] * 6 + ["before-start", "during"]),
    cancel_at=st.integers(1, 40),
    reliability=st.sampled_from([0.6, 0.85, 0.97]),
)
def test_every_execution_terminates_and_every_transition_follows_the_rules(
    case: PlanCase, seed: int, cancel: str, cancel_at: int, reliability: float
) -> None:
    world = World(case, random.Random(seed), reliability)
    world.run(cancel_before_start=cancel == "before-start", cancel_at=cancel_at if cancel == "during" else None)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.large_base_example])
@given(case=plan_cases(), seed=st.integers(0, 2**32 - 1), prefix=st.integers(0, 30))
def test_cancel_works_from_every_reachable_state(case: PlanCase, seed: int, prefix: int) -> None:
    world = World(case, random.Random(seed))
    world.state = prepare(case.plan, "ex-prop", EXECUTION_INPUT)
    world.deliver(ExecutionStarted(T0), expect="legal")
    for _ in range(prefix):
        if not world.work or not world.running():
            break
        world.step_once()
    assert world.state is not None
    was_running = world.running()
    world.cancel()
    assert world.state.status.terminal
    if was_running:
        assert world.state.status is ExecutionStatus.CANCELLED
        assert all(run.status.terminal for run in world.state.steps.values())
    while world.work:
        world.step_once()  # every late delivery is refused as stale


def test_the_simulation_reaches_every_kind_of_situation() -> None:
    """Guards the generators: the random worlds do exercise retries, catches, skips, waits and cancels."""
    seen: dict[str, int] = {}
    statuses: set[StepStatus] = set()

    @settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.large_base_example])
    @given(case=plan_cases(), seed=st.integers(0, 2**32 - 1), cancel=st.booleans())
    def explore(case: PlanCase, seed: int, cancel: bool) -> None:
        world = World(case, random.Random(seed))
        world.run(cancel_before_start=False, cancel_at=5 if cancel else None)
        for name, count in world.stats.items():
            seen[name] = seen.get(name, 0) + count
        assert world.state is not None
        for event in world.applied:
            if isinstance(event, StepSuspended):
                seen["waits"] = seen.get("waits", 0) + 1
        statuses.update(run.status for run in world.state.steps.values())

    explore()
    kinds = ("retries", "caught", "skips", "handler-runs", "input-failures", "duplicates", "bogus", "waits", "released")
    for name in kinds:
        assert seen.get(name, 0) > 0, f"never saw {name}: {seen}"
    assert "ended-cancelled" in seen
    assert {S.SUCCEEDED, S.FAILED, S.TIMED_OUT, S.SKIPPED, S.CANCELLED} <= statuses
