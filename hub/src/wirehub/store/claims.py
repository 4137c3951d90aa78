"""Fenced claims of attempts: claim, renew, finish and hand back, each one short transaction."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import msgspec
from msgspec.structs import replace
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from wirehub.engine import (
    Event,
    StepFailed,
    StepPlan,
    StepReleased,
    StepRun,
    StepStarted,
    StepStatus,
    StepSucceeded,
    StepSuspended,
    StepTimedOut,
)
from wirehub.metrics import observe_schedule_to_start
from wirehub.store.records import Applied, Claim, Dispatch
from wirehub.store.transition import (
    ATTEMPT_COLUMNS,
    OUTBOX,
    RUN_STEP,
    STEP_RUNS,
    AttemptRow,
    Loaded,
    StoreCore,
    event_tag,
    outputs_read,
    sql,
)

Outcome = StepSucceeded | StepFailed | StepSuspended | StepTimedOut
"""What a worker may report about the attempt it claimed."""
_OUTCOMES = (StepSucceeded, StepFailed, StepSuspended, StepTimedOut)
_log = logging.getLogger(__name__)
_LATE = "the result's lease token is not the attempt's current one (late or duplicate result)"
_SELECT_ATTEMPTS = select(*ATTEMPT_COLUMNS).where(
    STEP_RUNS.c.execution_id == bindparam("b_execution"), STEP_RUNS.c.step_id.in_(bindparam("b_steps", expanding=True))
)
_RENEW_ALL = (
    update(STEP_RUNS)
    .where(
        STEP_RUNS.c.lease_token.in_(bindparam("b_tokens", expanding=True)),
        STEP_RUNS.c.status == bindparam("b_running"),
        STEP_RUNS.c.lease_expires_at > bindparam("b_now"),
    )
    .values(lease_expires_at=bindparam("b_expires"))
    .returning(STEP_RUNS.c.lease_token)
)
"""Renews the leases a list of tokens holds (a token is an attempt's own): the tokens renewed."""
_SELECT_LEASES = select(STEP_RUNS.c.step_id, STEP_RUNS.c.attempt, STEP_RUNS.c.lease_token).where(
    STEP_RUNS.c.execution_id == bindparam("b_execution"), STEP_RUNS.c.step_id.in_(bindparam("b_steps", expanding=True))
)


class Claims(StoreCore):
    """The worker's side of the store: an attempt is claimed before it runs and its result is fenced."""

    async def claim(self, dispatch: Dispatch, worker: str) -> Claim | None:
        """Claims the attempt a dispatch names, for ``worker``.

        Only the execution's current attempt of the step counts, and only
        while no worker holds it: a scheduled attempt becomes ``running``
        (``StepStarted`` at the store's clock), a handed-back one included; a
        running one left without a lease (handed back by an older hub, which
        kept the attempt ``running``) is taken over with a new lease. Anything else (a duplicate
        delivery, a superseded or finished attempt, a cancelled execution) is
        recorded as stale and gives ``None``. Either way the dispatch record is
        done with and deleted.
        """
        async with self.sessions() as session, session.begin():
            return await self._claim_in(session, dispatch, worker)

    async def _claim_in(self, session: AsyncSession, dispatch: Dispatch, worker: str) -> Claim | None:
        key = (dispatch.step_id, dispatch.attempt)
        loaded = await self.lock(session, dispatch.execution_id, outputs=False, attempt=key)
        if loaded is None:
            return None
        now = self.now()
        run = loaded.state.steps.get(dispatch.step_id)
        row = loaded.attempt_row
        token = uuid4()
        expires = now + timedelta(seconds=self.lease_seconds)
        lease = {"worker": worker[:200], "lease_token": token, "lease_expires_at": expires}
        if row is not None and _waiting(run, dispatch):
            # The transition deletes the attempt's dispatch records: it leaves ``scheduled``.
            event = StepStarted(dispatch.step_id, dispatch.attempt, now)
            outcome = await self.transition(session, loaded, event, attempt_values={key: lease})
            if outcome.state is not None:
                _waited(row, now)
                deadline = outcome.state.steps[dispatch.step_id].run_deadline
                return _claim(dispatch, token, expires, row.input, now, deadline, loaded.plan.steps[dispatch.step_id])
            return None  # refused: the transition recorded why
        return await self._take_over_or_refuse(session, loaded, dispatch, row, lease, now)

    async def claim_all(self, dispatches: Sequence[Dispatch], worker: str) -> list[Claim | None]:
        """Claims the attempts several dispatches of one execution name, in one transaction.

        As ``claim`` does each, in order: the branches of a fan-out that reach
        one worker together cost one lock, one read of their rows, one write
        and one commit. One ``Claim`` or ``None`` per dispatch, in order.

        Raises:
            ValueError: The dispatches are of more than one execution.
        """
        if len(dispatches) <= 1:
            return [await self.claim(dispatch, worker) for dispatch in dispatches]
        execution_id = dispatches[0].execution_id
        if any(dispatch.execution_id != execution_id for dispatch in dispatches):
            raise ValueError("claim_all claims dispatches of one execution")
        async with self.sessions() as session, session.begin():
            return await self._claim_all_in(session, dispatches, worker)

    async def claim_many(self, dispatches: Sequence[Dispatch], worker: str) -> list[Claim | None]:
        """Claims the attempts dispatches of any executions name, in one transaction.

        As ``claim_all`` does those of each execution (one lock each, the
        executions locked in the order of their ids, so that two batches never
        wait for each other's locks in a cycle), with one commit for all:
        what a worker reads from the broker at once costs one transaction.
        One ``Claim`` or ``None`` per dispatch, in order. What one execution
        raises fails the whole batch (nothing is claimed).
        """
        if len(dispatches) <= 1:
            return [await self.claim(dispatch, worker) for dispatch in dispatches]
        claims: list[Claim | None] = [None] * len(dispatches)
        groups = _by_execution([dispatch.execution_id for dispatch in dispatches])
        async with self.sessions() as session, session.begin():
            locked = await self.lock_many(session, [execution_id for execution_id, _ in groups])
            keys = [(d.execution_id, d.step_id, d.attempt) for d in dispatches if d.execution_id in locked]
            rows = await self.attempt_rows(session, keys)
            for execution_id, indexes in groups:
                loaded = locked.get(execution_id)
                if loaded is None:
                    continue  # no such execution: nothing to claim
                group = [dispatches[index] for index in indexes]
                found = {
                    (d.step_id, d.attempt): rows[key]
                    for d in group
                    if (key := (execution_id, d.step_id, d.attempt)) in rows
                }
                claimed = await self._claim_loaded(session, loaded, group, found, worker)
                for index, claim in zip(indexes, claimed, strict=True):
                    claims[index] = claim
        return claims

    async def _claim_all_in(
        self, session: AsyncSession, dispatches: Sequence[Dispatch], worker: str
    ) -> list[Claim | None]:
        execution_id = dispatches[0].execution_id
        loaded = await self.lock(session, execution_id, outputs=False)
        if loaded is None:
            return [None] * len(dispatches)
        steps = sorted({dispatch.step_id for dispatch in dispatches})
        rows = {
            (row.step_id, row.attempt): AttemptRow(*row)
            for row in await sql(session, _SELECT_ATTEMPTS, {"b_execution": execution_id, "b_steps": steps})
        }
        return await self._claim_loaded(session, loaded, dispatches, rows, worker)

    async def _claim_loaded(
        self,
        session: AsyncSession,
        loaded: Loaded,
        dispatches: Sequence[Dispatch],
        rows: dict[tuple[str, int], AttemptRow],
        worker: str,
    ) -> list[Claim | None]:
        """Claims what dispatches of one locked execution name, given their attempts' rows (by step and attempt)."""
        now = self.now()
        expires = now + timedelta(seconds=self.lease_seconds)
        claims: list[Claim | None] = [None] * len(dispatches)
        starting: dict[tuple[str, int], tuple[int, UUID, AttemptRow]] = {}
        leases: dict[tuple[str, int], dict[str, Any]] = {}
        for index, dispatch in enumerate(dispatches):
            key = (dispatch.step_id, dispatch.attempt)
            run = loaded.state.steps.get(dispatch.step_id)
            row = rows.get(key)
            token = uuid4()
            lease = {"worker": worker[:200], "lease_token": token, "lease_expires_at": expires}
            if key not in starting and row is not None and _waiting(run, dispatch):
                starting[key] = (index, token, row)
                leases[key] = lease
                continue
            claims[index] = await self._take_over_or_refuse(session, loaded, dispatch, row, lease, now)
        if starting:
            events = [StepStarted(step_id, attempt, now) for step_id, attempt in starting]
            outcomes = await self.transition_all(session, loaded, events, attempt_values=leases)
            for (index, token, row), outcome in zip(starting.values(), outcomes, strict=True):
                if outcome.state is not None:
                    _waited(row, now)
                    dispatch = dispatches[index]
                    deadline = outcome.state.steps[dispatch.step_id].run_deadline
                    step = loaded.plan.steps[dispatch.step_id]
                    claims[index] = _claim(dispatch, token, expires, row.input, now, deadline, step)
        return claims

    async def _take_over_or_refuse(
        self,
        session: AsyncSession,
        loaded: Loaded,
        dispatch: Dispatch,
        row: AttemptRow | None,
        lease: dict[str, Any],
        now: datetime,
    ) -> Claim | None:
        """A dispatch whose attempt is not waiting for a worker: taken over, or refused and recorded as stale.

        A running attempt left without a lease (handed back by an older hub,
        which kept it ``running``) is taken over with ``lease``; anything else
        (a duplicate delivery, a superseded or finished attempt, a cancelled
        execution) is stale. Either way the dispatch record is deleted.
        """
        await sql(session, delete(OUTBOX).where(OUTBOX.c.id == dispatch.dispatch_id))
        run = loaded.state.steps.get(dispatch.step_id)
        if run is not None and row is not None and run.attempt == dispatch.attempt:
            if run.status is StepStatus.RUNNING and row.lease_token is None:
                await sql(session, update(STEP_RUNS).where(STEP_RUNS.c.id == row.id).values(**lease))
                step = loaded.plan.steps[dispatch.step_id]
                return _claim(
                    dispatch, lease["lease_token"], lease["lease_expires_at"], row.input, now, run.run_deadline, step
                )
            held = " and held by a worker" if run.status is StepStatus.RUNNING else ""
            reason = f"attempt {dispatch.attempt} is {run.status}{held}"
        else:
            reason = "the attempt is not the step's current one"
        await self.record_stale(session, dispatch.execution_id, "claim", msgspec.to_builtins(dispatch), reason)
        return None

    async def renew(self, claim: Claim) -> datetime | None:
        """Extends the claim's lease by ``lease_seconds`` from now.

        Returns:
            The new expiry; ``None`` when the lease is lost (it expired, it was
            superseded, or the attempt ended, e.g. because the execution was
            cancelled): the worker must stop the node.
        """
        async with self.sessions() as session, session.begin():
            now = self.now()
            expires = now + timedelta(seconds=self.lease_seconds)
            s = STEP_RUNS.c
            result = await sql(
                session,
                update(STEP_RUNS)
                .where(
                    s.execution_id == claim.execution_id,
                    s.step_id == claim.step_id,
                    s.attempt == claim.attempt,
                    s.lease_token == claim.lease_token,
                    s.status == str(StepStatus.RUNNING),
                    s.lease_expires_at > now,
                )
                .values(lease_expires_at=expires),
            )
            return expires if getattr(result, "rowcount", 0) == 1 else None

    async def renew_all(self, claims: Sequence[Claim]) -> list[datetime | None]:
        """Extends the leases of several claims by ``lease_seconds`` from now, in one statement.

        What ``renew`` does for each (a worker's queued claims, renewed
        together while they wait for a slot). One new expiry per claim, in
        order; ``None`` for a lease that is lost.
        """
        if not claims:
            return []
        async with self.sessions() as session, session.begin():
            now = self.now()
            expires = now + timedelta(seconds=self.lease_seconds)
            tokens = [claim.lease_token for claim in claims]
            parameters = {"b_tokens": tokens, "b_running": str(StepStatus.RUNNING), "b_now": now, "b_expires": expires}
            renewed = {row.lease_token for row in await sql(session, _RENEW_ALL, parameters)}
            return [expires if claim.lease_token in renewed else None for claim in claims]

    async def finish(
        self, claim: Claim, outcome: Outcome, *, worker: str | None = None, eager: int = 0, queue: int = 0
    ) -> Applied:
        """Records the result of a claimed attempt, fenced by its lease token.

        With ``worker`` and ``eager`` > 0, up to ``eager`` of the attempts the
        result makes ready are claimed for ``worker`` in the same transaction
        and returned in ``Applied.claims`` (the others in ``dispatches``): the
        worker that just finished a step runs the next one without a broker
        round trip and a claim transaction of its own. With ``queue`` > 0, up
        to that many more are claimed for the worker's queue (``Applied.queued``,
        see ``transition``): it starts each as a slot frees up, within
        ``QUEUED_START_SECONDS``, or hands it back.

        The store stamps ``at`` with its own clock. A result whose token is
        not the attempt's current one (its lease lapsed and the sweeper timed
        it out, another worker took it over, or it was already recorded)
        changes nothing, is recorded as stale and gives ``accepted=False``.

        Raises:
            TypeError: ``outcome`` is not a step result.
            ValueError: ``outcome`` is about another attempt than the claim.
        """
        _check(claim, outcome)
        async with self.sessions() as session, session.begin():
            return await self._finish_in(session, claim, outcome, worker, eager, queue)

    async def _finish_in(
        self, session: AsyncSession, claim: Claim, outcome: Outcome, worker: str | None, eager: int, queue: int
    ) -> Applied:
        key = (claim.step_id, claim.attempt)
        succeeded = outcome.step_id if isinstance(outcome, StepSucceeded) else None
        loaded = await self.lock(session, claim.execution_id, attempt=key, succeeded=succeeded)
        if loaded is None:
            return Applied(False, "unknown", [], None)
        row = loaded.attempt_row
        event = _stamped(outcome, self.now())
        if row is None or row.lease_token != claim.lease_token:
            await self.record_stale(session, claim.execution_id, event_tag(event), msgspec.to_builtins(event), _LATE)
            return Applied(False, loaded.status, [], None)
        outcome_ = await self.transition(session, loaded, event, eager=eager, queue=queue, worker=worker)
        return outcome_.applied

    async def finish_all(
        self,
        results: Sequence[tuple[Claim, Outcome]],
        *,
        worker: str | None = None,
        eager: int = 0,
        queue: int = 0,
    ) -> list[Applied]:
        """Records the results of several claimed attempts of one execution in one transaction.

        As ``finish`` does each, in order (each fenced by its own lease token,
        a stale one recorded and skipped), with one lock, one write of the
        execution and one commit: the branches of a fan-out that end together
        on one worker cost one transaction. What the results make ready is
        dispatched, eagerly claimed or queued once, in the first accepted
        result's ``Applied``. One ``Applied`` per result, in order.

        Raises:
            TypeError: An outcome is not a step result.
            ValueError: An outcome is about another attempt than its claim, or
                the claims are of more than one execution.
        """
        if not results:
            return []
        for claim, outcome in results:
            _check(claim, outcome)
        if len(results) == 1:
            claim, outcome = results[0]
            return [await self.finish(claim, outcome, worker=worker, eager=eager, queue=queue)]
        execution_id = results[0][0].execution_id
        if any(claim.execution_id != execution_id for claim, _ in results):
            raise ValueError("finish_all records results of one execution")
        async with self.sessions() as session, session.begin():
            return await self._finish_all_in(session, results, worker, eager, queue)

    async def finish_many(self, groups: Sequence[FinishGroup], *, worker: str | None = None) -> list[list[Applied]]:
        """Records the results of attempts of any executions in one transaction.

        Each group holds the results of one execution with what its result may
        claim (``eager``, ``queue``), and is recorded as ``finish_all`` records
        them; the executions are locked in the order of their ids (two batches
        never wait for each other's locks in a cycle), with one commit for all:
        results that end together on one worker cost one transaction. One list
        of ``Applied`` per group, in order. What one execution raises fails
        the whole batch (nothing is recorded).

        Raises:
            TypeError: An outcome is not a step result.
            ValueError: An outcome is about another attempt than its claim, or a group's
                claims are of more than one execution, or two groups are of one execution.
        """
        for group in groups:
            for claim, outcome in group.results:
                _check(claim, outcome)
            if len({claim.execution_id for claim, _ in group.results}) != 1:
                raise ValueError("a group holds the results of one execution")
        order = _by_execution([group.results[0][0].execution_id for group in groups])
        if any(len(indexes) > 1 for _, indexes in order):
            raise ValueError("two groups hold results of one execution")
        found: list[list[Applied]] = [[] for _ in groups]
        async with self.sessions() as session, session.begin():
            locked = await self.lock_many(session, [execution_id for execution_id, _ in order])
            keys = [
                (claim.execution_id, claim.step_id, claim.attempt)
                for group in groups
                for claim, _ in group.results
                if claim.execution_id in locked
            ]
            tokens: dict[UUID, dict[tuple[str, int], UUID | None]] = {}
            for (execution_id, step_id, attempt), row in (await self.attempt_rows(session, keys)).items():
                tokens.setdefault(execution_id, {})[(step_id, attempt)] = row.lease_token
            wanted: dict[UUID, tuple[Loaded, frozenset[str] | None]] = {}
            for execution_id, (index,) in order:
                loaded = locked.get(execution_id)
                if loaded is not None:
                    wanted[execution_id] = (loaded, _outputs_needed(loaded, groups[index].results))
            await self.restore_outputs(session, wanted)
            for execution_id, (index,) in order:
                group = groups[index]
                loaded = locked.get(execution_id)
                if loaded is None:
                    found[index] = [Applied(False, "unknown", [], None) for _ in group.results]
                    continue
                found[index] = await self._finish_loaded(
                    session, loaded, group.results, tokens.get(execution_id, {}), worker, group.eager, group.queue
                )
        return found

    async def _finish_all_in(
        self,
        session: AsyncSession,
        results: Sequence[tuple[Claim, Outcome]],
        worker: str | None,
        eager: int,
        queue: int,
    ) -> list[Applied]:
        execution_id = results[0][0].execution_id
        loaded = await self.lock(session, execution_id)
        if loaded is None:
            return [Applied(False, "unknown", [], None) for _ in results]
        steps = sorted({claim.step_id for claim, _ in results})
        rows = await sql(session, _SELECT_LEASES, {"b_execution": execution_id, "b_steps": steps})
        tokens = {(row.step_id, row.attempt): row.lease_token for row in rows}
        return await self._finish_loaded(session, loaded, results, tokens, worker, eager, queue)

    async def _finish_loaded(
        self,
        session: AsyncSession,
        loaded: Loaded,
        results: Sequence[tuple[Claim, Outcome]],
        tokens: dict[tuple[str, int], UUID | None],
        worker: str | None,
        eager: int,
        queue: int,
    ) -> list[Applied]:
        """Records results of one locked execution, each fenced by its attempt's current lease token."""
        now = self.now()
        applied: list[Applied | None] = []
        events: list[Event] = []
        for claim, outcome in results:
            event = _stamped(outcome, now)
            if tokens.get((claim.step_id, claim.attempt)) != claim.lease_token:
                await self.record_stale(
                    session, loaded.execution_id, event_tag(event), msgspec.to_builtins(event), _LATE
                )
                applied.append(Applied(False, loaded.status, [], None))
                continue
            applied.append(None)
            events.append(event)
        if not events:
            return [item for item in applied if item is not None]
        outcomes = iter(await self.transition_all(session, loaded, events, eager=eager, queue=queue, worker=worker))
        return [next(outcomes).applied if item is None else item for item in applied]

    async def hand_back(self, claim: Claim, reason: str, *, send: bool = False) -> Dispatch | None:
        """Releases a claim without a result: the attempt is dispatched again, to any worker.

        In one transaction, fenced by the claim's lease token: ``StepReleased``
        makes the attempt ``scheduled`` again (its lease and run deadline
        cleared; its queue deadline the one it had when first scheduled, else
        ``DEFAULT_QUEUE_TIMEOUT_SECONDS`` from its first release), and a
        dispatch record is made, due for redelivery at the next sweep. An
        attempt that keeps coming back because no worker can run it fails
        with ``timeout.queue`` when the sweeper fires its ``schedule_timeout``
        timer. A claim that is no longer current does nothing.

        With ``send`` the caller sends the new dispatch itself, after commit
        (it is returned; the sweeper redelivers it only if it is still
        unclaimed ``redelivery_seconds`` later), as for any transition's
        dispatch: a worker handing back queued claims it has no slot for.

        Returns:
            The new dispatch with ``send``, else ``None``.
        """
        key = (claim.step_id, claim.attempt)
        async with self.sessions() as session, session.begin():
            loaded = await self.lock(session, claim.execution_id, outputs=False, attempt=key)
            if loaded is None:
                return None
            row = loaded.attempt_row
            if row is None or row.lease_token != claim.lease_token:
                return None
            now = self.now()
            event = StepReleased(claim.step_id, claim.attempt, now, reason[:1000])
            outcome = await self.transition(session, loaded, event, attempt_values={key: {"worker": None}})
            if outcome.state is None:
                return None  # refused: the transition recorded why
            dispatch = Dispatch(uuid7(), claim.execution_id, claim.step_id, claim.attempt)
            created = now if send else now - timedelta(seconds=self.redelivery_seconds)
            await _add_dispatch(session, dispatch, row.id, created)
            _log.info(
                "attempt %s of step %r of execution %s handed back: %s",
                claim.attempt,
                claim.step_id,
                claim.execution_id,
                reason,
            )
            return dispatch if send else None


async def _add_dispatch(session: AsyncSession, dispatch: Dispatch, step_run_id: UUID, created_at: datetime) -> None:
    # Backdated by the redelivery interval when nobody sends it now, so the next sweep sends it.
    await sql(
        session,
        insert(OUTBOX).values(
            id=dispatch.dispatch_id,
            execution_id=dispatch.execution_id,
            step_run_id=step_run_id,
            kind=RUN_STEP,
            payload=dispatch,
            deliveries=0,
            delivered_at=None,
            created_at=created_at,
        ),
    )


def _claim(
    dispatch: Dispatch,
    token: UUID,
    expires: datetime,
    input: Any,
    now: datetime,
    deadline: datetime | None,
    step: StepPlan,
) -> Claim:
    return Claim(dispatch.execution_id, dispatch.step_id, dispatch.attempt, token, expires, input, now, deadline, step)


def _waiting(run: StepRun | None, dispatch: Dispatch) -> bool:
    """Whether the dispatch names the step's current attempt, waiting for a worker."""
    return run is not None and run.attempt == dispatch.attempt and run.status is StepStatus.SCHEDULED


def _waited(row: AttemptRow, now: datetime) -> None:
    """Records the schedule-to-start latency of an attempt claimed from its dispatch."""
    if row.scheduled_at is not None:
        observe_schedule_to_start((now - row.scheduled_at).total_seconds())


def _check(claim: Claim, outcome: Outcome) -> None:
    if not isinstance(outcome, _OUTCOMES):
        raise TypeError(f"a worker reports StepSucceeded, StepFailed, StepSuspended or StepTimedOut, not {outcome!r}")
    if (outcome.step_id, outcome.attempt) != (claim.step_id, claim.attempt):
        raise ValueError(
            f"the result is about attempt {outcome.attempt} of step '{outcome.step_id}', "
            f"the claim about attempt {claim.attempt} of step '{claim.step_id}'"
        )


def _stamped(outcome: Outcome, now: datetime) -> Outcome:
    """The worker's result at the store's clock.

    A suspension's ``until`` moves with it: the worker computed it on its own
    clock, so the delay it means is ``until - at``, whatever that clock says.
    """
    if isinstance(outcome, StepSuspended):
        return replace(outcome, at=now, until=now + (outcome.until - outcome.at))
    return replace(outcome, at=now)


@dataclass(frozen=True)
class FinishGroup:
    """The results of one execution's attempts for ``finish_many``, with what they may claim.

    Attributes:
        results: The claims and their outcomes, all of one execution.
        eager: How many of the attempts they make ready to claim for the worker (see ``finish``).
        queue: How many more to claim for the worker's queue.
    """

    results: Sequence[tuple[Claim, Outcome]]
    eager: int = 0
    queue: int = 0


def _outputs_needed(loaded: Loaded, results: Sequence[tuple[Claim, Outcome]]) -> frozenset[str] | None:
    """The stored outputs recording ``results`` can read (``None``: maybe any; see ``outputs_read``)."""
    if len(results) == 1 and isinstance(results[0][1], StepSucceeded):
        return outputs_read(loaded.plan, loaded.state, results[0][1].step_id)
    return None


def _by_execution(execution_ids: Sequence[UUID]) -> list[tuple[UUID, list[int]]]:
    """The positions of each execution's items, the executions in the order of their ids (the lock order)."""
    positions: dict[UUID, list[int]] = {}
    for index, execution_id in enumerate(execution_ids):
        positions.setdefault(execution_id, []).append(index)
    return sorted(positions.items(), key=lambda item: item[0])
