"""The execution state machine, one rule at a time."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from msgspec.structs import replace

from tests.engine.machine_helpers import (
    T0,
    at,
    fail,
    make_plan,
    of_type,
    runs,
    snapshot,
    step,
    succeed,
    timers,
)
from wirehub.engine.execution.commands import CancelStep, FinishExecution, RunStep, StartTimer
from wirehub.engine.execution.events import (
    CancelRequested,
    ExecutionStarted,
    StepFailed,
    StepStarted,
    StepSucceeded,
    StepSuspended,
    StepTimedOut,
    TimerFired,
    TimerKind,
)
from wirehub.engine.execution.machine import apply, prepare, start
from wirehub.engine.execution.retry import jitter_fraction, kind_matches, retry_delay
from wirehub.engine.execution.state import (
    ErrorInfo,
    ExecutionState,
    ExecutionStatus,
    IllegalTransitionError,
    StepStatus,
)
from wirehub.engine.execution.transitions import EXECUTION_TRANSITIONS, STEP_TRANSITIONS, render_markdown
from wirehub.engine.plan import Plan

S = StepStatus
K = TimerKind
ROOT = Path(__file__).resolve().parents[2]


# Starting


def test_start_schedules_root_steps_with_the_input_and_timeout_and_sets_the_execution_deadline() -> None:
    plan = make_plan(
        [step("a", timeout_seconds=10), step("b"), step("c", "a", "b")],
        timeout_seconds=600,
    )
    state, commands = start(plan, "ex-1", {"order_id": 7}, T0)

    assert state.status is ExecutionStatus.RUNNING
    assert state.started_at == T0
    assert commands[0] == StartTimer(K.EXECUTION_TIMEOUT, T0 + timedelta(seconds=600))
    assert state.deadline == T0 + timedelta(seconds=600)
    assert runs(commands) == {
        "a": RunStep("a", 1, {"order_id": 7}, 10),
        "b": RunStep("b", 1, {"order_id": 7}, None),
    }
    assert {k: r.status for k, r in state.steps.items()} == {"a": S.SCHEDULED, "b": S.SCHEDULED, "c": S.PENDING}
    assert state.steps["a"].attempt == 1


def test_start_without_a_workflow_timeout_sets_no_execution_timer() -> None:
    plan = make_plan([step("a")])
    _, commands = start(plan, "ex-1", None, T0)
    assert not of_type(commands, StartTimer)


def test_prepare_gives_a_pending_execution_that_execution_started_starts() -> None:
    plan = make_plan([step("a"), step("b", "a")], timeout_seconds=60)
    pending = prepare(plan, "ex-1", {"x": 1})
    assert pending.status is ExecutionStatus.PENDING
    assert all(run.status is S.PENDING for run in pending.steps.values())

    assert apply(plan, pending, ExecutionStarted(T0)) == start(plan, "ex-1", {"x": 1}, T0)
    started, _ = start(plan, "ex-1", {"x": 1}, T0)
    with pytest.raises(IllegalTransitionError) as caught:
        apply(plan, started, ExecutionStarted(T0))
    assert not caught.value.stale


# Step events


def test_step_started_moves_a_scheduled_attempt_to_running() -> None:
    plan = make_plan([step("a")])
    state, _ = start(plan, "ex-1", None, T0)
    state, commands = apply(plan, state, StepStarted("a", 1, at(1)))
    assert state.steps["a"].status is S.RUNNING
    assert state.steps["a"].started_at == at(1)
    assert commands == []


def test_a_chain_runs_in_order_and_the_default_output_is_every_succeeded_step() -> None:
    plan = make_plan([step("a"), step("b", "a"), step("c", "b")])
    state, _ = start(plan, "ex-1", {"n": 1}, T0)

    state, commands = succeed(plan, state, "a", {"v": 1})
    assert list(runs(commands)) == ["b"]
    assert runs(commands)["b"].input == {"v": 1}
    assert runs(commands)["b"].input is state.steps["a"].output  # shared, never copied
    assert state.steps["c"].status is S.PENDING

    state, commands = succeed(plan, state, "b", {"v": 2})
    assert runs(commands)["c"].input == {"v": 2}

    state, commands = succeed(plan, state, "c", {"v": 3})
    assert commands == [FinishExecution(ExecutionStatus.SUCCEEDED, {"a": {"v": 1}, "b": {"v": 2}, "c": {"v": 3}})]
    assert state.status is ExecutionStatus.SUCCEEDED
    assert state.output == {"a": {"v": 1}, "b": {"v": 2}, "c": {"v": 3}}
    assert state.open_steps == 0


def test_a_fast_worker_may_report_success_without_a_started_event() -> None:
    plan = make_plan([step("a"), step("b", "a")])
    state, _ = start(plan, "ex-1", None, T0)
    state, commands = apply(plan, state, StepSucceeded("a", 1, at(2), "out"))
    assert state.steps["a"].status is S.SUCCEEDED
    assert state.steps["a"].started_at == at(2)
    assert list(runs(commands)) == ["b"]


def test_fan_out_and_join_waits_for_every_source() -> None:
    plan = make_plan(
        [step("root"), step("x", "root"), step("y", "root"), step("z", "root"), step("join", "x", "y", "z")]
    )
    state, _ = start(plan, "ex-1", None, T0)
    state, commands = succeed(plan, state, "root", 0)
    assert sorted(runs(commands)) == ["x", "y", "z"]

    state, commands = succeed(plan, state, "x", 1)
    assert runs(commands) == {}
    state, commands = succeed(plan, state, "z", 3)
    assert runs(commands) == {}
    assert state.steps["join"].status is S.PENDING
    assert state.steps["join"].resolved_edges == 2

    state, commands = succeed(plan, state, "y", 2)
    assert runs(commands)["join"].input == {"x": 1, "y": 2, "z": 3}


def test_a_step_with_one_source_gets_that_output_and_a_root_gets_the_execution_input() -> None:
    plan = make_plan([step("a"), step("b"), step("c", "a")])
    state, commands = start(plan, "ex-1", {"n": 1}, T0)
    assert runs(commands)["a"].input == {"n": 1}
    state, _ = succeed(plan, state, "b", "b-out")
    state, commands = succeed(plan, state, "a", "a-out")
    assert runs(commands)["c"].input == "a-out"


def test_input_mapping_is_evaluated_against_the_scope() -> None:
    plan = make_plan(
        [
            step("a"),
            step("b", "a", input={"id": "input.order_id", "total": "steps.a.total"}),
            step("c", "b", input="steps.b"),
        ]
    )
    state, _ = start(plan, "ex-1", {"order_id": 42}, T0)
    state, commands = succeed(plan, state, "a", {"total": 99})
    assert runs(commands)["b"].input == {"id": 42, "total": 99}
    _, commands = succeed(plan, state, "b", {"ok": True})
    assert runs(commands)["c"].input == {"ok": True}


def test_a_mapping_that_names_its_steps_sees_the_same_values_as_with_the_whole_scope() -> None:
    plan = make_plan(
        [
            step("a"),
            step("side"),
            step("b", "a", input={"a": "steps.a.v", "side": "steps.side.v", "all": "keys(steps)"}),
            step("c", "a", input={"a": "steps.a.v", "side": "steps.side.v"}),
        ]
    )
    state, _ = start(plan, "ex-1", None, T0)
    state, _ = succeed(plan, state, "side", {"v": "not an ancestor"})
    _, commands = succeed(plan, state, "a", {"v": 1})
    assert runs(commands)["b"].input == {"a": 1, "side": None, "all": ["a"]}
    assert runs(commands)["c"].input == {"a": 1, "side": None}


# Branching


ROUTING = [
    step("route"),
    step("approve", "route:big"),
    step("auto", "route:small"),
    step("after_auto", "auto"),
    step("join", "approve", "auto"),
]


def test_a_routing_step_activates_its_branch_and_skips_the_others_transitively() -> None:
    plan = make_plan(ROUTING, branches={"route": ("big", "small")})
    state, _ = start(plan, "ex-1", None, T0)
    state, commands = succeed(plan, state, "route", {"total": 500}, branch="big")

    assert list(runs(commands)) == ["approve"]
    assert state.steps["route"].branch == "big"
    assert state.steps["auto"].status is S.SKIPPED
    assert state.steps["after_auto"].status is S.SKIPPED
    assert state.steps["join"].status is S.PENDING


def test_a_join_after_branches_runs_once_the_chosen_branch_finishes() -> None:
    plan = make_plan(ROUTING, branches={"route": ("big", "small")})
    state, _ = start(plan, "ex-1", None, T0)
    state, _ = succeed(plan, state, "route", {"total": 5}, branch="small")
    assert state.steps["approve"].status is S.SKIPPED
    state, commands = succeed(plan, state, "auto", "auto-out")
    assert sorted(runs(commands)) == ["after_auto", "join"]
    assert runs(commands)["join"].input == {"auto": "auto-out"}  # only its active sources


def test_a_plain_need_on_a_routing_step_runs_whatever_branch_it_chose() -> None:
    plan = make_plan(
        [step("route"), step("log", "route"), step("big", "route:big")], branches={"route": ("big", "small")}
    )
    state, _ = start(plan, "ex-1", None, T0)
    state, commands = succeed(plan, state, "route", None, branch="small")
    assert list(runs(commands)) == ["log"]
    assert state.steps["big"].status is S.SKIPPED


def test_a_step_whose_every_source_is_skipped_is_skipped_and_the_execution_still_succeeds() -> None:
    plan = make_plan(
        [step("route"), step("a", "route:yes"), step("b", "route:yes"), step("c", "a", "b")],
        branches={"route": ("yes", "no")},
        output={"choice": "steps.route"},
    )
    state, _ = start(plan, "ex-1", None, T0)
    state, commands = succeed(plan, state, "route", "no-way", branch="no")
    assert [state.steps[s].status for s in ("a", "b", "c")] == [S.SKIPPED] * 3
    assert commands == [FinishExecution(ExecutionStatus.SUCCEEDED, {"choice": "no-way"})]


@pytest.mark.parametrize(
    ("step_id", "branch"),
    [("route", "medium"), ("route", None), ("approve", "big")],
    ids=["undeclared-branch", "routing-without-branch", "branch-on-plain-step"],
)
def test_a_branch_that_does_not_fit_the_step_is_illegal(step_id: str, branch: str | None) -> None:
    plan = make_plan(
        [step("route"), step("approve")],
        branches={"route": ("big", "small")},
    )
    state, _ = start(plan, "ex-1", None, T0)
    before = snapshot(state)
    with pytest.raises(IllegalTransitionError) as caught:
        apply(plan, state, StepSucceeded(step_id, 1, at(1), None, branch))
    assert not caught.value.stale
    assert state == before


# Retries


def retrying(**policy: object) -> dict[str, object]:
    return {"max_attempts": 5, "interval_seconds": 1, "backoff_rate": 2, "max_delay_seconds": 30, **policy}


def test_retries_wait_interval_times_backoff_and_run_the_next_attempt() -> None:
    plan = make_plan([step("a", timeout_seconds=5, retry=retrying())])
    state, _ = start(plan, "ex-1", None, T0)
    delays = []
    for attempt in range(1, 5):
        state, commands = fail(plan, state, "a", "http.status", retryable=True, t=100 * attempt)
        (timer,) = timers(commands)
        assert state.steps["a"].status is S.RETRY_WAIT
        assert timer == StartTimer(K.RETRY, state.steps["a"].wake_at, "a", attempt)  # type: ignore[arg-type]
        delays.append((timer.at - at(100 * attempt)).total_seconds())
        state, commands = apply(plan, state, TimerFired(K.RETRY, timer.at, "a", attempt))
        assert runs(commands) == {"a": RunStep("a", attempt + 1, None, 5)}
        assert state.steps["a"].status is S.SCHEDULED
        assert state.steps["a"].attempt == attempt + 1
    assert delays == [1, 2, 4, 8]

    state, commands = fail(plan, state, "a", "http.status", retryable=True, t=900)
    assert state.steps["a"].status is S.FAILED
    assert state.steps["a"].attempt == 5
    assert state.status is ExecutionStatus.FAILED
    assert not timers(commands)


def test_the_delay_is_capped_by_max_delay() -> None:
    policy = make_plan([step("a", retry=retrying(max_attempts=10, max_delay_seconds=5))]).steps["a"].retry
    assert [retry_delay(policy, n, execution_id="e", step_id="a") for n in range(1, 7)] == [1, 2, 4, 5, 5, 5]


def test_jitter_takes_a_deterministic_fraction_off_the_delay() -> None:
    plan = make_plan([step("a", retry=retrying(jitter=0.5, interval_seconds=8))])
    state, _ = start(plan, "ex-7", None, T0)
    _, commands = fail(plan, state, "a", "boom", retryable=True, t=0)
    (timer,) = timers(commands)
    fraction = jitter_fraction("ex-7", "a", 1)
    assert 0 <= fraction < 1
    assert (timer.at - at(0)).total_seconds() == pytest.approx(8 - 8 * 0.5 * fraction)
    assert jitter_fraction("ex-7", "a", 1) == fraction
    assert len({jitter_fraction(f"ex-{n}", "a", 1) for n in range(20)}) == 20


def test_retry_after_raises_the_delay_and_is_capped_by_max_delay() -> None:
    plan = make_plan([step("a", retry=retrying())])
    state, _ = start(plan, "ex-1", None, T0)
    _, commands = fail(plan, state, "a", "http.status", retryable=True, retry_after=12, t=0)
    assert timers(commands)[0].at == at(12)
    _, commands = fail(plan, state, "a", "http.status", retryable=True, retry_after=3600, t=0)
    assert timers(commands)[0].at == at(30)
    _, commands = fail(plan, state, "a", "http.status", retryable=True, retry_after=0.5, t=0)
    assert timers(commands)[0].at == at(1)


def test_a_non_retryable_error_is_never_retried() -> None:
    plan = make_plan([step("a", retry=retrying())])
    state, _ = start(plan, "ex-1", None, T0)
    state, commands = fail(plan, state, "a", "node.config", retryable=False)
    assert state.steps["a"].status is S.FAILED
    assert state.steps["a"].attempt == 1
    assert not timers(commands)


@pytest.mark.parametrize(
    ("kind", "retried"),
    [("http", True), ("http.status", True), ("https", False), ("db.lock", False), ("timeout", False)],
)
def test_retry_on_limits_which_kinds_retry(kind: str, retried: bool) -> None:
    plan = make_plan([step("a", retry=retrying(retry_on=["http"]))])
    state, _ = start(plan, "ex-1", None, T0)
    state, commands = fail(plan, state, "a", kind, retryable=True)
    assert (state.steps["a"].status is S.RETRY_WAIT) is retried
    assert bool(timers(commands)) is retried


def test_kind_matching_is_by_prefix_on_dot_boundaries() -> None:
    assert kind_matches(["*"], "anything.at.all")
    assert kind_matches(["http"], "http.status.503")
    assert kind_matches(["http.status"], "http.status")
    assert not kind_matches(["http.status"], "http")
    assert not kind_matches(["http"], "httpx")


# Timeouts and waits


def test_a_timed_out_attempt_is_retried_and_its_late_result_is_stale() -> None:
    plan = make_plan([step("a", timeout_seconds=10, retry=retrying(max_attempts=2))])
    state, _ = start(plan, "ex-1", None, T0)
    state, _ = apply(plan, state, StepStarted("a", 1, at(1)))
    state, commands = apply(plan, state, StepTimedOut("a", 1, at(10)))
    assert state.steps["a"].status is S.RETRY_WAIT
    assert state.steps["a"].error == ErrorInfo("timeout", "attempt 1 ran past its timeout of 10 s", retryable=True)
    (timer,) = timers(commands)
    assert timer.at == at(11)

    state, commands = apply(plan, state, TimerFired(K.RETRY, at(11), "a", 1))
    assert runs(commands)["a"].timeout_seconds == 10
    assert state.steps["a"].run_deadline is None  # it starts at the claim
    state, commands = apply(plan, state, StepStarted("a", 2, at(11)))
    assert state.steps["a"].run_deadline == at(21)
    assert commands == [StartTimer(K.RUN_TIMEOUT, at(21), "a", 2)]
    before = snapshot(state)
    with pytest.raises(IllegalTransitionError) as caught:
        apply(plan, state, StepSucceeded("a", 1, at(12), "late"))
    assert caught.value.stale
    assert state == before

    state, commands = apply(plan, state, StepTimedOut("a", 2, at(21)))
    assert state.steps["a"].status is S.TIMED_OUT
    assert state.status is ExecutionStatus.FAILED
    assert of_type(commands, FinishExecution)[0].error.kind == "timeout"


def test_a_timeout_not_in_retry_on_is_not_retried() -> None:
    plan = make_plan([step("a", retry=retrying(retry_on=["http"]))])
    state, _ = start(plan, "ex-1", None, T0)
    state, _ = apply(plan, state, StepTimedOut("a", 1, at(5)))
    assert state.steps["a"].status is S.TIMED_OUT


def test_a_suspended_step_waits_without_a_worker_and_succeeds_when_woken() -> None:
    plan = make_plan([step("delay"), step("after", "delay")])
    state, _ = start(plan, "ex-1", None, T0)
    state, _ = apply(plan, state, StepStarted("delay", 1, at(1)))
    state, commands = apply(plan, state, StepSuspended("delay", 1, at(1), until=at(3600), output={"slept": True}))
    assert state.steps["delay"].status is S.WAITING
    assert state.steps["delay"].wake_at == at(3600)
    assert commands == [StartTimer(K.WAKE, at(3600), "delay", 1)]

    state, commands = apply(plan, state, TimerFired(K.WAKE, at(3600), "delay", 1))
    assert state.steps["delay"].status is S.SUCCEEDED
    assert state.steps["delay"].output == {"slept": True}
    assert runs(commands)["after"].input == {"slept": True}


def test_a_routing_step_cannot_suspend() -> None:
    plan = make_plan([step("route")], branches={"route": ("a", "b")})
    state, _ = start(plan, "ex-1", None, T0)
    with pytest.raises(IllegalTransitionError):
        apply(plan, state, StepSuspended("route", 1, at(1), until=at(5)))


# Catch routes


def test_a_caught_failure_routes_to_its_handler_with_the_error_in_scope() -> None:
    plan = make_plan(
        [
            step("fetch", catch=[{"errors": ["http"], "next": "report"}]),
            step("use", "fetch"),
            step("report", input={"what": "error.kind", "who": "error.step"}),
        ]
    )
    state, _ = start(plan, "ex-1", None, T0)
    assert state.steps["report"].status is S.PENDING  # it waits on its error edge
    state, commands = fail(plan, state, "fetch", "http.status")

    assert state.steps["fetch"].status is S.FAILED
    assert state.steps["fetch"].caught_by == "report"
    assert state.steps["use"].status is S.SKIPPED
    assert runs(commands) == {"report": RunStep("report", 1, {"what": "http.status", "who": "fetch"}, None)}
    assert state.status is ExecutionStatus.RUNNING

    state, commands = succeed(plan, state, "report", "reported")
    assert commands == [FinishExecution(ExecutionStatus.SUCCEEDED, {"report": "reported"})]


def test_a_handler_without_input_mapping_gets_the_error_view() -> None:
    plan = make_plan([step("a", catch=[{"next": "h"}]), step("h")])
    state, _ = start(plan, "ex-1", {"k": 1}, T0)
    _, commands = fail(plan, state, "a", "db.down")
    assert runs(commands)["h"].input == {"step": "a", "kind": "db.down", "message": "db.down happened", "details": {}}


def test_a_step_with_several_sources_gets_each_active_source_keyed_by_id() -> None:
    plan = make_plan([step("a", catch=[{"next": "h"}]), step("b"), step("h", "b"), step("z", "b")])
    state, _ = start(plan, "ex-1", None, T0)
    state, _ = succeed(plan, state, "b", {"b": 1})
    _, commands = fail(plan, state, "a", "db.down")
    assert runs(commands)["h"].input == {
        "b": {"b": 1},
        "a": {"step": "a", "kind": "db.down", "message": "db.down happened", "details": {}},
    }


def test_a_handler_is_skipped_when_its_source_succeeds() -> None:
    plan = make_plan([step("a", catch=[{"next": "h"}]), step("b", "a"), step("h")])
    state, _ = start(plan, "ex-1", None, T0)
    state, commands = succeed(plan, state, "a", 1)
    assert state.steps["h"].status is S.SKIPPED
    assert list(runs(commands)) == ["b"]


def test_catch_applies_after_retries_are_exhausted_and_to_timeouts() -> None:
    plan = make_plan(
        [step("a", retry=retrying(max_attempts=2), catch=[{"errors": ["timeout"], "next": "h"}]), step("h")]
    )
    state, _ = start(plan, "ex-1", None, T0)
    state, commands = apply(plan, state, StepTimedOut("a", 1, at(1)))
    assert state.steps["a"].status is S.RETRY_WAIT
    state, _ = apply(plan, state, timers(commands)[0].fired())
    state, commands = apply(plan, state, StepTimedOut("a", 2, at(9)))
    assert state.steps["a"].status is S.TIMED_OUT
    assert state.steps["a"].caught_by == "h"
    assert runs(commands)["h"].input["kind"] == "timeout"


def test_an_uncaught_failure_fails_the_execution_cancelling_attempts_and_skipping_pending_steps() -> None:
    plan = make_plan(
        [
            step("bad", catch=[{"errors": ["http"], "next": "h"}]),
            step("busy"),
            step("queued"),
            step("later", "busy"),
            step("h"),
        ]
    )
    state, _ = start(plan, "ex-1", None, T0)
    state, _ = apply(plan, state, StepStarted("busy", 1, at(1)))
    state, commands = fail(plan, state, "bad", "db.down", t=2)

    assert state.status is ExecutionStatus.FAILED
    assert state.finished_at == at(2)
    assert sorted(of_type(commands, CancelStep), key=lambda c: c.step_id) == [
        CancelStep("busy", 1),
        CancelStep("queued", 1),
    ]
    (finish,) = of_type(commands, FinishExecution)
    assert finish.status is ExecutionStatus.FAILED
    assert finish.error == ErrorInfo(
        "db.down", "step 'bad' failed: db.down happened", step_id="bad", attempt=1, node_type="test.node"
    )
    assert {k: r.status for k, r in state.steps.items()} == {
        "bad": S.FAILED,
        "busy": S.CANCELLED,
        "queued": S.CANCELLED,
        "later": S.SKIPPED,
        "h": S.SKIPPED,
    }
    assert state.open_steps == 0


# Expressions that fail


def test_an_input_expression_error_fails_that_step_without_retry_and_catch_applies() -> None:
    plan = make_plan(
        [
            step("a"),
            step(
                "b", "a", input={"n": "abs(steps.a)"}, retry=retrying(), catch=[{"errors": ["expression"], "next": "h"}]
            ),
            step("h", input="error.kind"),
        ]
    )
    state, _ = start(plan, "ex-1", None, T0)
    state, commands = succeed(plan, state, "a", "not a number")
    assert state.steps["b"].status is S.FAILED
    assert state.steps["b"].attempt == 1
    assert state.steps["b"].error is not None
    assert state.steps["b"].error.kind == "expression"
    assert not state.steps["b"].error.retryable
    assert "n:" in state.steps["b"].error.message
    assert runs(commands) == {"h": RunStep("h", 1, "expression", None)}


def test_a_root_whose_input_fails_fails_the_execution_at_start() -> None:
    plan = make_plan([step("a", input="abs(input)"), step("b")], timeout_seconds=60)
    state, commands = start(plan, "ex-1", {"not": "a number"}, T0)
    assert state.status is ExecutionStatus.FAILED
    assert state.steps["a"].status is S.FAILED
    assert state.steps["b"].status is S.SKIPPED
    assert [type(c) for c in commands] == [FinishExecution]


def test_a_step_made_ready_in_the_same_transition_that_fails_the_execution_gets_no_run() -> None:
    plan = make_plan([step("a"), step("ok", "a"), step("bad", "a", input="abs(steps.a)")])
    state, _ = start(plan, "ex-1", None, T0)
    state, commands = succeed(plan, state, "a", "text")
    assert state.status is ExecutionStatus.FAILED
    assert state.steps["ok"].status is S.SKIPPED
    assert state.steps["ok"].attempt == 0
    assert not runs(commands)
    assert not of_type(commands, CancelStep)


def test_the_output_expression_is_evaluated_over_the_final_scope() -> None:
    plan = make_plan(
        [step("a"), step("b", "a")],
        output={"total": "steps.b.total", "order": "input.order_id", "count": "length(keys(steps))"},
    )
    state, _ = start(plan, "ex-1", {"order_id": 3}, T0)
    state, _ = succeed(plan, state, "a", {"x": 1})
    state, commands = succeed(plan, state, "b", {"total": 10})
    assert commands == [FinishExecution(ExecutionStatus.SUCCEEDED, {"total": 10, "order": 3, "count": 2})]
    assert state.output == {"total": 10, "order": 3, "count": 2}

    plan = make_plan([step("a")], output="steps.a.items[0]")
    state, _ = start(plan, "ex-1", None, T0)
    state, _ = succeed(plan, state, "a", {"items": ["first"]})
    assert state.output == "first"


def test_an_output_expression_error_fails_the_execution() -> None:
    plan = make_plan([step("a")], output={"n": "abs(steps.a)"})
    state, _ = start(plan, "ex-1", None, T0)
    state, commands = succeed(plan, state, "a", "text")
    assert state.status is ExecutionStatus.FAILED
    assert state.steps["a"].status is S.SUCCEEDED
    (finish,) = commands
    assert isinstance(finish, FinishExecution)
    assert finish.status is ExecutionStatus.FAILED
    assert finish.error is not None
    assert finish.error.kind == "expression"


# Cancel and execution timeout

MIXED = [
    step("running"),
    step("scheduled"),
    step("waiting"),
    step("retrying", retry=retrying()),
    step("done"),
    step("pending", "running"),
]


def mixed_state() -> tuple[Plan, ExecutionState]:
    plan = make_plan(MIXED, timeout_seconds=600)
    state, _ = start(plan, "ex-1", None, T0)
    state, _ = apply(plan, state, StepStarted("running", 1, at(1)))
    state, _ = apply(plan, state, StepSuspended("waiting", 1, at(1), until=at(100)))
    state, _ = fail(plan, state, "retrying", "http", retryable=True)
    state, _ = succeed(plan, state, "done", 1)
    statuses = {k: r.status for k, r in state.steps.items()}
    assert statuses == {
        "running": S.RUNNING,
        "scheduled": S.SCHEDULED,
        "waiting": S.WAITING,
        "retrying": S.RETRY_WAIT,
        "done": S.SUCCEEDED,
        "pending": S.PENDING,
    }
    return plan, state


@pytest.mark.parametrize(
    ("event", "status", "kind"),
    [
        (CancelRequested(at(5), "user asked"), ExecutionStatus.CANCELLED, "cancelled"),
        (TimerFired(K.EXECUTION_TIMEOUT, at(5)), ExecutionStatus.TIMED_OUT, "timeout"),
    ],
    ids=["cancel", "execution-timeout"],
)
def test_cancel_and_execution_timeout_stop_every_step(event: object, status: ExecutionStatus, kind: str) -> None:
    plan, state = mixed_state()
    after, commands = apply(plan, state, event)  # type: ignore[arg-type]
    assert after.status is status
    assert after.finished_at == at(5)
    assert {k: r.status for k, r in after.steps.items()} == {
        "running": S.CANCELLED,
        "scheduled": S.CANCELLED,
        "waiting": S.CANCELLED,
        "retrying": S.CANCELLED,
        "done": S.SUCCEEDED,
        "pending": S.SKIPPED,
    }
    assert set(of_type(commands, CancelStep)) == {CancelStep("running", 1), CancelStep("scheduled", 1)}
    (finish,) = of_type(commands, FinishExecution)
    assert finish.status is status
    assert finish.error.kind == kind

    with pytest.raises(IllegalTransitionError):
        apply(plan, after, event)  # type: ignore[arg-type]
    with pytest.raises(IllegalTransitionError) as late:
        apply(plan, after, TimerFired(K.RETRY, at(6), "retrying", 1))
    assert late.value.stale


def test_a_pending_execution_can_be_cancelled() -> None:
    plan = make_plan([step("a"), step("b", "a")])
    state, commands = apply(plan, prepare(plan, "ex-1", None), CancelRequested(T0))
    assert state.status is ExecutionStatus.CANCELLED
    assert all(run.status is S.SKIPPED for run in state.steps.values())
    assert commands == [FinishExecution(ExecutionStatus.CANCELLED, None, ErrorInfo("cancelled", "cancelled"))]


def test_cancel_is_illegal_but_not_stale_and_a_late_execution_timeout_is_stale_on_a_finished_execution() -> None:
    plan = make_plan([step("a")])
    state, _ = start(plan, "ex-1", None, T0)
    state, _ = succeed(plan, state, "a", 1)
    assert state.status is ExecutionStatus.SUCCEEDED
    with pytest.raises(IllegalTransitionError) as cancel:
        apply(plan, state, CancelRequested(at(9)))
    assert not cancel.value.stale
    with pytest.raises(IllegalTransitionError) as timeout:
        apply(plan, state, TimerFired(K.EXECUTION_TIMEOUT, at(9)))
    assert timeout.value.stale


# Illegal and stale events


def illegal_cases() -> list[tuple[str, object, bool]]:
    return [
        ("unknown step", StepStarted("nope", 1, at(1)), False),
        ("attempt never issued", StepSucceeded("a", 2, at(1)), False),
        ("attempt zero", StepStarted("a", 0, at(1)), False),
        ("step not scheduled yet", StepStarted("b", 1, at(1)), False),
        ("started twice", StepStarted("r", 1, at(1)), True),
        ("retry timer of a running step", TimerFired(K.RETRY, at(1), "r", 1), True),
        ("run timeout of a scheduled step", TimerFired(K.RUN_TIMEOUT, at(1), "a", 1), True),
        ("queue timeout of a running step", TimerFired(K.SCHEDULE_TIMEOUT, at(1), "r", 1), True),
        ("wake timer of a running step", TimerFired(K.WAKE, at(1), "r", 1), True),
        ("step timer without a step", TimerFired(K.RETRY, at(1)), False),
        ("execution timeout without a deadline", TimerFired(K.EXECUTION_TIMEOUT, at(1)), False),
        ("result of a waiting step", StepSucceeded("w", 1, at(1)), True),
        ("timeout of a waiting step", StepTimedOut("w", 1, at(1)), True),
        ("duplicate success", StepSucceeded("done", 1, at(1)), True),
        ("duplicate suspend", StepSuspended("w", 1, at(1), until=at(9)), True),
        ("a second execution start", ExecutionStarted(at(1)), False),
    ]


@pytest.mark.parametrize(("name", "event", "stale"), illegal_cases(), ids=[c[0] for c in illegal_cases()])
def test_illegal_events_raise_and_leave_the_state_unchanged(name: str, event: object, stale: bool) -> None:
    plan = make_plan([step("a"), step("b", "a"), step("r"), step("w"), step("done")])
    state, _ = start(plan, "ex-1", None, T0)
    state, _ = apply(plan, state, StepStarted("r", 1, at(1)))
    state, _ = apply(plan, state, StepSuspended("w", 1, at(1), until=at(9)))
    state, _ = succeed(plan, state, "done", 1)
    before = snapshot(state)

    with pytest.raises(IllegalTransitionError) as caught:
        apply(plan, state, event)  # type: ignore[arg-type]
    assert caught.value.stale is stale, name
    assert state == before


def test_events_after_the_execution_ended_are_stale() -> None:
    plan = make_plan([step("a"), step("b")])
    state, _ = start(plan, "ex-1", None, T0)
    state, _ = apply(plan, state, CancelRequested(at(1)))
    for event in (
        StepStarted("a", 1, at(2)),
        StepSucceeded("b", 1, at(2)),
        StepFailed("a", 1, at(2), ErrorInfo("x", "y")),
    ):
        with pytest.raises(IllegalTransitionError) as caught:
            apply(plan, state, event)
        assert caught.value.stale


def test_apply_never_mutates_the_state_it_is_given() -> None:
    plan = make_plan([step("a"), step("b", "a")])
    state, _ = start(plan, "ex-1", None, T0)
    before = snapshot(state)
    steps_object = state.steps
    after, _ = succeed(plan, state, "a", 1)
    assert state == before
    assert state.steps is steps_object
    assert after.steps is not steps_object


def test_a_state_without_a_counted_open_steps_is_counted_on_the_next_event() -> None:
    plan = make_plan([step("a")])
    state, _ = start(plan, "ex-1", None, T0)
    state = replace(state, open_steps=None)
    state, _ = succeed(plan, state, "a", 1)
    assert state.status is ExecutionStatus.SUCCEEDED
    assert state.open_steps == 0


# The documentation


def test_the_documented_transition_tables_are_the_ones_in_the_code() -> None:
    text = (ROOT / "docs" / "engine.md").read_text(encoding="utf-8")
    assert render_markdown(STEP_TRANSITIONS) in text
    assert render_markdown(EXECUTION_TRANSITIONS) in text


def test_every_status_is_documented() -> None:
    text = (ROOT / "docs" / "engine.md").read_text(encoding="utf-8")
    for status in [*ExecutionStatus, *StepStatus]:
        assert f"| `{status.value}` |" in text, status
