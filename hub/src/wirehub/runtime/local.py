"""Drives one execution to its end inside this process.

The embedded way to run: the engine decides, this loop carries out its
commands (attempts as asyncio tasks, timers of every kind as sleeping
tasks) and feeds the resulting events back. An attempt is claimed the moment
its task begins: ``StepStarted`` carries that instant, and the engine starts
the attempt's run-timeout timer from it. It keeps no state of its own beyond the engine's.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from wirehub.engine import (
    CancelRequested,
    CancelStep,
    Command,
    ErrorInfo,
    Event,
    ExecutionStarted,
    ExecutionState,
    ExecutionStatus,
    FinishExecution,
    IllegalTransitionError,
    Plan,
    RunStep,
    StartTimer,
    StepStarted,
    apply,
    start,
)
from wirehub.runtime.attempts import Attempt, HandedBack
from wirehub.runtime.executor import StepEnvironment, run_attempt

Observer = Callable[[Event, ExecutionState], Awaitable[None] | None]


@dataclass(frozen=True, slots=True)
class ExecutionResult:
    """How an execution ended."""

    execution_id: str
    status: ExecutionStatus
    output: Any
    error: ErrorInfo | None
    state: ExecutionState

    @property
    def succeeded(self) -> bool:
        return self.status is ExecutionStatus.SUCCEEDED


@dataclass
class LocalExecution:
    """One execution driven in this process. Use ``run()``; ``cancel()`` from elsewhere."""

    plan: Plan
    env: StepEnvironment
    input: Any = None
    execution_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    observer: Observer | None = None
    _events: asyncio.Queue[Event] = field(default_factory=asyncio.Queue, init=False)
    _tasks: dict[tuple[str, int], asyncio.Task[None]] = field(default_factory=dict, init=False)
    _timers: set[asyncio.Task[None]] = field(default_factory=set, init=False)

    def cancel(self, reason: str = "cancelled") -> None:
        """Asks the execution to stop; running attempts are cancelled."""
        self._events.put_nowait(CancelRequested(self.env.clock(), reason))

    async def run(self) -> ExecutionResult:
        """Runs the execution until it reaches a terminal status."""
        now = self.env.clock()
        state, commands = start(self.plan, self.execution_id, self.input, now)
        await self._notify(ExecutionStarted(now), state)
        finished = self._carry_out(commands)
        try:
            while finished is None:
                event = await self._events.get()
                try:
                    state, commands = apply(self.plan, state, event)
                except IllegalTransitionError as exc:
                    if not exc.stale:
                        raise
                    continue
                await self._notify(event, state)
                finished = self._carry_out(commands)
        finally:
            await self._stop_all()
        return ExecutionResult(self.execution_id, finished.status, finished.output, finished.error, state)

    async def _notify(self, event: Event, state: ExecutionState) -> None:
        if self.observer is not None:
            result = self.observer(event, state)
            if result is not None:
                await result

    def _carry_out(self, commands: list[Command]) -> FinishExecution | None:
        finished: FinishExecution | None = None
        for command in commands:
            if isinstance(command, RunStep):
                self._start_attempt(command)
            elif isinstance(command, StartTimer):
                self._after(command)
            elif isinstance(command, CancelStep):
                self._cancel_attempt(command.step_id, command.attempt)
            elif isinstance(command, FinishExecution):
                finished = command
        return finished

    def _start_attempt(self, command: RunStep) -> None:
        step = self.plan.steps[command.step_id]

        async def attempt() -> None:
            # The claim: the attempt's run deadline starts now, not when it was scheduled.
            claimed_at = self.env.clock()
            self._events.put_nowait(StepStarted(command.step_id, command.attempt, claimed_at))
            claimed = Attempt(self.execution_id, command.attempt, command.input, claimed_at)
            outcome = await run_attempt(self.env, step, claimed)
            if isinstance(outcome, HandedBack):  # no other process here to take it: the retry policy decides
                outcome = outcome.as_failure(self.env.clock())
            self._events.put_nowait(outcome)

        task = asyncio.create_task(attempt(), name=f"{command.step_id}#{command.attempt}")
        self._tasks[(command.step_id, command.attempt)] = task
        task.add_done_callback(lambda _: self._tasks.pop((command.step_id, command.attempt), None))

    def _cancel_attempt(self, step_id: str, attempt: int) -> None:
        task = self._tasks.pop((step_id, attempt), None)
        if task is not None:
            task.cancel()

    def _after(self, timer: StartTimer) -> None:
        """Delivers the timer's ``TimerFired`` once it is due, stamped with the instant it fired."""

        async def fire() -> None:
            delay = (timer.at - self.env.clock()).total_seconds()
            if delay > 0:
                await asyncio.sleep(delay)
            self._events.put_nowait(timer.fired(max(timer.at, self.env.clock())))

        task = asyncio.create_task(fire())
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    async def _stop_all(self) -> None:
        tasks = [*self._tasks.values(), *self._timers]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
