"""``ExecutionStore``: executions as a series of transactions, one per event."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from uuid import UUID

import msgspec
from msgspec.structs import replace
from sqlalchemy import Integer, Table, and_, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from wirehub import engine
from wirehub.engine import (
    RETRYABLE,
    CancelRequested,
    Event,
    ExecutionStarted,
    ExecutionStatus,
    RetryRequested,
    validate_input,
)
from wirehub.store.claims import Claims
from wirehub.store.errors import (
    ExecutionNotFoundError,
    IdempotencyConflictError,
    InvalidInputError,
    NotRetryableError,
    WorkflowNotFoundError,
)
from wirehub.store.models import AuditEntry, Workflow, Workspace
from wirehub.store.records import Applied, ExecutionSummary, ExecutionView, StepRunView
from wirehub.store.summaries import read_summary, step_runs_of
from wirehub.store.sweeper import Sweeper
from wirehub.store.transition import EXECUTIONS, HISTORY, STEP_RUNS, VERSIONS, Loaded, Outcome, sql
from wirehub.store.versions import WorkflowVersionService
from wirehub.store.writes import Insert, Write, orm_row

WORKFLOWS = cast(Table, Workflow.__table__)
WORKSPACES = cast(Table, Workspace.__table__)
AUDIT_LOG = cast(Table, AuditEntry.__table__)
_W, _V = WORKFLOWS.c, VERSIONS.c
_SELECT_START = (
    select(_W.workspace_id, _W.archived, WORKSPACES.c.allowed_node_types, _V.id.label("version_id"), _V.version)
    .select_from(
        WORKFLOWS.join(WORKSPACES, WORKSPACES.c.id == _W.workspace_id).outerjoin(
            VERSIONS,
            and_(
                _V.workflow_id == _W.id,
                _V.version == func.coalesce(bindparam("b_version", type_=Integer), _W.latest_version),
            ),
        )
    )
    .where(_W.id == bindparam("b_workflow"))
)
"""What a start reads of its workflow: its workspace's rules and the version by number (the latest when the
number is ``None``), whose columns are null when there is no such version."""


@dataclass(frozen=True)
class WorkflowFacts:
    """What a start read of its workflow, in its own transaction, for the caller's checks.

    Attributes:
        workflow_id: The workflow.
        workspace_id: Its workspace.
        archived: Whether it is archived.
        allowed_node_types: The node types its workspace allows (``None``: every one).
        version_id: The row id of the version to start; ``None`` when there is no such version.
        version: Its number; ``None`` when there is no such version.
    """

    workflow_id: UUID
    workspace_id: UUID
    archived: bool
    allowed_node_types: list[str] | None
    version_id: UUID | None
    version: int | None


async def workflow_facts(session: AsyncSession, workflow_id: UUID, version: int | None) -> WorkflowFacts | None:
    """What a start reads of its workflow (the latest version when ``version`` is ``None``); ``None``: no workflow."""
    row = (await sql(session, _SELECT_START, {"b_workflow": workflow_id, "b_version": version})).one_or_none()
    return None if row is None else WorkflowFacts(workflow_id, *row)


StartCheck = Callable[[AsyncSession, WorkflowFacts], Awaitable[None]]
"""Checks, in the start's transaction, what a caller requires of the workflow: what it raises stops the start."""


def _new_summary(
    loaded: Loaded, facts: WorkflowFacts, outcome: Outcome, input: Any, now: datetime, written: Sequence[Write]
) -> ExecutionSummary:
    """The summary of an execution just started, from what its start wrote: what ``read_summary`` would read."""
    state = loaded.state
    rows = [row for write in written if isinstance(write, Insert) and write.table is STEP_RUNS for row in write.rows]
    rows.sort(key=lambda row: (row["step_id"], row["attempt"]))  # all made now: read back in this order
    return ExecutionSummary(
        loaded.execution_id,
        loaded.workflow_id,
        facts.workspace_id,
        cast(UUID, facts.version_id),
        outcome.applied.status,
        input,
        state.output,
        None if state.error is None else msgspec.to_builtins(state.error),
        [StepRunView(*(row[column] for column in StepRunView.__struct_fields__)) for row in rows],
        loaded.next_sequence,
        now,
        state.started_at,
        state.finished_at,
    )


WAIT_POLL_SECONDS = 0.02
"""How often ``wait`` looks at the execution again."""


class ExecutionStore(Claims, Sweeper):
    """The durable record of executions: every change is one transaction on the database.

    Every event time comes from ``clock`` (the store process's UTC clock by
    default), never from a worker. Each method opens its own session and
    commits before it returns; the dispatches it returns are to be sent by
    the caller after that.

    Args:
        sessions: Sessions from ``session_factory(engine, writes=True)``: on
            SQLite their transactions take the write lock at ``BEGIN``.
        plans: The process's plan cache.
        clock: The store's clock (UTC, timezone-aware).
        lease_seconds: How long a claim holds without renewal.
        catalog: The node types plans are compiled against; the installed
            plugins (``wirehub.plugins.load_registry()``) by default.
        redelivery_seconds: How long a dispatch record may stay unsent, or
            sent and unclaimed, before the sweeper returns it again.
        publisher: Gets the events of each transition once it committed
            (``wirehub.store.events``); a ``Worker`` sets its channels here.
    """

    async def start(
        self,
        workflow_id: UUID,
        version: int | None,
        input: Any,
        *,
        idempotency_key: str | None = None,
        check: StartCheck | None = None,
        record: Callable[[UUID], object] | None = None,
    ) -> tuple[UUID, Applied]:
        """Starts an execution of a stored version (the latest when ``version`` is ``None``).

        Validates the input, creates the execution and applies
        ``ExecutionStarted``, in one transaction. With ``idempotency_key``,
        a second start of the same workflow with the same key and input
        returns the first execution (``accepted=False``, no dispatches).

        Args:
            workflow_id: The workflow.
            version: Its version number; the latest when ``None``.
            input: The execution input.
            idempotency_key: Starts with the same key and input start one execution.
            check: Given what the start read of the workflow (``WorkflowFacts``, read first in the
                start's transaction, and in the read that looks the key up), checks what the caller
                requires of it: what it raises stops the start.
            record: Makes, from the new execution's id, an ORM object (an audit entry) written in
                the start's transaction, with its other writes; not called when an idempotent
                start finds its execution.

        Raises:
            WorkflowNotFoundError: No such workflow or version.
            InvalidDefinitionError: The stored version does not compile here.
            InvalidInputError: The input does not fit the workflow, with every problem.
            IdempotencyConflictError: The key already started an execution with another input.
        """
        execution_id, applied, _ = await self._start_once(workflow_id, version, input, idempotency_key, check, record)
        return execution_id, applied

    async def start_and_summarize(
        self,
        workflow_id: UUID,
        version: int | None,
        input: Any,
        *,
        idempotency_key: str | None = None,
        check: StartCheck | None = None,
        record: Callable[[UUID], object] | None = None,
    ) -> tuple[ExecutionSummary, Applied]:
        """:meth:`start`, and the new execution's :meth:`summary`, made from what the start wrote (no read).

        An idempotent start that found its execution reads that one's summary.

        Raises:
            As :meth:`start`.
        """
        execution_id, applied, summary = await self._start_once(
            workflow_id, version, input, idempotency_key, check, record, summarize=True
        )
        return summary or await self.summary(execution_id), applied

    async def _start_once(
        self,
        workflow_id: UUID,
        version: int | None,
        input: Any,
        key: str | None,
        check: StartCheck | None,
        record: Callable[[UUID], object] | None,
        *,
        summarize: bool = False,
    ) -> tuple[UUID, Applied, ExecutionSummary | None]:
        if key is not None and not 0 < len(key) <= 200:
            raise ValueError("an idempotency key is 1 to 200 characters long")
        try:
            return await self._start(workflow_id, version, input, key, check, record, summarize)
        except IntegrityError:
            if key is None:
                raise
            # Another start with the same key committed first: it is the one.
            found = await self._by_key(workflow_id, version, key, input, check)
            if found is None:
                raise
            return (*found, None)

    async def _facts(
        self, session: AsyncSession, workflow_id: UUID, version: int | None, check: StartCheck | None
    ) -> WorkflowFacts:
        """The workflow's facts a start needs, read in ``session`` and checked by ``check``.

        Raises:
            WorkflowNotFoundError: No such workflow, or (after ``check``) no such version.
        """
        facts = await workflow_facts(session, workflow_id, version)
        if facts is None:
            raise WorkflowNotFoundError(workflow_id)
        if check is not None:
            await check(session, facts)  # before the version: another workspace's workflow is not found, whatever
        if facts.version_id is None or facts.version is None:
            raise WorkflowNotFoundError(workflow_id, version)
        return facts

    async def _start(
        self,
        workflow_id: UUID,
        version: int | None,
        input: Any,
        key: str | None,
        check: StartCheck | None,
        record: Callable[[UUID], object] | None,
        summarize: bool,
    ) -> tuple[UUID, Applied, ExecutionSummary | None]:
        if key is not None:
            found = await self._by_key(workflow_id, version, key, input, check)
            if found is not None:
                return (*found, None)
        # On PostgreSQL what the start writes is one statement, atomic by itself: no transaction around it.
        async with self.single_writes() as session, session.begin():
            # One read of the workflow: the caller's checks, the latest version, the version's row id.
            facts = await self._facts(session, workflow_id, version, check)
            version_id, number = cast(UUID, facts.version_id), cast(int, facts.version)
            plan = await WorkflowVersionService(session, self.catalog, self.plans).load_plan(workflow_id, number)
            problems = validate_input(plan, input)
            if problems:
                raise InvalidInputError(problems)
            execution_id = uuid7()
            now = self.now()
            state = engine.prepare(plan, str(execution_id), input)
            row = {
                "id": execution_id,
                "workflow_id": workflow_id,
                "workflow_version_id": version_id,
                "input": input,
                "idempotency_key": key,
                "created_at": now,
            }
            self.remember_version(version_id, (workflow_id, number))
            # Written with the transition's writes, as they leave it: nobody else can have it before.
            loaded = Loaded(execution_id, workflow_id, str(state.status), plan, state, 0, 1)
            extra = [Insert(AUDIT_LOG, [orm_row(record(execution_id))])] if record is not None else []
            written: list[Write] = []
            event = ExecutionStarted(at=now)
            outcome = await self.transition(session, loaded, event, writes=extra, written=written, inserted=row)
            summary = None
            if summarize:
                summary = _new_summary(loaded, facts, outcome, input, now, written)
            return execution_id, outcome.applied, summary

    async def _by_key(
        self, workflow_id: UUID, version: int | None, key: str, input: Any, check: StartCheck | None
    ) -> tuple[UUID, Applied] | None:
        e = EXECUTIONS.c
        async with self.reads() as session, session.begin():
            await self._facts(session, workflow_id, version, check)
            row = (
                await sql(
                    session,
                    select(e.id, e.status, e.input).where(e.workflow_id == workflow_id, e.idempotency_key == key),
                )
            ).one_or_none()
        if row is None:
            return None
        if msgspec.json.encode(row.input, order="sorted") != msgspec.json.encode(input, order="sorted"):
            raise IdempotencyConflictError(key, row.id)
        return row.id, Applied(False, row.status, [], None)

    async def apply(self, execution_id: UUID, event: Event) -> Applied:
        """Applies one event to an execution, in one transaction, with ``at`` set to the store's clock.

        A stale or illegal event changes nothing but its ``stale_events``
        record, and gives ``accepted=False``.

        Raises:
            ExecutionNotFoundError: No such execution.
        """
        async with self.sessions() as session, session.begin():
            loaded = await self.lock(session, execution_id)
            if loaded is None:
                raise ExecutionNotFoundError(execution_id)
            outcome = await self.transition(session, loaded, replace(event, at=self.now()))
            return outcome.applied

    async def cancel(self, execution_id: UUID, reason: str = "cancelled") -> Applied:
        """Cancels an execution that is not over: open attempts are cancelled, pending steps skipped.

        A worker running one of its attempts learns of it at its next
        ``renew`` (which returns ``None``). An execution already over is not
        changed (``accepted=False``).

        Raises:
            ExecutionNotFoundError: No such execution.
        """
        async with self.sessions() as session, session.begin():
            loaded = await self.lock(session, execution_id, outputs=False)
            if loaded is None:
                raise ExecutionNotFoundError(execution_id)
            outcome = await self.transition(session, loaded, CancelRequested(self.now(), reason[:2000]))
            return outcome.applied

    async def retry(self, execution_id: UUID) -> Applied:
        """Runs a failed, timed-out or cancelled execution again from the steps that did not succeed.

        One transaction applies ``RetryRequested`` (``wirehub.engine.prepare_retry``): the
        outputs of the steps that succeeded are kept, the others get new attempts, the
        execution is ``running`` again with a new history entry. The caller sends the
        returned dispatches after commit, as after ``start``.

        Raises:
            ExecutionNotFoundError: No such execution.
            NotRetryableError: It is not failed, timed out or cancelled (nothing is written).
        """
        async with self.sessions() as session, session.begin():
            loaded = await self.lock(session, execution_id)
            if loaded is None:
                raise ExecutionNotFoundError(execution_id)
            if ExecutionStatus(loaded.status) not in RETRYABLE:
                raise NotRetryableError(execution_id, loaded.status)
            outcome = await self.transition(session, loaded, RetryRequested(self.now()))
            return outcome.applied

    async def get(self, execution_id: UUID) -> ExecutionView:
        """The execution as stored, with its full state (outputs restored) and every attempt.

        Raises:
            ExecutionNotFoundError: No such execution.
        """
        e = EXECUTIONS.c
        async with self.reads() as session, session.begin():
            row = (
                await sql(
                    session,
                    select(
                        e.workflow_id,
                        e.workflow_version_id,
                        e.status,
                        e.input,
                        e.output,
                        e.error,
                        e.next_sequence,
                        e.created_at,
                        e.started_at,
                        e.finished_at,
                    ).where(e.id == execution_id),
                )
            ).one_or_none()
            if row is None:
                raise ExecutionNotFoundError(execution_id)
            loaded = await self.lock(session, execution_id, for_update=False)
            assert loaded is not None
            runs = (await sql(session, step_runs_of(execution_id))).all()
        steps = [StepRunView(*run) for run in runs]
        return ExecutionView(
            execution_id,
            row.workflow_id,
            row.workflow_version_id,
            row.status,
            row.input,
            row.output,
            row.error,
            loaded.state,
            steps,
            row.next_sequence,
            row.created_at,
            row.started_at,
            row.finished_at,
        )

    async def summary(self, execution_id: UUID) -> ExecutionSummary:
        """The execution's columns, workspace and attempts, without its engine state: two reads, no outputs restored.

        Raises:
            ExecutionNotFoundError: No such execution.
        """
        async with self.reads() as session, session.begin():
            found = await read_summary(session, execution_id)
        if found is None:
            raise ExecutionNotFoundError(execution_id)
        return found

    async def history(self, execution_id: UUID, *, after: int = 0) -> list[engine.HistoryEntry]:
        """The execution's accepted events after sequence ``after``, in order: what a client replays."""
        h = HISTORY.c
        async with self.reads() as session, session.begin():
            rows = (
                await sql(
                    session,
                    select(h.sequence, h.event)
                    .where(h.execution_id == execution_id, h.sequence > after)
                    .order_by(h.sequence),
                )
            ).all()
        return [engine.HistoryEntry(str(execution_id), row.sequence, msgspec.convert(row.event, Event)) for row in rows]

    async def wait(self, execution_id: UUID, *, timeout: float | None = None) -> ExecutionView:  # noqa: ASYNC109 - the seam names it
        """Polls the execution until it is over, then returns it.

        Raises:
            ExecutionNotFoundError: No such execution.
            TimeoutError: It is not over after ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        status = await self._status(execution_id)
        while not ExecutionStatus(status).terminal:
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"execution {execution_id} is still {status} after {timeout} s")
            await asyncio.sleep(WAIT_POLL_SECONDS)
            status = await self._status(execution_id)
        return await self.get(execution_id)

    async def _status(self, execution_id: UUID) -> str:
        async with self.reads() as session:
            status = (
                await sql(session, select(EXECUTIONS.c.status).where(EXECUTIONS.c.id == execution_id))
            ).scalar_one_or_none()
        if status is None:
            raise ExecutionNotFoundError(execution_id)
        return str(status)
