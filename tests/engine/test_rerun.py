"""Retrying an execution (``RetryRequested``): from the steps that did not succeed, keeping what succeeded."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.engine.machine_helpers import T0, at, fail, make_plan, runs, snapshot, step, succeed, timers
from wirehub.engine import RetryRequested, apply, start
from wirehub.engine.execution.commands import StartTimer
from wirehub.engine.execution.events import CancelRequested, TimerFired, TimerKind
from wirehub.engine.execution.state import ExecutionState, ExecutionStatus, IllegalTransitionError, StepStatus
from wirehub.engine.plan import Plan

S = StepStatus
E = ExecutionStatus


def _failed_chain() -> tuple[Plan, ExecutionState]:
    plan = make_plan([step("a"), step("b", "a"), step("c", "b")])
    state, _ = start(plan, "ex-1", {"n": 1}, T0)
    state, _ = succeed(plan, state, "a", {"v": 1})
    state, _ = fail(plan, state, "b", "node.broken")
    return plan, state


def test_a_failed_execution_runs_again_from_the_failed_step_keeping_what_succeeded() -> None:
    plan, state = _failed_chain()
    assert state.status is E.FAILED
    before = snapshot(state)

    retried, commands = apply(plan, state, RetryRequested(at(10)))

    assert state == before  # the input state is not changed
    assert retried.status is E.RUNNING
    assert retried.error is None
    assert retried.finished_at is None
    assert retried.steps["a"] == state.steps["a"]
    assert retried.steps["a"].output == {"v": 1}
    assert retried.steps["b"].status is S.SCHEDULED
    assert retried.steps["b"].attempt == 2
    assert retried.steps["c"].status is S.PENDING
    assert retried.steps["c"].attempt == 0
    assert runs(commands)["b"].input == {"v": 1}  # built from the kept output
    assert runs(commands)["b"].attempt == 2

    retried, _ = succeed(plan, retried, "b", {"v": 2}, t=11)
    retried, _ = succeed(plan, retried, "c", {"v": 3}, t=12)
    assert retried.status is E.SUCCEEDED
    assert retried.output == {"a": {"v": 1}, "b": {"v": 2}, "c": {"v": 3}}


@pytest.mark.parametrize("status", ["running", "succeeded"])
def test_only_a_failed_timed_out_or_cancelled_execution_can_be_retried(status: str) -> None:
    plan = make_plan([step("a")])
    state, _ = start(plan, "ex-1", None, T0)
    if status == "succeeded":
        state, _ = succeed(plan, state, "a")
    with pytest.raises(IllegalTransitionError) as caught:
        apply(plan, state, RetryRequested(at(5)))
    assert not caught.value.stale


def test_a_retried_step_counts_its_retry_policy_afresh() -> None:
    policy = {"max_attempts": 2, "interval_seconds": 1, "backoff_rate": 1, "max_delay_seconds": 5}
    plan = make_plan([step("a", retry=policy)])
    state, _ = start(plan, "ex-1", None, T0)
    state, _ = fail(plan, state, "a", "http.status", retryable=True)  # attempt 1: retried
    state, _ = apply(plan, state, TimerFired(TimerKind.RETRY, at(3), "a", 1))
    state, _ = fail(plan, state, "a", "http.status", retryable=True, t=4)  # attempt 2: the policy is spent
    assert state.status is E.FAILED

    state, _ = apply(plan, state, RetryRequested(at(10)))
    assert state.steps["a"].attempt == 3
    state, commands = fail(plan, state, "a", "http.status", retryable=True, t=11)  # the first of two again
    assert state.steps["a"].status is S.RETRY_WAIT
    assert timers(commands)[0].kind is TimerKind.RETRY


def test_a_cancelled_execution_runs_its_cancelled_and_skipped_steps_again() -> None:
    plan = make_plan([step("a"), step("b"), step("c", "a", "b")], timeout_seconds=60)
    state, _ = start(plan, "ex-1", None, T0)
    state, _ = succeed(plan, state, "a", "A")
    state, _ = apply(plan, state, CancelRequested(at(2)))
    assert (state.steps["b"].status, state.steps["c"].status) == (S.CANCELLED, S.SKIPPED)

    state, commands = apply(plan, state, RetryRequested(at(30)))
    assert state.status is E.RUNNING
    assert set(runs(commands)) == {"b"}  # a is kept; c waits for b
    assert state.steps["b"].attempt == 2
    assert state.deadline == at(30) + timedelta(seconds=60)  # the workflow's timeout, from the retry
    assert StartTimer(TimerKind.EXECUTION_TIMEOUT, state.deadline) in commands


def test_a_step_skipped_by_its_branch_stays_skipped_and_one_skipped_by_the_end_runs() -> None:
    plan = make_plan(
        [step("route"), step("big", "route:big"), step("small", "route:small"), step("after", "small")],
        branches={"route": ("big", "small")},
    )
    state, _ = start(plan, "ex-1", None, T0)
    state, _ = succeed(plan, state, "route", None, branch="small")
    state, _ = fail(plan, state, "small", "node.broken")
    assert (state.steps["big"].status, state.steps["after"].status) == (S.SKIPPED, S.SKIPPED)

    state, commands = apply(plan, state, RetryRequested(at(10)))
    assert set(runs(commands)) == {"small"}
    assert state.steps["big"].status is S.SKIPPED  # its branch was not taken: kept
    assert state.steps["after"].status is S.PENDING


def test_a_caught_failure_and_its_handler_are_kept() -> None:
    plan = make_plan(
        [
            step("a", catch=[{"errors": ["node"], "next": "handle"}]),
            step("handle"),
            step("b", "handle"),
        ]
    )
    state, _ = start(plan, "ex-1", None, T0)
    state, _ = fail(plan, state, "a", "node.broken")
    state, _ = succeed(plan, state, "handle", "handled")
    state, _ = fail(plan, state, "b", "node.broken")
    assert state.status is E.FAILED

    state, commands = apply(plan, state, RetryRequested(at(10)))
    assert set(runs(commands)) == {"b"}
    assert state.steps["a"].status is S.FAILED
    assert state.steps["handle"].status is S.SUCCEEDED


def test_the_same_retry_gives_the_same_state() -> None:
    plan, state = _failed_chain()
    assert apply(plan, state, RetryRequested(at(10))) == apply(plan, state, RetryRequested(at(10)))
