"""One transition in progress: a private, mutable draft of the next state.

``wirehub.engine.execution.machine`` validates an event, then lets a ``Draft`` work out its
consequences: a step finishing resolves the edges to its successors, which
may schedule or skip them, which may resolve further edges, and so on. The
draft copies the steps mapping once and never touches the state it started
from; ``result`` freezes it into the next ``ExecutionState``.

The work per event is proportional to the edges it resolves, never to the
number of steps: each step counts its resolved incoming edges
(``StepRun.resolved_edges``) and the execution counts its open steps
(``ExecutionState.open_steps``). Only the end of an execution looks at every
step, once.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from wirehub.engine.execution.records import evolve, execution_state
from wirehub.engine.execution.retry import matching_catch, retry_delay, will_retry
from wirehub.engine.execution.scope import execution_output, step_input, step_scope
from wirehub.engine.execution.state import (
    CancelStep,
    Command,
    ErrorInfo,
    ExecutionState,
    ExecutionStatus,
    FinishExecution,
    RunStep,
    StartTimer,
    StepRun,
    StepStatus,
)
from wirehub.engine.plan import EdgeKind, Plan, StepPlan
from wirehub_sdk import ExpressionError

_SUCCEEDED = StepStatus.SUCCEEDED
_PENDING = StepStatus.PENDING
_ATTEMPT_OPEN = frozenset({StepStatus.SCHEDULED, StepStatus.RUNNING})


def edge_active(kind: EdgeKind, branch: str | None, target: str, source: StepRun) -> bool:
    """Whether an edge from a terminal ``source`` lets ``target`` run."""
    if kind is EdgeKind.OK:
        return source.status is _SUCCEEDED
    if kind is EdgeKind.BRANCH:
        return source.status is _SUCCEEDED and source.branch == branch
    return source.caught_by == target


class Draft:
    """The next state of one execution, being worked out for one event."""

    __slots__ = (
        "_fresh",
        "_runs",
        "_terminated",
        "base",
        "commands",
        "error",
        "finished_at",
        "now",
        "open_steps",
        "output",
        "plan",
        "started_at",
        "status",
        "steps",
    )

    def __init__(self, plan: Plan, state: ExecutionState, now: datetime) -> None:
        self.plan = plan
        self.base = state
        self.now = now
        self.steps = state.steps.copy()
        self.status = state.status
        self.output = state.output
        self.error = state.error
        self.started_at = state.started_at
        self.finished_at = state.finished_at
        self.open_steps = (
            state.open_steps
            if state.open_steps is not None
            else sum(1 for run in state.steps.values() if not run.status.terminal)
        )
        self.commands: list[Command] = []
        self._runs: list[RunStep] = []
        self._fresh: set[str] = set()
        self._terminated: deque[str] = deque()

    # Steps

    def finish(self, step_id: str, run: StepRun) -> None:
        """Records that a step reached a terminal status; its successors are looked at in ``settle``."""
        self.steps[step_id] = run
        self.open_steps -= 1
        self._terminated.append(step_id)

    def schedule(self, step_id: str, attempt: int, run: StepRun | None = None) -> None:
        """Schedules ``attempt`` of a step, or fails it when its input cannot be evaluated.

        ``run`` is the step's run to start from, when the draft does not hold it yet.
        """
        step = self.plan.steps[step_id]
        if run is None:
            run = self.steps[step_id]
        scope = step_scope(step, self.steps, self.base.input)
        try:
            data = step_input(step, scope)
        except ExpressionError as exc:
            error = ErrorInfo(kind="expression", message=f"input of step '{step_id}': {exc}", details=exc.details)
            failed = evolve(run, status=StepStatus.FAILED, attempt=attempt, finished_at=self.now, wake_at=None)
            self.fail(step_id, failed, error)
            return
        if run.status is _PENDING:
            self._fresh.add(step_id)
        self.steps[step_id] = evolve(run, status=StepStatus.SCHEDULED, attempt=attempt, wake_at=None)
        deadline = self.now + timedelta(seconds=step.timeout_seconds) if step.timeout_seconds else None
        self._runs.append(RunStep(step_id, attempt, data, deadline))

    def attempt_failed(self, step_id: str, run: StepRun, error: ErrorInfo, terminal: StepStatus) -> None:
        """The current attempt failed: wait for a retry, or end the step ``terminal``."""
        policy = self.plan.steps[step_id].retry
        if will_retry(policy, error, run.attempt):
            delay = retry_delay(
                policy,
                run.attempt,
                execution_id=self.base.execution_id,
                step_id=step_id,
                retry_after=error.retry_after,
            )
            at = self.now + timedelta(seconds=delay)
            self.steps[step_id] = evolve(run, status=StepStatus.RETRY_WAIT, error=error, wake_at=at)
            self.commands.append(StartTimer(step_id, run.attempt, at))
        else:
            self.fail(step_id, evolve(run, status=terminal, finished_at=self.now), error)

    def fail(self, step_id: str, run: StepRun, error: ErrorInfo) -> None:
        """A step failed for good: route it to its catch handler, or fail the execution."""
        route = matching_catch(self.plan.steps[step_id].catch, error.kind)
        self.finish(step_id, evolve(run, error=error, caught_by=route.next if route else None))
        if route is None:
            message = f"step '{step_id}' failed: {error.message}"
            details = {"step": step_id, "attempt": run.attempt}
            self.end(ExecutionStatus.FAILED, ErrorInfo(kind=error.kind, message=message, details=details))

    # Propagation

    def settle(self) -> None:
        """Resolves the outgoing edges of every step that became terminal, transitively."""
        steps = self.steps
        plan_steps = self.plan.steps
        running = ExecutionStatus.RUNNING
        while self._terminated and self.status is running:
            source = self._terminated.popleft()
            for edge in plan_steps[source].outgoing:
                target = steps[edge.target]
                step = plan_steps[edge.target]
                counted = evolve(target, resolved_edges=target.resolved_edges + 1)
                if counted.resolved_edges < len(step.incoming):
                    steps[edge.target] = counted
                    continue
                self._ready(step, counted)
                if self.status is not running:
                    return
        if self.status is running and self.open_steps == 0:
            self._complete()

    def _ready(self, step: StepPlan, run: StepRun) -> None:
        """Every source of ``step`` is terminal: run it if an incoming edge is active, else skip it."""
        steps = self.steps
        for edge in step.incoming:
            if edge_active(edge.kind, edge.branch, step.id, steps[edge.source]):
                self.schedule(step.id, 1, run)
                return
        self.finish(step.id, evolve(run, status=StepStatus.SKIPPED, finished_at=self.now))

    def _complete(self) -> None:
        try:
            output = execution_output(self.plan, self.steps, self.base.input)
        except ExpressionError as exc:
            error = ErrorInfo(kind="expression", message=f"output of the execution: {exc}", details=exc.details)
            self.status = ExecutionStatus.FAILED
            self.error = error
        else:
            self.status = ExecutionStatus.SUCCEEDED
            self.output = output
        self.finished_at = self.now

    # The execution

    def end(self, status: ExecutionStatus, error: ErrorInfo) -> None:
        """Ends the execution early: every open attempt is cancelled, every pending step skipped.

        A step scheduled earlier in this same transition never got its
        ``RunStep`` out, so it ends ``skipped`` like a pending one.
        """
        self.status = status
        self.error = error
        self.finished_at = self.now
        now = self.now
        for step_id, run in self.steps.items():
            if run.status.terminal:
                continue
            if run.status is _PENDING or step_id in self._fresh:
                self.steps[step_id] = evolve(run, status=StepStatus.SKIPPED, attempt=0, finished_at=now)
                continue
            if run.status in _ATTEMPT_OPEN:
                self.commands.append(CancelStep(step_id, run.attempt))
            self.steps[step_id] = evolve(run, status=StepStatus.CANCELLED, finished_at=now, wake_at=None)
        self.open_steps = 0

    def result(self) -> tuple[ExecutionState, list[Command]]:
        """The next state and the commands to carry out once it is saved."""
        commands = self.commands
        if self.status is ExecutionStatus.RUNNING:
            commands.extend(self._runs)
        elif not self.base.status.terminal:
            commands.append(FinishExecution(self.status, self.output, self.error))
        state = execution_state(
            self.base.execution_id,
            self.status,
            self.base.input,
            self.steps,
            self.output,
            self.error,
            self.started_at,
            self.finished_at,
            self.open_steps,
        )
        return state, commands
