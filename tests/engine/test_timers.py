"""Timers and deadlines are state: the run deadline starts at the claim, and a queue timeout is its own limit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.engine.machine_helpers import T0, at, make_plan, of_type, runs, step
from tests.engine.test_validation import transform, validate, workflow
from wirehub.engine import (
    CancelRequested,
    CancelStep,
    ErrorInfo,
    ExecutionStatus,
    IllegalTransitionError,
    StartTimer,
    StepFailed,
    StepReleased,
    StepStarted,
    StepStatus,
    StepSuspended,
    Timer,
    TimerKind,
    apply,
    due_timers,
    live_timers,
    start,
)
from wirehub.engine.language import limits

K = TimerKind
RETRY_TIMEOUTS = {"max_attempts": 2, "interval_seconds": 1, "retry_on": ["timeout"]}


def test_the_run_deadline_starts_when_the_attempt_is_claimed_not_when_it_is_scheduled() -> None:
    plan = make_plan([step("a", timeout_seconds=10)])
    state, commands = start(plan, "ex-1", None, T0)
    assert runs(commands)["a"].timeout_seconds == 10
    assert live_timers(state) == []  # nothing ticks while it waits in a queue without a queue timeout

    state, commands = apply(plan, state, StepStarted("a", 1, at(300)))  # five minutes in the queue
    assert state.steps["a"].run_deadline == at(310)
    assert commands == [StartTimer(K.RUN_TIMEOUT, at(310), "a", 1)]
    assert live_timers(state) == [Timer("ex-1", K.RUN_TIMEOUT, at(310), "a", 1)]


def test_the_engine_run_timeout_times_out_the_attempt_and_cancels_it() -> None:
    plan = make_plan([step("a", timeout_seconds=10, retry=RETRY_TIMEOUTS)])
    state, _ = start(plan, "ex-1", None, T0)
    state, _ = apply(plan, state, StepStarted("a", 1, at(5)))
    (timer,) = live_timers(state)
    state, commands = apply(plan, state, timer.fired())
    assert state.steps["a"].status is StepStatus.RETRY_WAIT
    assert state.steps["a"].error is not None
    assert state.steps["a"].error.kind == "timeout"
    assert state.steps["a"].run_deadline is None
    assert of_type(commands, CancelStep) == [CancelStep("a", 1)]
    assert live_timers(state) == [Timer("ex-1", K.RETRY, at(16), "a", 1)]


def test_an_attempt_not_claimed_within_its_queue_timeout_times_out_and_the_policy_retries_it() -> None:
    plan = make_plan([step("a", timeout_seconds=10, queue_timeout_seconds=5, retry=RETRY_TIMEOUTS)])
    state, commands = start(plan, "ex-1", None, T0)
    assert StartTimer(K.SCHEDULE_TIMEOUT, at(5), "a", 1) in commands
    assert state.steps["a"].queue_deadline == at(5)
    assert live_timers(state) == [Timer("ex-1", K.SCHEDULE_TIMEOUT, at(5), "a", 1)]

    state, commands = apply(plan, state, live_timers(state)[0].fired(at(5)))
    run = state.steps["a"]
    assert run.status is StepStatus.RETRY_WAIT
    assert run.error is not None
    assert (run.error.kind, run.error.retryable) == ("timeout.queue", True)
    assert "queue timeout of 5 s" in run.error.message
    assert CancelStep("a", 1) in commands  # withdraw it from its queue

    (retry,) = live_timers(state)
    state, commands = apply(plan, state, retry.fired())
    assert state.steps["a"].status is StepStatus.SCHEDULED
    assert state.steps["a"].queue_deadline == at(11)
    with pytest.raises(IllegalTransitionError) as late:
        apply(plan, state, StepStarted("a", 1, at(12)))  # the first attempt's late claim
    assert late.value.stale

    state, _ = apply(plan, state, StepStarted("a", 2, at(7)))
    assert state.steps["a"].queue_deadline == at(11)  # kept for a hand-back, but live only while scheduled
    assert live_timers(state) == [Timer("ex-1", K.RUN_TIMEOUT, at(17), "a", 2)]
    with pytest.raises(IllegalTransitionError) as moot:
        apply(plan, state, StartTimer(K.SCHEDULE_TIMEOUT, at(11), "a", 2).fired())
    assert moot.value.stale


def test_a_queue_timeout_without_retry_times_the_step_out_and_fails_the_execution() -> None:
    plan = make_plan([step("a", queue_timeout_seconds=5)])
    state, _ = start(plan, "ex-1", None, T0)
    state, _ = apply(plan, state, live_timers(state)[0].fired())
    assert state.steps["a"].status is StepStatus.TIMED_OUT
    assert state.status is ExecutionStatus.FAILED
    assert state.error is not None
    assert state.error.kind == "timeout.queue"
    assert live_timers(state) == []


def test_live_timers_list_every_kind_and_due_timers_those_due() -> None:
    plan = make_plan(
        [
            step("queued", queue_timeout_seconds=30),
            step("running", timeout_seconds=60),
            step("waiting"),
            step("retrying", retry={"max_attempts": 3, "interval_seconds": 20}),
        ],
        timeout_seconds=600,
    )
    state, _ = start(plan, "ex-1", None, T0)
    state, _ = apply(plan, state, StepStarted("running", 1, at(1)))
    state, _ = apply(plan, state, StepSuspended("waiting", 1, at(2), until=at(3600)))
    state, _ = apply(plan, state, StepStarted("retrying", 1, at(3)))
    state, _ = apply(plan, state, StepFailed("retrying", 1, at(4), ErrorInfo("x", "y", retryable=True)))
    assert live_timers(state) == [
        Timer("ex-1", K.EXECUTION_TIMEOUT, at(600)),
        Timer("ex-1", K.SCHEDULE_TIMEOUT, at(30), "queued", 1),
        Timer("ex-1", K.RUN_TIMEOUT, at(61), "running", 1),
        Timer("ex-1", K.WAKE, at(3600), "waiting", 1),
        Timer("ex-1", K.RETRY, at(24), "retrying", 1),
    ]
    assert [t.kind for t in due_timers(state, at(61))] == [K.RETRY, K.SCHEDULE_TIMEOUT, K.RUN_TIMEOUT]

    cancelled, _ = apply(plan, state, CancelRequested(at(70)))
    assert live_timers(cancelled) == []
    assert due_timers(cancelled, at(10_000)) == []


@pytest.mark.parametrize(
    ("value", "code"),
    [(0, "out-of-range"), (-1, "out-of-range"), (31 * 24 * 3600 + 1, "out-of-range"), ("soon", "wrong-type")],
)
def test_queue_timeout_seconds_is_validated_like_timeout_seconds(value: object, code: str) -> None:
    report = validate(workflow(transform("a", queue_timeout_seconds=value), transform("b", timeout_seconds=value)))
    found = {(problem.pointer, problem.code) for problem in report.problems}
    assert found == {("/steps/0/queue_timeout_seconds", code), ("/steps/1/timeout_seconds", code)}


def test_a_valid_queue_timeout_reaches_the_plan() -> None:
    report = validate(workflow(transform("a", queue_timeout_seconds=30)))
    assert report.plan is not None
    assert report.plan.steps["a"].queue_timeout_seconds == 30


def test_a_workflow_timeout_sets_the_execution_deadline_and_its_timer() -> None:
    plan = make_plan([step("a")], timeout_seconds=60)
    state, commands = start(plan, "ex-1", None, T0)
    assert state.deadline == T0 + timedelta(seconds=60)
    assert commands[0] == StartTimer(K.EXECUTION_TIMEOUT, at(60))
    state, commands = apply(plan, state, commands[0].fired())
    assert state.status is ExecutionStatus.TIMED_OUT
    assert live_timers(state) == []


def test_a_released_attempt_is_scheduled_again_and_keeps_the_queue_deadline_of_its_first_scheduling() -> None:
    plan = make_plan([step("a", timeout_seconds=10, queue_timeout_seconds=30)])
    state, _ = start(plan, "ex-1", None, T0)
    state, _ = apply(plan, state, StepStarted("a", 1, at(5)))
    state, commands = apply(plan, state, StepReleased("a", 1, at(6), "no worker has node type acme.x"))
    run = state.steps["a"]
    assert (run.status, run.attempt, run.run_deadline, run.queue_deadline) == (StepStatus.SCHEDULED, 1, None, at(30))
    assert commands == [StartTimer(K.SCHEDULE_TIMEOUT, at(30), "a", 1)]
    assert live_timers(state) == [Timer("ex-1", K.SCHEDULE_TIMEOUT, at(30), "a", 1)]

    state, _ = apply(plan, state, StepStarted("a", 1, at(20)))  # another worker claims it: a fresh run deadline
    assert live_timers(state) == [Timer("ex-1", K.RUN_TIMEOUT, at(30), "a", 1)]
    state, _ = apply(plan, state, StepReleased("a", 1, at(21), "no worker has node type acme.x"))
    assert state.steps["a"].queue_deadline == at(30)  # not pushed back by a second release

    state, commands = apply(plan, state, live_timers(state)[0].fired())
    run = state.steps["a"]
    assert run.status is StepStatus.TIMED_OUT
    assert run.error is not None
    assert (run.error.kind, run.error.retryable) == ("timeout.queue", True)
    assert "queue timeout of 30 s" in run.error.message
    assert "no worker has node type acme.x" in run.error.message
    assert CancelStep("a", 1) in commands
    assert state.status is ExecutionStatus.FAILED


def test_a_released_attempt_of_a_step_without_a_queue_timeout_gets_the_default_limit_once() -> None:
    plan = make_plan([step("a", retry=RETRY_TIMEOUTS)])
    state, _ = start(plan, "ex-1", None, T0)
    assert live_timers(state) == []
    state, _ = apply(plan, state, StepStarted("a", 1, at(1)))
    state, _ = apply(plan, state, StepReleased("a", 1, at(2), "the worker is stopping"))
    limit = at(2) + timedelta(seconds=limits.DEFAULT_QUEUE_TIMEOUT_SECONDS)
    assert live_timers(state) == [Timer("ex-1", K.SCHEDULE_TIMEOUT, limit, "a", 1)]
    state, _ = apply(plan, state, StepStarted("a", 1, at(100)))
    state, _ = apply(plan, state, StepReleased("a", 1, at(200), "the worker is stopping"))
    assert live_timers(state) == [Timer("ex-1", K.SCHEDULE_TIMEOUT, limit, "a", 1)]

    state, _ = apply(plan, state, live_timers(state)[0].fired())
    run = state.steps["a"]
    assert run.status is StepStatus.RETRY_WAIT  # the retry policy decides: timeout.queue is a timeout
    assert run.error is not None
    assert run.error.kind == "timeout.queue"
    assert f"queue timeout of {limits.DEFAULT_QUEUE_TIMEOUT_SECONDS:g} s" in run.error.message
    assert "the worker is stopping" in run.error.message


def test_only_a_running_attempt_can_be_released() -> None:
    plan = make_plan([step("a")])
    state, _ = start(plan, "ex-1", None, T0)
    with pytest.raises(IllegalTransitionError) as scheduled:
        apply(plan, state, StepReleased("a", 1, at(1), "stopping"))
    assert scheduled.value.stale
    with pytest.raises(IllegalTransitionError) as missing:
        apply(plan, state, StepReleased("a", 2, at(1), "stopping"))
    assert not missing.value.stale
