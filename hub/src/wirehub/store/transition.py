"""One transition of one execution, inside the caller's transaction: what every store operation shares.

A transition locks the execution's row (``SELECT ... FOR UPDATE`` on
PostgreSQL; on SQLite the session's ``BEGIN IMMEDIATE`` already holds the
write lock), rebuilds the engine state from the row and the stored outputs,
applies one event stamped with the store's clock, and writes what changed:
the step runs of the steps that changed, one history entry, the execution
row (checked against ``lock_version``), the timers (made equal to
``live_timers(state)`` by inserting new and deleting gone ones) and the
outbox rows of the ``RunStep`` commands.

Step outputs are stored once, in their ``step_runs`` row: the ``state``
column holds the engine state with every output (and the execution's input
and output, which have columns of their own) set to ``None``, and loading
puts them back. So a long execution writes each output once, not once per
later transition.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from uuid import UUID, uuid4

import msgspec
from msgspec.structs import replace
from sqlalchemy import Table, and_, bindparam, delete, insert, or_, select, tuple_
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.base import Executable
from uuid_utils.compat import uuid7

from wirehub import engine
from wirehub.engine import (
    Event,
    ExecutionState,
    IllegalTransitionError,
    NodeCatalog,
    Plan,
    RunStep,
    StepStarted,
    StepStatus,
    TimerKind,
    live_timers,
)
from wirehub.store.database import reading, single_statement
from wirehub.store.errors import ConcurrentTransitionError
from wirehub.store.events import EventPublisher, publish_after_commit
from wirehub.store.models import DispatchRecord, Execution, HistoryEntry, StaleEvent, StepRun, Timer, WorkflowVersion
from wirehub.store.models.base import utc_now
from wirehub.store.plans import PlanCache
from wirehub.store.records import Applied, Claim, Dispatch
from wirehub.store.versions import WorkflowVersionService
from wirehub.store.writes import Change, Insert, Prepared, Write, run_writes

EXECUTIONS = cast(Table, Execution.__table__)
STEP_RUNS = cast(Table, StepRun.__table__)
HISTORY = cast(Table, HistoryEntry.__table__)
TIMERS = cast(Table, Timer.__table__)
OUTBOX = cast(Table, DispatchRecord.__table__)
STALE = cast(Table, StaleEvent.__table__)
VERSIONS = cast(Table, WorkflowVersion.__table__)

_E, _S = EXECUTIONS.c, STEP_RUNS.c
_HOLDS_OUTPUT = (StepStatus.SUCCEEDED, StepStatus.WAITING)
# The statements every transition runs, built once: SQLAlchemy then skips rebuilding them each time.
_SELECT_EXECUTION = select(
    _E.workflow_id,
    _E.workflow_version_id,
    _E.status,
    _E.input,
    _E.output,
    _E.state,
    _E.lock_version,
    _E.next_sequence,
).where(_E.id == bindparam("b_id"))
_LOCK = {
    (False, False): _SELECT_EXECUTION,
    (True, False): _SELECT_EXECUTION.with_for_update(),
    (True, True): _SELECT_EXECUTION.with_for_update(skip_locked=True),
    (False, True): _SELECT_EXECUTION,
}
ATTEMPT_COLUMNS = (
    _S.id,
    _S.step_id,
    _S.attempt,
    _S.status,
    _S.input,
    _S.output,
    _S.lease_token,
    _S.lease_expires_at,
    _S.scheduled_at,
)
_HOLDING = _S.status.in_([str(status) for status in _HOLDS_OUTPUT])
# The execution and one attempt's row in one statement: the row lock is the execution's only.
_WITH_ATTEMPT = EXECUTIONS.outerjoin(
    STEP_RUNS,
    and_(_S.execution_id == _E.id, _S.step_id == bindparam("b_step"), _S.attempt == bindparam("b_attempt")),
)
# PostgreSQL reads the joined row in the statement's snapshot, while the row lock hands back the
# execution's latest version: when another transaction changed the execution meanwhile (the lock had
# to wait), the attempt's row may be older than it. The execution's version as of the snapshot tells.
_SEEN = EXECUTIONS.alias("seen")
_SEEN_VERSION = (
    select(_SEEN.c.lock_version).where(_SEEN.c.id == bindparam("b_id")).scalar_subquery().label("seen_lock_version")
)
_SELECT_WITH_ATTEMPT = _SELECT_EXECUTION.add_columns(
    _SEEN_VERSION, *(column.label(f"a_{column.name}") for column in ATTEMPT_COLUMNS)
).select_from(_WITH_ATTEMPT)
_SELECT_ATTEMPT = select(*ATTEMPT_COLUMNS).where(
    _S.execution_id == bindparam("b_execution"), _S.step_id == bindparam("b_step"), _S.attempt == bindparam("b_attempt")
)
_LOCK_WITH_ATTEMPT = {
    (False, False): _SELECT_WITH_ATTEMPT,
    (True, False): _SELECT_WITH_ATTEMPT.with_for_update(of=EXECUTIONS),
    (True, True): _SELECT_WITH_ATTEMPT.with_for_update(of=EXECUTIONS, skip_locked=True),
    (False, True): _SELECT_WITH_ATTEMPT,
}
_OUTPUT_COLUMNS = (_S.step_id, _S.attempt, _S.output)
_SELECT_OUTPUTS = {
    False: select(*_OUTPUT_COLUMNS).where(_S.execution_id == bindparam("b_execution"), _HOLDING),
    True: select(*_OUTPUT_COLUMNS).where(
        _S.execution_id == bindparam("b_execution"), _HOLDING, _S.step_id.in_(bindparam("b_steps", expanding=True))
    ),
}
# Several executions at once (a worker's batch): their rows locked in one statement, in the order of their ids
# (so that two batches never wait for each other in a cycle), then their attempts' rows and outputs read in one
# statement each, under the locks (a new statement sees what committed before the locks were granted).
_LOCK_MANY = (
    select(_E.id, *_SELECT_EXECUTION.selected_columns)
    .where(_E.id.in_(bindparam("b_ids", expanding=True)))
    .order_by(_E.id)
    .with_for_update()
)
_SELECT_ATTEMPTS_OF = select(_S.execution_id, *ATTEMPT_COLUMNS).where(
    tuple_(_S.execution_id, _S.step_id, _S.attempt).in_(bindparam("b_keys", expanding=True))
)
_SELECT_OUTPUTS_OF = select(_S.execution_id, *_OUTPUT_COLUMNS).where(
    _HOLDING,
    or_(
        _S.execution_id.in_(bindparam("b_every", expanding=True)),
        tuple_(_S.execution_id, _S.step_id).in_(bindparam("b_some", expanding=True)),
    ),
)

_CONNECTION = "wirehub_connection"
QUEUED_START_SECONDS = 2.0
"""How long a queued claim may wait in its worker's queue: the worker starts it by then or hands it back."""
RUN_STEP = "run_step"
"""The outbox ``kind`` of a dispatch record that hands out one attempt."""
_ROW_CLOSED = frozenset(
    {
        StepStatus.SUCCEEDED,
        StepStatus.FAILED,
        StepStatus.CANCELLED,
        StepStatus.TIMED_OUT,
        StepStatus.SKIPPED,
        StepStatus.RETRY_WAIT,
        StepStatus.WAITING,
    }
)
_MAX_VERSION_KEYS = 4096
TimerKey = tuple[str, str, int]


async def sql(session: AsyncSession, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
    """Runs a Core statement on the session's connection, without the ORM's per-statement work."""
    # Each store session runs one transaction on one connection: ask for it once, not per statement
    # (``AsyncSession.connection`` is a round trip through a greenlet).
    connection = session.info.get(_CONNECTION)
    if connection is None:
        connection = session.info[_CONNECTION] = await session.connection()
    return await connection.execute(statement, parameters)


@dataclass(frozen=True)
class AttemptRow:
    """The ``step_runs`` row of one attempt, as a transition reads it with its execution."""

    id: UUID
    step_id: str
    attempt: int
    status: str
    input: Any
    output: Any
    lease_token: UUID | None
    lease_expires_at: datetime | None
    scheduled_at: datetime | None = None


@dataclass
class Loaded:
    """An execution locked for one transition."""

    execution_id: UUID
    workflow_id: UUID
    status: str
    plan: Plan
    state: ExecutionState
    lock_version: int
    next_sequence: int
    attempt_row: AttemptRow | None = None
    """The ``step_runs`` row of the attempt the caller asked about, if any."""


@dataclass
class Outcome:
    """What one transition did, for the operation that asked for it."""

    applied: Applied
    state: ExecutionState | None = None
    """The new state (outputs restored), when the event was accepted."""


class StoreCore:
    """The parts of ``ExecutionStore`` every operation uses: sessions, clock, plans and the transition."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        plans: PlanCache,
        clock: Callable[[], datetime] | None = None,
        lease_seconds: float = 30.0,
        *,
        catalog: NodeCatalog | None = None,
        redelivery_seconds: float = 30.0,
        publisher: EventPublisher | None = None,
    ) -> None:
        if lease_seconds <= 0 or redelivery_seconds <= 0:
            raise ValueError("lease_seconds and redelivery_seconds must be positive")
        self.sessions = sessions
        self.reads = reading(sessions)
        """Sessions for what only reads (``get``, ``history``, ``wait``)."""
        self.single_writes = single_statement(sessions)
        """Sessions for what writes in one statement on PostgreSQL, without a transaction around it (a start)."""
        self.plans = plans
        self.lease_seconds = lease_seconds
        self.redelivery_seconds = redelivery_seconds
        self._clock = clock or utc_now
        self.publisher = publisher
        """Gets the events of every committed transition (``wirehub.store.events``); ``None``: nobody."""
        self._catalog = catalog
        self._version_keys: dict[UUID, tuple[UUID, int]] = {}

    def now(self) -> datetime:
        """The store's clock: every event time and lease comes from here, never from a worker."""
        return self._clock()

    @property
    def catalog(self) -> NodeCatalog:
        """The node types plans are compiled against: the installed plugins unless one was given."""
        if self._catalog is None:
            from wirehub.plugins import load_registry  # the plugin scan runs once, on first need

            self._catalog = load_registry()
        return self._catalog

    def remember_version(self, workflow_version_id: UUID, key: tuple[UUID, int]) -> None:
        """Notes which workflow and number a version row holds, so ``plan_of`` need not read it."""
        if len(self._version_keys) >= _MAX_VERSION_KEYS:
            self._version_keys.clear()
        self._version_keys[workflow_version_id] = key

    async def plan_of(self, session: AsyncSession, workflow_version_id: UUID) -> Plan:
        """The compiled plan of a stored version, by the version row's id (cached)."""
        key = self._version_keys.get(workflow_version_id)
        if key is not None:
            cached = self.plans.get(key)
            if cached is not None:
                return cached
        found = (
            await sql(
                session, select(VERSIONS.c.workflow_id, VERSIONS.c.version).where(VERSIONS.c.id == workflow_version_id)
            )
        ).one()
        key = (found.workflow_id, found.version)
        self.remember_version(workflow_version_id, key)
        return await WorkflowVersionService(session, self.catalog, self.plans).load_plan(*key)

    async def lock(
        self,
        session: AsyncSession,
        execution_id: UUID,
        *,
        outputs: bool = True,
        attempt: tuple[str, int] | None = None,
        skip_locked: bool = False,
        for_update: bool = True,
        succeeded: str | None = None,
    ) -> Loaded | None:
        """Locks an execution's row and rebuilds its engine state; ``None`` when there is no such row.

        Args:
            session: The transaction to lock in.
            execution_id: The execution.
            outputs: Whether to put the stored step outputs back into the
                state (an event that evaluates expressions needs them;
                ``StepStarted`` and ``CancelRequested`` do not).
            attempt: A ``(step_id, attempt)`` whose ``step_runs`` row to read
                in the same statement (``Loaded.attempt_row``).
            skip_locked: Give up at once (``None``) when another transaction
                holds the row, rather than wait (sweepers, PostgreSQL only).
            for_update: ``False`` to read without locking (``get``).
            succeeded: The step whose success is about to be applied: only the
                outputs that transition can read are put back (see
                ``outputs_read``), so a step's result costs the same early and
                late in a long execution, and none (no statement) when it
                reads none.
        """
        parameters: dict[str, Any] = {"b_id": execution_id}
        if attempt is None:
            query = _LOCK[(for_update, skip_locked)]
        else:
            query = _LOCK_WITH_ATTEMPT[(for_update, skip_locked)]
            parameters.update(b_step=attempt[0], b_attempt=attempt[1])
        row = (await sql(session, query, parameters)).one_or_none()
        if row is None:
            return None
        loaded = await self._loaded(session, execution_id, row)
        attempt_row = None
        if attempt is not None:
            if row.seen_lock_version == row.lock_version:
                if row.a_id is not None:
                    attempt_row = AttemptRow(*(row._mapping[f"a_{column.name}"] for column in ATTEMPT_COLUMNS))
            else:  # the lock waited for another transition: read the attempt again, under the lock
                parameters = {"b_execution": execution_id, "b_step": attempt[0], "b_attempt": attempt[1]}
                again = (await sql(session, _SELECT_ATTEMPT, parameters)).one_or_none()
                attempt_row = None if again is None else AttemptRow(*again)
        loaded.attempt_row = attempt_row
        if outputs:
            read = outputs_read(loaded.plan, loaded.state, succeeded) if succeeded is not None else None
            loaded.state = await _restore_outputs(session, execution_id, loaded.state, read)
        return loaded

    async def _loaded(self, session: AsyncSession, execution_id: UUID, row: Any) -> Loaded:
        """An execution as its locked row has it, outputs not restored."""
        plan = await self.plan_of(session, row.workflow_version_id)
        state = msgspec.convert(row.state, ExecutionState)
        state = replace(state, input=row.input, output=row.output)
        return Loaded(execution_id, row.workflow_id, row.status, plan, state, row.lock_version, row.next_sequence)

    async def lock_many(self, session: AsyncSession, execution_ids: Sequence[UUID]) -> dict[UUID, Loaded]:
        """Locks several executions' rows in one statement, in the order of their ids; rebuilds their states.

        Their outputs are not put back (see ``restore_outputs``). An execution with no row is left out.
        """
        rows = await sql(session, _LOCK_MANY, {"b_ids": sorted(set(execution_ids))})
        return {row.id: await self._loaded(session, row.id, row) for row in rows.all()}

    async def attempt_rows(
        self, session: AsyncSession, keys: Sequence[tuple[UUID, str, int]]
    ) -> dict[tuple[UUID, str, int], AttemptRow]:
        """The ``step_runs`` rows of several attempts (``(execution_id, step_id, attempt)``) in one statement."""
        if not keys:
            return {}
        rows = await sql(session, _SELECT_ATTEMPTS_OF, {"b_keys": list(keys)})
        return {(row.execution_id, row.step_id, row.attempt): AttemptRow(*row[1:]) for row in rows.all()}

    async def restore_outputs(
        self, session: AsyncSession, wanted: dict[UUID, tuple[Loaded, frozenset[str] | None]]
    ) -> None:
        """Puts the stored outputs back into several locked executions' states, read in one statement.

        ``wanted`` maps each execution to its ``Loaded`` and the steps whose outputs to put back
        (``None``: every one; see ``outputs_read``).
        """
        every = [execution_id for execution_id, (_, read) in wanted.items() if read is None]
        some = [(execution_id, step) for execution_id, (_, read) in wanted.items() for step in sorted(read or ())]
        if not every and not some:
            return
        rows = (await sql(session, _SELECT_OUTPUTS_OF, {"b_every": every, "b_some": some})).all()
        by_execution: dict[UUID, list[Any]] = {}
        for row in rows:
            by_execution.setdefault(row.execution_id, []).append(row)
        for execution_id, (loaded, _) in wanted.items():
            loaded.state = _with_outputs(loaded.state, by_execution.get(execution_id, []))

    async def transition(
        self,
        session: AsyncSession,
        loaded: Loaded,
        event: Event,
        *,
        attempt_values: dict[tuple[str, int], dict[str, Any]] | None = None,
        eager: int = 0,
        queue: int = 0,
        worker: str | None = None,
        writes: Sequence[Write] = (),
        written: list[Write] | None = None,
        inserted: Mapping[str, Any] | None = None,
    ) -> Outcome:
        """Applies ``event`` (already stamped with the store's clock) and writes what changed.

        An event the engine refuses changes nothing but a ``stale_events``
        row. ``attempt_values`` are extra columns for the ``step_runs`` row
        of an attempt this transition updates (a claim's lease).

        With ``eager`` > 0, up to that many of the attempts the event makes
        ready are claimed for ``worker`` in the same transaction (a
        ``StepStarted`` each, with its own history entry, and a lease), rather
        than written to the outbox: ``Applied.claims`` hands them to the
        caller, which runs them at once. The database stays the record: an
        eager claim is an ordinary fenced claim, which expires with its lease.
        With ``queue`` > 0, up to that many more are claimed the same way as
        queued claims (``Applied.queued``): their ``StepStarted`` carries
        ``starts_by`` (``QUEUED_START_SECONDS`` from now), by when the worker
        starts each as a slot frees up or hands it back.

        ``writes`` are more rows to write with the transition's own (an audit
        entry), in the same statement on PostgreSQL; ``written``, when given,
        gets every write the transition made (a new execution's summary is
        made from them).

        ``inserted`` is a new execution's row (a start): the transition
        inserts it, with what the event changed, instead of updating it, so
        a start writes everything in one statement on PostgreSQL.

        Raises:
            ConcurrentTransitionError: The row's ``lock_version`` moved on
                since it was read (only possible without the row lock).
        """
        outcomes = await self.transition_all(
            session,
            loaded,
            [event],
            attempt_values=attempt_values,
            eager=eager,
            queue=queue,
            worker=worker,
            writes=writes,
            written=written,
            inserted=inserted,
        )
        return outcomes[0]

    async def transition_all(
        self,
        session: AsyncSession,
        loaded: Loaded,
        given: Sequence[Event],
        *,
        attempt_values: dict[tuple[str, int], dict[str, Any]] | None = None,
        eager: int = 0,
        queue: int = 0,
        worker: str | None = None,
        writes: Sequence[Write] = (),
        written: list[Write] | None = None,
        inserted: Mapping[str, Any] | None = None,
    ) -> list[Outcome]:
        """Applies several events in order, as ``transition`` does one, and writes what changed once.

        Each event the engine refuses is recorded as stale and skipped. The
        accepted ones get consecutive history entries; the attempts they make
        ready are dispatched or eagerly claimed once, in the ``Outcome`` of the
        first accepted event. One outcome per event, in order.
        """
        now = self.now()
        given, tracebacks = without_tracebacks(given)
        if tracebacks:  # an internal error's traceback goes to its attempt's row, never into state or history
            attempt_values = dict(attempt_values or {})
            for key, text in tracebacks.items():
                attempt_values[key] = {**attempt_values.get(key, {}), "traceback": text}
        old = loaded.state
        new = old
        inputs: dict[tuple[str, int], Any] = {}
        events: list[Event] = []
        accepted: list[int | None] = []
        for event in given:
            try:
                new, commands = engine.apply(loaded.plan, new, event)
            except IllegalTransitionError as exc:
                await self.record_stale(
                    session, loaded.execution_id, event_tag(event), msgspec.to_builtins(event), str(exc)
                )
                accepted.append(None)
                continue
            accepted.append(len(events))
            events.append(event)
            inputs.update(((c.step_id, c.attempt), c.input) for c in commands if isinstance(c, RunStep))
        if not events:
            return [Outcome(Applied(False, loaded.status, [], None)) for _ in given]
        if len(given) > 1:  # only attempts still waiting for a worker after the last event
            inputs = {
                (step_id, attempt): value
                for (step_id, attempt), value in inputs.items()
                if new.steps[step_id].attempt == attempt and new.steps[step_id].status is StepStatus.SCHEDULED
            }
        claims: list[Claim] = []
        queued: list[Claim] = []
        unclaimed = inputs
        if eager > 0 and inputs and worker is not None:
            new, claims, queued, attempt_values = self._claim_eagerly(
                loaded, new, inputs, (eager, max(0, queue)), worker, now, events
            )
            taken = {(claim.step_id, claim.attempt) for claim in (*claims, *queued)}
            unclaimed = {key: value for key, value in inputs.items() if key not in taken}
        # Every new attempt's row keeps its input (a claim handed back is claimed again from it).
        writes = [*writes, *timer_writes(loaded.execution_id, old, new, now)]
        row_ids = self._write_step_runs(writes, loaded.execution_id, old, new, inputs, now, attempt_values)
        dispatches = self._write_outbox(writes, loaded.execution_id, unclaimed, row_ids)
        sequence = loaded.next_sequence
        history = [
            {
                "execution_id": loaded.execution_id,
                "sequence": sequence + offset,
                "event_type": event_tag(applied),
                "event": applied,
                "recorded_at": now,
            }
            for offset, applied in enumerate(events)
        ]
        writes.append(Insert(HISTORY, history))
        following = sequence + len(events)
        changes = {
            "status": str(new.status),
            "state": _stripped(new),
            "output": new.output,
            "error": None if new.error is None else msgspec.to_builtins(new.error),
            "error_kind": None if new.error is None else new.error.kind[:100],
            "error_node_type": None if new.error is None or new.error.node_type is None else new.error.node_type[:200],
            "started_at": new.started_at,
            "finished_at": new.finished_at,
            "lock_version": loaded.lock_version + 1,
            "next_sequence": following,
            "updated_at": now,
        }
        execution: Change | Insert
        if inserted is None:
            execution = Change(EXECUTIONS, {"id": loaded.execution_id, "lock_version": loaded.lock_version}, changes)
        else:
            execution = Insert(EXECUTIONS, [{**inserted, **changes}])
        if written is not None:
            written.extend(writes)
        result = await run_writes(session, writes, execution)
        if getattr(result, "rowcount", 1) != 1:
            raise ConcurrentTransitionError(f"execution {loaded.execution_id} was changed by another transaction")
        publish_after_commit(session, self.publisher, loaded.workflow_id, history, str(new.status))
        loaded.state, loaded.status = new, str(new.status)
        loaded.lock_version, loaded.next_sequence = loaded.lock_version + 1, following
        status = str(new.status)
        first = next(index for index in accepted if index is not None)
        return [
            Outcome(Applied(False, status, [], None))
            if index is None
            else Outcome(
                Applied(
                    True,
                    status,
                    dispatches if index == first else [],
                    sequence + index,
                    claims if index == first else [],
                    queued if index == first else [],
                ),
                new,
            )
            for index in accepted
        ]

    def _claim_eagerly(
        self,
        loaded: Loaded,
        state: ExecutionState,
        inputs: dict[tuple[str, int], Any],
        counts: tuple[int, int],
        worker: str,
        now: datetime,
        events: list[Event],
    ) -> tuple[ExecutionState, list[Claim], list[Claim], dict[tuple[str, int], dict[str, Any]]]:
        """Starts attempts just made ready, for ``worker``: the state, the claims, the queued claims, the leases.

        ``counts`` is ``(eager, queue)``: up to ``eager`` attempts are claimed
        to run now, up to ``queue`` more as queued claims (``starts_by`` set).
        """
        eager, queue = counts
        claims: list[Claim] = []
        queued: list[Claim] = []
        leases: dict[tuple[str, int], dict[str, Any]] = {}
        expires = now + timedelta(seconds=self.lease_seconds)
        starts_by = now + timedelta(seconds=QUEUED_START_SECONDS)
        for index, (step_id, attempt) in enumerate(list(inputs)[: eager + queue]):
            waits = index >= eager
            started = StepStarted(step_id, attempt, now, starts_by if waits else None)
            try:
                state, _ = engine.apply(loaded.plan, state, started)
            except IllegalTransitionError:  # cannot happen to an attempt just scheduled; dispatch it then
                continue
            token = uuid4()
            events.append(started)
            leases[(step_id, attempt)] = {"worker": worker[:200], "lease_token": token, "lease_expires_at": expires}
            deadline = state.steps[step_id].run_deadline
            (queued if waits else claims).append(
                Claim(
                    loaded.execution_id,
                    step_id,
                    attempt,
                    token,
                    expires,
                    inputs[(step_id, attempt)],
                    now,
                    deadline,
                    loaded.plan.steps[step_id],
                    starts_by if waits else None,
                )
            )
        return state, claims, queued, leases

    async def record_stale(
        self, session: AsyncSession, execution_id: UUID, event_type: str, event: Any, reason: str
    ) -> None:
        """Records an event or claim that changed nothing (a failure's traceback left out)."""
        error = event.get("error") if isinstance(event, dict) else None
        if isinstance(error, dict) and error.get("traceback") is not None:
            event = {**event, "error": {**error, "traceback": None}}
        await sql(
            session,
            insert(STALE).values(
                id=uuid7(),
                execution_id=execution_id,
                event_type=event_type,
                event=event,
                reason=reason,
                created_at=self.now(),
            ),
        )

    def _write_step_runs(
        self,
        writes: list[Write],
        execution_id: UUID,
        old: ExecutionState,
        new: ExecutionState,
        inputs: dict[tuple[str, int], Any],
        now: datetime,
        attempt_values: dict[tuple[str, int], dict[str, Any]] | None,
    ) -> dict[tuple[str, int], UUID]:
        """One row per attempt: new attempts are inserted, changed ones updated; an output is written once."""
        added: list[dict[str, Any]] = []
        row_ids: dict[tuple[str, int], UUID] = {}
        left_scheduled: list[tuple[str, int]] = []
        for step_id, run in new.steps.items():
            before = old.steps[step_id]
            if run == before:
                continue
            if before.status is StepStatus.SCHEDULED and (run.status, run.attempt) != (before.status, before.attempt):
                left_scheduled.append((step_id, before.attempt))
            if run.attempt == 0:
                continue  # a step that never got an attempt (skipped) has no row
            if run.attempt == before.attempt and before.status.terminal:
                continue  # the row of an attempt that ended stays as it ended (a retried execution's steps)
            if run.attempt != before.attempt:
                row_id = uuid7()
                row_ids[(step_id, run.attempt)] = row_id
                closed = run.status in _ROW_CLOSED
                row = {
                    "id": row_id,
                    "execution_id": execution_id,
                    "step_id": step_id,
                    "attempt": run.attempt,
                    "status": _row_status(run),
                    "input": inputs.get((step_id, run.attempt)),
                    "output": run.output if run.status in _HOLDS_OUTPUT else None,
                    "error": None if run.error is None else msgspec.to_builtins(run.error),
                    "scheduled_at": now,
                    "started_at": now if run.status is StepStatus.RUNNING else None,
                    "finished_at": now if closed else None,
                    "worker": None,
                    "lease_token": None,
                    "lease_expires_at": None,
                    "created_at": now,
                    "updated_at": now,
                }
                if attempt_values:  # an attempt claimed in this transition carries its lease
                    row.update(attempt_values.get((step_id, run.attempt), {}))
                added.append(row)
                continue
            values: dict[str, Any] = {"status": _row_status(run), "updated_at": now}
            if run.error != before.error:
                values["error"] = None if run.error is None else msgspec.to_builtins(run.error)
            if run.status is StepStatus.RUNNING and before.status is not StepStatus.RUNNING:
                values["started_at"] = now
            if run.status in _ROW_CLOSED and before.status not in _ROW_CLOSED:
                values["finished_at"] = now
            if run.status in _HOLDS_OUTPUT and before.status not in _HOLDS_OUTPUT:
                values["output"] = run.output  # the one write of this output
            if run.status is not StepStatus.RUNNING and before.status is StepStatus.RUNNING:
                values.update(lease_token=None, lease_expires_at=None)
            if attempt_values:
                values.update(attempt_values.get((step_id, run.attempt), {}))
            writes.append(
                Change(STEP_RUNS, {"execution_id": execution_id, "step_id": step_id, "attempt": run.attempt}, values)
            )
        if added:
            writes.append(Insert(STEP_RUNS, added))
        # A dispatch of an attempt that is no longer waiting for a worker is not sent again.
        writes.extend(
            Prepared(_forget_dispatches, {"execution_id": execution_id, "step_id": step_id, "attempt": attempt})
            for step_id, attempt in left_scheduled
        )
        return row_ids

    def _write_outbox(
        self,
        writes: list[Write],
        execution_id: UUID,
        inputs: dict[tuple[str, int], Any],
        row_ids: dict[tuple[str, int], UUID],
    ) -> list[Dispatch]:
        """An outbox row per ``RunStep``, in the same transaction; the caller sends them after commit."""
        if not inputs:
            return []
        now = self.now()
        dispatches = [Dispatch(uuid7(), execution_id, step_id, attempt) for step_id, attempt in inputs]
        writes.append(
            Insert(
                OUTBOX,
                [
                    {
                        "id": dispatch.dispatch_id,
                        "execution_id": execution_id,
                        "step_run_id": row_ids.get((dispatch.step_id, dispatch.attempt)),
                        "kind": RUN_STEP,
                        "payload": dispatch,
                        "deliveries": 0,
                        "delivered_at": None,
                        "created_at": now,
                    }
                    for dispatch in dispatches
                ],
            )
        )
        return dispatches


def timer_writes(execution_id: UUID, old: ExecutionState, new: ExecutionState, now: datetime) -> list[Write]:
    """The writes that make an execution's timers ``live_timers(new)``: the table holds ``live_timers(old)``.

    New timers are inserted, gone ones deleted, and one that moved is updated in place (a delete
    and an insert of one key in one statement could run in either order, and the insert would then
    meet the row it replaces).
    """
    before = _timer_map(old)
    after = _timer_map(new)
    writes: list[Write] = []
    fresh: list[dict[str, Any]] = []
    for key, at in after.items():
        kind, step, attempt = key
        if key not in before:
            fresh.append(
                {
                    "id": uuid7(),
                    "execution_id": execution_id,
                    "kind": kind,
                    "step_id": step,
                    "attempt": attempt,
                    "due_at": at,
                    "fired_at": None,
                    "created_at": now,
                }
            )
        elif before[key] != at:
            where = {"execution_id": execution_id, "kind": kind, "step_id": step, "attempt": attempt}
            writes.append(Change(TIMERS, where, {"due_at": at, "fired_at": None}))
    writes.extend(
        Prepared(_forget_timer, {"execution_id": execution_id, "kind": kind, "step_id": step, "attempt": attempt})
        for (kind, step, attempt) in before
        if (kind, step, attempt) not in after
    )
    if fresh:
        writes.append(Insert(TIMERS, fresh))
    return writes


def without_tracebacks(events: Sequence[Event]) -> tuple[list[Event], dict[tuple[str, int], str]]:
    """``events`` with the traceback of each failure taken out, and those tracebacks by attempt.

    An internal error's traceback is kept in its attempt's ``step_runs`` row alone: the history,
    the execution's state and error, and the events published to clients never hold one.
    """
    cleaned: list[Event] = []
    tracebacks: dict[tuple[str, int], str] = {}
    for event in events:
        if isinstance(event, engine.StepFailed) and event.error.traceback is not None:
            tracebacks[(event.step_id, event.attempt)] = event.error.traceback
            event = replace(event, error=replace(event.error, traceback=None))
        cleaned.append(event)
    return cleaned, tracebacks


@functools.lru_cache(maxsize=512)
def _forget_timer(prefix: str) -> Any:
    """Deletes one timer of an execution (``{prefix}execution_id``, ``kind``, ``step_id``, ``attempt``)."""
    t = TIMERS.c
    return delete(TIMERS).where(
        *(
            t[column] == bindparam(f"{prefix}{column}", type_=t[column].type)
            for column in ("execution_id", "kind", "step_id", "attempt")
        )
    )


@functools.lru_cache(maxsize=512)
def _forget_dispatches(prefix: str) -> Any:
    """Deletes the dispatch records of one attempt (``{prefix}execution_id``, ``step_id``, ``attempt``)."""
    s = STEP_RUNS.c
    attempt = select(s.id).where(
        s.execution_id == bindparam(f"{prefix}execution_id", type_=s.execution_id.type),
        s.step_id == bindparam(f"{prefix}step_id", type_=s.step_id.type),
        s.attempt == bindparam(f"{prefix}attempt", type_=s.attempt.type),
    )
    return delete(OUTBOX).where(OUTBOX.c.step_run_id.in_(attempt))


async def _restore_outputs(
    session: AsyncSession, execution_id: UUID, state: ExecutionState, read: frozenset[str] | None
) -> ExecutionState:
    """Puts the stored outputs back into ``state``: those of the steps in ``read``, every one when ``None``."""
    parameters: dict[str, Any] = {"b_execution": execution_id}
    if read is not None:
        if not read:
            return state
        parameters["b_steps"] = sorted(read)
    rows = (await sql(session, _SELECT_OUTPUTS[read is not None], parameters)).all()
    return _with_outputs(state, rows)


def _with_outputs(state: ExecutionState, rows: Sequence[Any]) -> ExecutionState:
    """``state`` with the stored outputs of ``rows`` (``step_id``, ``attempt``, ``output``) put back."""
    steps = state.steps
    restored: dict[str, Any] = {}
    for row in rows:
        run = steps.get(row.step_id)
        if run is not None and run.attempt == row.attempt and run.status in _HOLDS_OUTPUT:
            restored[row.step_id] = replace(run, output=row.output)
    if restored:
        state = replace(state, steps={**steps, **restored})
    return state


def outputs_read(plan: Plan, state: ExecutionState, step_id: str) -> frozenset[str] | None:
    """The stored outputs that applying the success of ``step_id`` can read; ``None``: maybe any.

    The step's own output is never read from the store: the event carries it.
    A success makes ready the successors that wait on nothing else, whose inputs read the outputs of their
    sources (default input) or of the ancestors their mapping names (the
    plan worked those out; every ancestor for a mapping that reaches
    ``steps`` dynamically). It completes the execution, whose output mapping
    may read every output, only when every other step is already over: a
    success through plain edges skips nothing. A routing step or an error
    edge can skip steps, hence complete the execution: every output then.
    """
    step = plan.steps.get(step_id)
    if step is None or step.branches is not None:
        return None
    read: set[str] = set()
    for edge in step.outgoing:
        if edge.kind.value != "ok":  # a catch route: the success skips its target
            return None
        target = plan.steps[edge.target]
        steps = state.steps
        if any(other.source != step_id and not steps[other.source].status.terminal for other in target.incoming):
            continue  # it still waits on another step: it cannot become ready now (a join's early branches)
        read.update(target.sources)
        if target.input is not None:
            read.update(target.mapped_steps if target.mapped_steps is not None else target.ancestors)
    if all(run.status.terminal for other, run in state.steps.items() if other != step_id):
        return None
    read.discard(step_id)  # its output is the one the event carries
    return frozenset(read)


def _stripped(state: ExecutionState) -> ExecutionState:
    """The state as stored: no step outputs, input or output (each is stored once, elsewhere)."""
    steps = {
        step_id: (replace(run, output=None) if run.output is not None else run) for step_id, run in state.steps.items()
    }
    return replace(state, input=None, output=None, steps=steps)


def _row_status(run: engine.StepRun) -> str:
    """A step's status as its attempt's row shows it: a step waiting for a retry shows how its attempt ended."""
    if run.status is StepStatus.RETRY_WAIT:
        timed_out = run.error is not None and run.error.kind.startswith("timeout")
        return str(StepStatus.TIMED_OUT if timed_out else StepStatus.FAILED)
    return str(run.status)


def _timer_map(state: ExecutionState) -> dict[TimerKey, datetime]:
    return {(str(t.kind), t.step_id or "", t.attempt): t.at for t in live_timers(state)}


def timer_event(kind: str, step_id: str, attempt: int, at: datetime) -> engine.TimerFired:
    """The ``TimerFired`` a stored timer delivers, at ``at`` (the store's clock)."""
    return engine.TimerFired(TimerKind(kind), at, step_id or None, attempt)


def event_tag(event: Any) -> str:
    """An event's type tag (``step_succeeded``...)."""
    return str(type(event).__struct_config__.tag)
