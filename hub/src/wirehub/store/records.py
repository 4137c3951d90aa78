"""What the execution store hands out: dispatches, claims, transition results and views (msgspec Structs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from wirehub.engine import ExecutionState, StepPlan


class Dispatch(msgspec.Struct, frozen=True):
    """What a broker message carries: one attempt to claim and run. Tiny on purpose: no input.

    Attributes:
        dispatch_id: The outbox row it came from.
        execution_id: The execution.
        step_id: The step.
        attempt: The attempt; a claim for any other attempt is stale.
    """

    dispatch_id: UUID
    execution_id: UUID
    step_id: str
    attempt: int


class Claim(msgspec.Struct, frozen=True):
    """A fenced claim of one attempt: only a result that carries ``lease_token`` counts.

    Attributes:
        execution_id: The execution.
        step_id: The step.
        attempt: The attempt.
        lease_token: The fencing token; a new claim of the same attempt gets another.
        lease_expires_at: When the claim lapses unless renewed (store clock).
        input: The attempt's evaluated input.
        claimed_at: The claim instant (store clock).
        deadline: When the attempt runs out of time (the step's ``timeout_seconds``
            from its first claim), or ``None``.
        step: The step's plan, from the execution's pinned version: what the worker runs.
        starts_by: For a queued claim (``Applied.queued``), when the worker must have started
            the attempt or handed it back; its run deadline counts from here. ``None``: run now.
    """

    execution_id: UUID
    step_id: str
    attempt: int
    lease_token: UUID
    lease_expires_at: datetime
    input: Any
    claimed_at: datetime
    deadline: datetime | None = None
    step: StepPlan | None = None
    starts_by: datetime | None = None


class Applied(msgspec.Struct, frozen=True):
    """The result of one transition.

    Attributes:
        accepted: ``False``: the event was stale or illegal and changed nothing.
        status: The execution's status after it.
        dispatches: Attempts to hand to workers now, after commit.
        sequence: The history sequence number of this transition, if accepted.
        claims: Attempts this transition made ready and claimed at once for the
            worker that asked (``finish(..., eager=n)``), in the same transaction:
            that worker runs them, with their leases, and no dispatch is sent for them.
        queued: Attempts claimed for that worker's queue beyond its free slots
            (``finish(..., queue=n)``): fenced claims like ``claims``, which the worker
            starts as its slots free up, by their ``starts_by``, or hands back.
    """

    accepted: bool
    status: str
    dispatches: list[Dispatch]
    sequence: int | None
    claims: list[Claim] = msgspec.field(default_factory=list)
    queued: list[Claim] = msgspec.field(default_factory=list)


class SweepResult(msgspec.Struct, frozen=True):
    """What one sweep did.

    Attributes:
        dispatches: Attempts to hand to workers (redeliveries and what fired timers scheduled).
        expired_leases: Attempts timed out because their lease lapsed.
        timers_fired: Due timers applied.
        redelivered: Of ``dispatches``, those sent again because no worker claimed them in time
            (a lost message, a broker that was away): work recovered.
    """

    dispatches: list[Dispatch]
    expired_leases: int
    timers_fired: int
    redelivered: int = 0


class StepRunView(msgspec.Struct, frozen=True):
    """One attempt of one step, as stored."""

    step_id: str
    attempt: int
    status: str
    input: Any
    output: Any
    error: Any
    scheduled_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    worker: str | None


class ExecutionView(msgspec.Struct, frozen=True):
    """An execution as stored: its columns, its full engine state (outputs included) and its attempts.

    Attributes:
        execution_id: The execution.
        workflow_id: Its workflow.
        workflow_version_id: The version it runs.
        status: The engine's execution status.
        input: The execution input.
        output: The workflow's output, once it succeeded.
        error: Why it failed (the engine's error record as JSON).
        state: The engine state, with every retained step output restored.
        steps: Every attempt of every step, in the order they were made.
        next_sequence: The sequence number the next history entry takes.
        created_at: When it was accepted.
        started_at: When it started running.
        finished_at: When it reached a terminal status.
    """

    execution_id: UUID
    workflow_id: UUID
    workflow_version_id: UUID
    status: str
    input: Any
    output: Any
    error: Any
    state: ExecutionState
    steps: list[StepRunView]
    next_sequence: int
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


class ExecutionSummary(msgspec.Struct, frozen=True):
    """An execution's columns, its workspace and its attempts, without its engine state: what the API shows.

    Attributes:
        execution_id: The execution.
        workflow_id: Its workflow.
        workspace_id: The workflow's workspace.
        workflow_version_id: The version it runs.
        status: The engine's execution status.
        input: The execution input.
        output: The workflow's output, once it succeeded.
        error: Why it failed (the engine's error record as JSON).
        steps: Every attempt of every step, in the order they were made.
        next_sequence: The sequence number the next history entry takes.
        created_at: When it was accepted.
        started_at: When it started running.
        finished_at: When it reached a terminal status.
    """

    execution_id: UUID
    workflow_id: UUID
    workspace_id: UUID
    workflow_version_id: UUID
    status: str
    input: Any
    output: Any
    error: Any
    steps: list[StepRunView]
    next_sequence: int
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
