"""State, events and commands are the persistence schema: they survive JSON, and history replays exactly."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.engine.machine_helpers import T0
from tests.engine.strategies import EXECUTION_INPUT, PlanCase, plan_cases
from tests.engine.test_machine_properties import World
from wirehub.engine import (
    BaseCommand,
    BaseEvent,
    CancelStep,
    Command,
    ErrorInfo,
    Event,
    ExecutionStarted,
    ExecutionState,
    ExecutionStatus,
    FinishExecution,
    HistoryEntry,
    RunStep,
    StartTimer,
    StepFailed,
    StepReleased,
    StepRun,
    StepStarted,
    StepStatus,
    StepSucceeded,
    StepSuspended,
    TimerFired,
    TimerKind,
    apply,
    prepare,
)

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
INSTANTS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
ERRORS = st.builds(
    ErrorInfo,
    kind=st.sampled_from(["http.status", "timeout", "output.too_large"]),
    message=st.text(max_size=30),
    retryable=st.booleans(),
    retry_after=st.none() | st.floats(0, 1e6),
    details=st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=3),
    step_id=st.none() | st.just("fetch"),
    attempt=st.none() | st.integers(1, 100),
    node_type=st.none() | st.just("core.http"),
)
EVENTS = st.one_of(
    st.builds(StepStarted, st.text(min_size=1, max_size=10), st.integers(1, 100), INSTANTS),
    st.builds(StepReleased, st.text(min_size=1, max_size=10), st.integers(1, 100), INSTANTS, st.text(max_size=20)),
    st.builds(StepSucceeded, st.just("a"), st.integers(1, 9), INSTANTS, JSON_VALUES, st.none() | st.just("big")),
    st.builds(StepFailed, st.just("a"), st.integers(1, 9), INSTANTS, ERRORS),
    st.builds(StepSuspended, st.just("a"), st.integers(1, 9), INSTANTS, INSTANTS, JSON_VALUES),
    st.builds(TimerFired, st.sampled_from(TimerKind), INSTANTS, st.none() | st.just("a"), st.integers(0, 9)),
)


OPTIONAL_INSTANTS = st.none() | INSTANTS
STEP_RUNS = st.builds(
    StepRun,
    status=st.sampled_from(StepStatus),
    attempt=st.integers(0, 100),
    output=JSON_VALUES,
    branch=st.none() | st.just("big"),
    error=st.none() | ERRORS,
    caught_by=st.none() | st.just("handler"),
    started_at=OPTIONAL_INSTANTS,
    finished_at=OPTIONAL_INSTANTS,
    wake_at=OPTIONAL_INSTANTS,
    resolved_edges=st.integers(0, 1000),
    queue_deadline=OPTIONAL_INSTANTS,
    run_deadline=OPTIONAL_INSTANTS,
    output_bytes=st.integers(0, 2**30),
)
STATES = st.builds(
    ExecutionState,
    execution_id=st.text(min_size=1, max_size=20),
    status=st.sampled_from(ExecutionStatus),
    input=JSON_VALUES,
    steps=st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), STEP_RUNS, max_size=5),
    output=JSON_VALUES,
    error=st.none() | ERRORS,
    started_at=OPTIONAL_INSTANTS,
    finished_at=OPTIONAL_INSTANTS,
    open_steps=st.none() | st.integers(0, 2000),
    deadline=OPTIONAL_INSTANTS,
    output_bytes=st.integers(0, 2**36),
)
COMMANDS = st.one_of(
    st.builds(RunStep, st.just("a"), st.integers(1, 9), JSON_VALUES, st.none() | st.floats(0.001, 1e6)),
    st.builds(StartTimer, st.sampled_from(TimerKind), INSTANTS, st.none() | st.just("a"), st.integers(0, 9)),
    st.builds(CancelStep, st.just("a"), st.integers(1, 9)),
    st.builds(FinishExecution, st.sampled_from(ExecutionStatus), JSON_VALUES, st.none() | ERRORS),
)


@given(state=STATES)
def test_any_state_round_trips_through_json(state: ExecutionState) -> None:
    assert round_trip(state, ExecutionState) == state


@given(command=COMMANDS)
def test_any_command_round_trips_through_json_as_a_command(command: Command) -> None:
    assert round_trip(command, Command) == command
    assert type(round_trip(command, Command)) is type(command)


def round_trip(value: Any, type_: Any) -> Any:
    return msgspec.json.decode(msgspec.json.encode(value), type=type_)


@given(event=EVENTS)
def test_any_event_round_trips_through_json_as_an_event(event: Event) -> None:
    assert round_trip(event, Event) == event
    assert type(round_trip(event, Event)) is type(event)


def test_a_step_started_and_a_timer_fired_encode_differently_and_decode_back() -> None:
    started = StepStarted("a", 1, T0)
    fired = TimerFired(TimerKind.RETRY, T0, "a", 1)
    assert msgspec.json.encode(started) != msgspec.json.encode(fired)
    assert msgspec.json.decode(msgspec.json.encode(started), type=Event) == started
    assert msgspec.json.decode(msgspec.json.encode(fired), type=Event) == fired
    assert (
        msgspec.json.decode(
            b'{"type":"step_started","step_id":"a","attempt":1,"at":"2026-03-01T12:00:00Z"}', type=Event
        )
        == started
    )


def test_every_event_and_command_has_a_distinct_snake_case_tag_and_a_docstring() -> None:
    for base in (BaseEvent, BaseCommand):
        classes = base.__subclasses__()
        tags = [cls.__struct_config__.tag for cls in classes]
        assert len(set(tags)) == len(tags)
        for cls, tag in zip(classes, tags, strict=True):
            assert isinstance(tag, str), cls
            assert tag.islower(), cls
            assert (cls.__doc__ or "").strip(), f"{cls.__name__} has no docstring"
    assert set(Event.__args__) == set(BaseEvent.__subclasses__())
    assert set(Command.__args__) == set(BaseCommand.__subclasses__())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example])
@given(
    case=plan_cases(),
    seed=st.integers(0, 2**32 - 1),
    cancel=st.sampled_from(["never"] * 6 + ["before-start", "during"]),
)
def test_history_replays_to_the_same_state_and_everything_round_trips(case: PlanCase, seed: int, cancel: str) -> None:
    world = World(case, random.Random(seed))
    world.run(cancel_before_start=cancel == "before-start", cancel_at=5 if cancel == "during" else None)
    assert world.state is not None
    final = world.state

    history = [HistoryEntry("ex-prop", n, event) for n, event in enumerate(world.applied, start=1)]
    stored = msgspec.json.encode(history)
    loaded = msgspec.json.decode(stored, type=list[HistoryEntry])
    assert loaded == history

    state = prepare(case.plan, "ex-prop", EXECUTION_INPUT)
    for entry in loaded:
        assert entry.execution_id == state.execution_id
        state, _ = apply(case.plan, state, entry.event)
    assert state == final

    assert round_trip(final, ExecutionState) == final
    assert round_trip(world.emitted, list[Command]) == world.emitted


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.large_base_example])
@given(case=plan_cases(), seed=st.integers(0, 2**32 - 1), prefix=st.integers(0, 30))
def test_a_state_saved_mid_execution_goes_on_exactly_as_the_original(case: PlanCase, seed: int, prefix: int) -> None:
    world = World(case, random.Random(seed))
    world.state = prepare(case.plan, "ex-prop", EXECUTION_INPUT)
    world.deliver(ExecutionStarted(T0), expect="legal")
    for _ in range(prefix):
        if not world.work or not world.running():
            break
        world.step_once()
    assert world.state is not None
    saved = round_trip(world.state, ExecutionState)
    assert saved == world.state
    for event in (StepStarted("s0", 1, T0 + timedelta(days=1)), TimerFired(TimerKind.RETRY, T0, "s0", 1)):
        assert outcome(case, saved, event) == outcome(case, world.state, event)


def outcome(case: PlanCase, state: ExecutionState, event: Event) -> Any:
    try:
        return apply(case.plan, state, event)
    except Exception as exc:  # the refusal itself is what is compared
        return (type(exc), str(exc))
