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

from msgspec.structs import replace

from wirehub.engine.execution.commands import CancelStep, Command, FinishExecution, RunStep, StartTimer
from wirehub.engine.execution.events import TimerKind
from wirehub.engine.execution.retry import matching_catch, retry_delay, will_retry
from wirehub.engine.execution.scope import (
    InputTooLargeError,
    TransitionBudget,
    default_input,
    evaluate_mapping,
    execution_output,
    step_scope,
)
from wirehub.engine.execution.state import ErrorInfo, ExecutionState, ExecutionStatus, StepRun, StepStatus
from wirehub.engine.language import limits
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
        "_budget",
        "_fresh",
        "_runs",
        "_terminated",
        "base",
        "commands",
        "deadline",
        "error",
        "finished_at",
        "now",
        "open_steps",
        "output",
        "output_bytes",
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
        self.deadline = state.deadline
        self.output_bytes = state.output_bytes
        self.open_steps = (
            state.open_steps
            if state.open_steps is not None
            else sum(1 for run in state.steps.values() if not run.status.terminal)
        )
        self.commands: list[Command] = []
        self._runs: list[Command] = []
        self._fresh: set[str] = set()
        self._terminated: deque[str] = deque()
        self._budget: TransitionBudget | None = None

    @property
    def budget(self) -> TransitionBudget:
        """The evaluation budget of this transition, made on first use."""
        if self._budget is None:
            self._budget = TransitionBudget()
        return self._budget

    # Steps

    def finish(self, step_id: str, run: StepRun) -> None:
        """Records that a step reached a terminal status; its successors are looked at in ``settle``."""
        self.steps[step_id] = run
        self.open_steps -= 1
        self._terminated.append(step_id)

    def schedule(self, step_id: str, attempt: int, run: StepRun | None = None) -> None:
        """Schedules ``attempt`` of a step, or fails it when its input cannot be built.

        ``run`` is the step's run to start from, when the draft does not hold it yet.
        """
        step = self.plan.steps[step_id]
        if run is None:
            run = self.steps[step_id]
        try:
            if step.input is None:
                data = default_input(step, self.steps, self.base.input)
            else:
                data = evaluate_mapping(step.input, step_scope(step, self.steps, self.base.input), self.budget)
        except ExpressionError as exc:
            error = ErrorInfo(kind="expression", message=f"input of step '{step_id}': {exc}", details=exc.details)
            self._input_failed(step_id, run, attempt, error)
            return
        except InputTooLargeError as exc:
            error = ErrorInfo(kind="input.too_large", message=f"input of step '{step_id}': {exc}")
            self._input_failed(step_id, run, attempt, error)
            return
        if run.status is _PENDING:
            self._fresh.add(step_id)
        queue_deadline = None
        if step.queue_timeout_seconds:
            queue_deadline = self.now + timedelta(seconds=step.queue_timeout_seconds)
        self.steps[step_id] = replace(
            run, status=StepStatus.SCHEDULED, attempt=attempt, wake_at=None, queue_deadline=queue_deadline
        )
        self._runs.append(RunStep(step_id, attempt, data, step.timeout_seconds))
        if queue_deadline is not None:
            self._runs.append(StartTimer(TimerKind.SCHEDULE_TIMEOUT, queue_deadline, step_id, attempt))

    def _input_failed(self, step_id: str, run: StepRun, attempt: int, error: ErrorInfo) -> None:
        failed = replace(run, status=StepStatus.FAILED, attempt=attempt, finished_at=self.now, wake_at=None)
        self.fail(step_id, failed, error)

    def attempt_failed(self, step_id: str, run: StepRun, error: ErrorInfo, terminal: StepStatus) -> None:
        """The current attempt failed: wait for a retry, or end the step ``terminal``."""
        policy = self.plan.steps[step_id].retry
        counted = run.attempt - run.attempts_before  # a retried execution's steps count their attempts afresh
        if will_retry(policy, error, counted):
            delay = retry_delay(
                policy,
                counted,
                execution_id=self.base.execution_id,
                step_id=step_id,
                retry_after=error.retry_after,
            )
            at = self.now + timedelta(seconds=delay)
            self.steps[step_id] = replace(
                run, status=StepStatus.RETRY_WAIT, error=error, wake_at=at, queue_deadline=None, run_deadline=None
            )
            self.commands.append(StartTimer(TimerKind.RETRY, at, step_id, run.attempt))
        else:
            self.fail(step_id, replace(run, status=terminal, finished_at=self.now), error)

    def fail(self, step_id: str, run: StepRun, error: ErrorInfo) -> None:
        """A step failed for good: route it to its catch handler, or fail the execution."""
        route = matching_catch(self.plan.steps[step_id].catch, error.kind)
        self.finish(
            step_id,
            replace(
                run,
                error=error,
                caught_by=route.next if route else None,
                queue_deadline=None,
                run_deadline=None,
            ),
        )
        if route is None:
            # The execution's error is the step's, in full (kind, retryability, details), and says where it was.
            failure = replace(
                error,
                message=f"step '{step_id}' failed: {error.message}",
                step_id=step_id,
                attempt=run.attempt,
                node_type=self.plan.steps[step_id].type,
            )
            self.end(ExecutionStatus.FAILED, failure)

    def retain(self, size: int) -> bool:
        """Counts ``size`` more bytes of retained output; ``False`` (nothing counted) past the execution's limit."""
        if self.output_bytes + size > limits.MAX_EXECUTION_OUTPUT_BYTES:
            return False
        self.output_bytes += size
        return True

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
                counted = replace(target, resolved_edges=target.resolved_edges + 1)
                if counted.resolved_edges < len(step.incoming):
                    steps[edge.target] = counted
                    continue
                self.ready(step, counted)
                if self.status is not running:
                    return
        if self.status is running and self.open_steps == 0:
            self._complete()

    def ready(self, step: StepPlan, run: StepRun) -> None:
        """Every source of ``step`` is terminal: run its next attempt if an incoming edge is active, else skip it."""
        steps = self.steps
        for edge in step.incoming:
            if edge_active(edge.kind, edge.branch, step.id, steps[edge.source]):
                self.schedule(step.id, run.attempt + 1, run)
                return
        self.finish(step.id, replace(run, status=StepStatus.SKIPPED, finished_at=self.now))

    def _complete(self) -> None:
        try:
            output = execution_output(self.plan, self.steps, self.base.input, self.budget)
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
                # A step scheduled in this transition never got its attempt: it keeps the number it had.
                attempt = run.attempt - 1 if step_id in self._fresh else run.attempt
                self.steps[step_id] = replace(
                    run, status=StepStatus.SKIPPED, attempt=attempt, finished_at=now, queue_deadline=None
                )
                continue
            if run.status in _ATTEMPT_OPEN:
                self.commands.append(CancelStep(step_id, run.attempt))
            self.steps[step_id] = replace(
                run,
                status=StepStatus.CANCELLED,
                finished_at=now,
                wake_at=None,
                queue_deadline=None,
                run_deadline=None,
            )
        self.open_steps = 0

    def result(self) -> tuple[ExecutionState, list[Command]]:
        """The next state and the commands to carry out once it is saved."""
        commands = self.commands
        if self.status is ExecutionStatus.RUNNING:
            commands.extend(self._runs)
        elif not self.base.status.terminal:
            commands.append(FinishExecution(self.status, self.output, self.error))
        state = ExecutionState(
            self.base.execution_id,
            self.status,
            self.base.input,
            self.steps,
            self.output,
            self.error,
            self.started_at,
            self.finished_at,
            self.open_steps,
            self.deadline,
            self.output_bytes,
        )
        return state, commands
