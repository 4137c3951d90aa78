"""Runs the attempts dispatched to this process: claim, run under a renewed lease, finish, dispatch.

The database decides; this only carries out. An attempt runs only once its
claim committed (a duplicate delivery or a stale attempt gets no claim), its
result counts only while its lease holds (the store fences ``finish`` by the
lease token), and what comes next is dispatched only after the result
committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from structlog.contextvars import bound_contextvars

from wirehub.runtime import Attempt, HandedBack, StepEnvironment, run_attempt
from wirehub.store import FinishGroup
from wirehub.worker.claim_queue import ClaimQueue, Queued
from wirehub.worker.dispatcher import Dispatcher
from wirehub.worker.slots import Slots

if TYPE_CHECKING:
    from uuid import UUID

    from wirehub.engine import StepPlan
    from wirehub.store import Applied, Claim, Dispatch, ExecutionStore
    from wirehub.store.claims import Outcome

    _Waiting = tuple[Claim, Outcome, asyncio.Future[Applied]]
    _Claiming = tuple[Dispatch, asyncio.Future[Claim | None]]

logger = logging.getLogger("wirehub.worker")

R = TypeVar("R")
Ack = Callable[[], Awaitable[None]]

CANCEL_CHECK_SECONDS = 1.0
"""Longest time between two renewals: a cancel or a lost lease reaches the node within about this."""
ACK_SECONDS = 1.0
"""Longest wait for the broker to take an acknowledgement."""
RETRY_FIRST = 0.05
RETRY_MAX = 2.0
TEND_SECONDS = 0.05
"""How often the queued claims are looked at while there are any: hand-backs are this late at most."""


W = TypeVar("W", bound=tuple[Any, ...])


@dataclass
class _Lane(Generic[W]):
    """One kind of transaction in this worker: whether one is under way, and what waits to go in the next."""

    waiting: list[W] = field(default_factory=list)
    busy: bool = False


@dataclass(eq=False)
class _Running:
    claim: Claim
    task: asyncio.Task[Any]
    """The task handling the message: waited for on shutdown."""
    work: asyncio.Task[Any] | None = None
    """The attempt itself: cancelled when the lease is lost or the worker hands it back."""
    handing_back: bool = False
    lost: bool = False
    begun: datetime | None = None
    """A queued claim's start (store clock): its run deadline counts from here, not from the claim."""


@dataclass
class StepRunner:
    """Runs dispatched attempts in this process.

    Attributes:
        store: The store whose transactions claim, renew and finish attempts.
        env: What every attempt runs with (node types, threads, credentials).
        dispatcher: Sends what a finished attempt makes ready.
        worker: This worker's name, recorded with each claim.
        lease_seconds: The store's lease: renewals come every third of it, and at least every second.
        eager: How many attempts this worker runs at once when results claim what they make ready
            (eager dispatch): a result claims one, which runs in the finished attempt's slot and
            task, and one more for each slot it can take then (each in a task of its own, holding
            its slot until it ends). What it does not claim is dispatched through the broker, to
            any worker. ``Worker`` sets it to ``worker_concurrency``.
        slots: The worker's slots, shared with its consumer (by default ``eager`` of the
            runner's own): an attempt claimed with a result takes one as a message does.
        queue: The worker's queued claims (``wirehub.worker.claim_queue``): a result also
            claims ready attempts beyond the free slots, up to the queue's places, and
            each starts in the first slot given back (before the consumer reads another
            message), or is handed back once it waited ``QUEUED_START_SECONDS``. By
            default none (``ClaimQueue(0)``); ``Worker`` sets ``worker_concurrency``
            places when distributed.
    """

    store: ExecutionStore
    env: StepEnvironment
    dispatcher: Dispatcher
    worker: str
    lease_seconds: float
    eager: int = 1
    slots: Slots | None = None
    queue: ClaimQueue = field(default_factory=lambda: ClaimQueue(0))
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    """Set after each transition this runner commits: lets a waiter in this process look again at once."""
    _running: dict[tuple[str, str, int], _Running] = field(default_factory=dict, init=False)
    _accepting: bool = field(default=True, init=False)
    _finishing: _Lane[_Waiting] = field(default_factory=_Lane, init=False)
    """While a result is being recorded: the results waiting to be recorded next, together."""
    _claiming: _Lane[_Claiming] = field(default_factory=_Lane, init=False)
    """While a claim is under way: the dispatches waiting to be claimed next, together."""
    _spawned: set[asyncio.Task[None]] = field(default_factory=set, init=False)
    """Tasks running attempts claimed beyond the first with a result: kept referenced until they end."""
    _tending: asyncio.Task[None] | None = field(default=None, init=False)
    """Renews the queued claims' leases and hands back those that waited too long, while there are any."""

    def __post_init__(self) -> None:
        if self.slots is None:
            self.slots = Slots(max(1, self.eager))
        self.slots.handoff = self._start_queued

    @property
    def running(self) -> int:
        """Attempts running now."""
        return len(self._running)

    async def handle(self, dispatch: Dispatch, ack: Ack | None = None) -> None:
        """Claims and runs one dispatched attempt; a duplicate or stale one changes nothing.

        Args:
            dispatch: What the broker message carried.
            ack: Acknowledges the message; called once the claim is decided, since
                from then on the database, not the broker, owns the attempt.
        """
        if not self._accepting:
            return  # stopping: not acknowledged, unclaimed; the sweeper dispatches it again
        claim = await self._claim(dispatch)
        self.changed.set()
        if ack is not None:
            await _acknowledge(ack)
        if claim is None:
            logger.info("dispatch %s is stale or a duplicate: not run", dispatch.dispatch_id)
            return
        await self._run_chain(claim)

    async def _claim(self, dispatch: Dispatch) -> Claim | None:
        """Claims a dispatched attempt; those that arrive meanwhile, of any execution, go together next.

        A dispatch that finds no claim under way in this worker leads: it lets
        the loop run once (the other messages of the same broker read get
        here), then claims itself with those in one transaction
        (``claim_many``). The ones that arrive while a claim is under way wait
        and are claimed together after it, by a task of their own, while the
        leader runs its attempt. A dispatch whose batch failed is claimed again
        on its own.
        """
        if self._claiming.busy:
            waiting: asyncio.Future[Claim | None] = asyncio.get_running_loop().create_future()
            self._claiming.waiting.append((dispatch, waiting))
            try:
                return await waiting
            except Exception as exc:  # the batch failed: on our own, then
                logger.info("claiming %s with others failed (%s): alone now", dispatch.dispatch_id, exc)
                return await self.store.claim(dispatch, self.worker)
        self._claiming.busy = True
        try:
            await asyncio.sleep(
                0
            )  # the other messages of the same read reach the lane meanwhile: claimed with this one
            if not self._claiming.waiting:
                return await self.store.claim(dispatch, self.worker)
            mine: asyncio.Future[Claim | None] = asyncio.get_running_loop().create_future()
            batch = [(dispatch, mine), *self._claiming.waiting]
            del self._claiming.waiting[:]
            await self._claim_batch(batch)
            return mine.result()
        finally:
            self._pump(self._claiming, self._claim_batch)

    def _pump(self, lane: _Lane[W], run: Callable[[list[W]], Awaitable[None]]) -> None:
        """Runs what waits in ``lane`` in batches, in a task of its own, until none waits; then the lane is free."""
        waiting = lane.waiting
        if not waiting:
            lane.busy = False
            return

        async def pump() -> None:
            try:
                while waiting:
                    batch = waiting[:]
                    del waiting[:]
                    await run(batch)
            finally:
                lane.busy = False
                for *_, left in waiting:  # cancelled meanwhile: those waiting go on their own
                    if not left.done():
                        left.set_exception(RuntimeError("the batch was not run"))
                del waiting[:]

        task = asyncio.create_task(pump())
        self._spawned.add(task)
        task.add_done_callback(self._spawned.discard)

    async def _claim_batch(self, batch: list[_Claiming]) -> None:
        try:
            claims = await self.store.claim_many([dispatch for dispatch, _ in batch], self.worker)
        except BaseException as exc:
            error = exc if isinstance(exc, Exception) else RuntimeError("the batch was not claimed")
            for _, waiting in batch:
                if not waiting.done():
                    waiting.set_exception(error)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, waiting), claim in zip(batch, claims, strict=True):
            if not waiting.done():
                waiting.set_result(claim)
            elif claim is not None:  # its message's task is gone: give the attempt back at once
                task = asyncio.create_task(self._hand_back(claim, "claimed for a message no longer handled"))
                self._spawned.add(task)
                task.add_done_callback(self._spawned.discard)

    async def _run_chain(self, claim: Claim, begun: datetime | None = None) -> None:
        """Runs a claimed attempt, then each attempt claimed with its result, in this task.

        ``begun`` is the start of a queued claim, where its run deadline counts from.
        """
        current = asyncio.current_task()
        assert current is not None  # runs in a task
        next_claim: Claim | None = claim
        # An attempt's result may come with the claim of the next ready attempt (eager dispatch):
        # this task runs it in the same slot, without a broker round trip.
        while next_claim is not None:
            if not self.accepting:  # the worker began stopping while the claim committed
                await self._hand_back(next_claim, "the worker is stopping")
                return
            key = (str(next_claim.execution_id), next_claim.step_id, next_claim.attempt)
            running = _Running(next_claim, current, begun=begun)
            begun = None
            self._running[key] = running
            try:
                # Every line about this attempt (claim, lease, result, hand-back) carries its ids.
                with bound_contextvars(execution_id=key[0], step_id=key[1], attempt=key[2]):
                    next_claim = await self._run(running)
            finally:
                self._running.pop(key, None)

    @property
    def accepting(self) -> bool:
        """Whether dispatches are still claimed here (False once the worker is stopping)."""
        return self._accepting

    def stop_accepting(self) -> None:
        """From now on dispatches are left unclaimed (for another worker); queued claims are handed back at once."""
        self._accepting = False
        if len(self.queue):
            task = asyncio.get_running_loop().create_task(
                self._hand_back_queued(self.queue.take_all(), "the worker is stopping")
            )
            self._spawned.add(task)
            task.add_done_callback(self._spawned.discard)

    async def stop(self, grace: float) -> None:
        """Hands back queued claims; lets running attempts finish for ``grace`` seconds, then hands back the rest."""
        self.stop_accepting()
        if self._tending is not None:
            self._tending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tending
        tasks = [running.task for running in self._running.values()] + list(self._spawned)
        if tasks:
            await asyncio.wait(tasks, timeout=grace)
        left = list(self._running.values())
        for running in left:
            running.handing_back = True
            if running.work is not None:
                running.work.cancel()
        if left:
            logger.info("handing back %d running attempt(s) after the %.1fs grace", len(left), grace)
            await asyncio.wait([running.task for running in left])

    async def _run(self, running: _Running) -> Claim | None:
        """Runs one claimed attempt and records its result; returns the next attempt claimed with it, if any."""
        claim = running.claim
        step = claim.step
        if step is None:  # a store that does not say what to run: let a worker that can have it
            await self._hand_back(claim, "the claim carries no step plan")
            return None
        begun = running.begun or _first_claimed_at(claim, step)
        attempt = Attempt(str(claim.execution_id), claim.attempt, claim.input, begun)
        work = running.work = asyncio.create_task(run_attempt(self.env, step, attempt))
        renewing = asyncio.create_task(self._renew(running))
        try:
            outcome = await work
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                work.cancel()
                raise  # this task itself was cancelled: not ours to decide
            # The lease is lost (the store moved on) or the worker hands the attempt back.
            if running.handing_back and not running.lost:
                await self._hand_back(claim, "the worker is stopping")
            return None
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
        if running.lost:
            return None
        if isinstance(outcome, HandedBack):
            await self._hand_back(claim, outcome.reason)
            return None
        applied = await self._finish(claim, outcome)
        self.changed.set()
        if applied is None:
            return None
        if not applied.accepted:
            logger.info("the result of %s#%d came too late: recorded as stale", claim.step_id, claim.attempt)
        for extra in applied.claims[1:]:  # each holds a slot taken before its result was recorded
            task = asyncio.create_task(self._run_chain(extra))
            self._spawned.add(task)
            task.add_done_callback(self._chain_ended)
        await self.dispatcher.send(applied.dispatches)
        return applied.claims[0] if applied.claims else None

    def _chain_ended(self, task: asyncio.Task[None]) -> None:
        self._spawned.discard(task)
        self._slots.give()

    @property
    def _slots(self) -> Slots:
        assert self.slots is not None  # set in __post_init__
        return self.slots

    def _take_slots(self) -> int:
        """Slots for attempts a result may claim beyond the one its own slot runs: taken now, before the claim."""
        return self._slots.take(self.eager - 1) if self._accepting else 0

    def _eager(self, extra: int) -> int:
        """How many ready attempts a result may claim: one for its own slot, one per slot taken."""
        return 1 + extra if self._accepting else 0

    def _give_unused(self, extra: int, results: list[Applied | None]) -> None:
        claimed = sum(max(0, len(applied.claims) - 1) for applied in results if applied is not None)
        self._slots.give(extra - min(extra, claimed))

    def _reserve_queue(self, asked: float) -> int:
        """Places in the queue a result may fill: taken now, before the transaction."""
        return self.queue.reserve(asked) if self._accepting else 0

    def _queue_claims(self, places: int, results: list[Applied | None], asked: float) -> None:
        """Queues the claims results took for the queue, and gives back the reserved places."""
        self.queue.release(places)
        queued = [claim for applied in results if applied is not None for claim in applied.queued]
        if not queued:
            return
        if not self._accepting:  # stopping while the transaction ran: give them back at once
            entries = [Queued(claim, asked, asked) for claim in queued]
            task = asyncio.create_task(self._hand_back_queued(entries, "the worker is stopping"))
            self._spawned.add(task)
            task.add_done_callback(self._spawned.discard)
            return
        self.queue.put(queued, asked)
        while len(self.queue) and self._slots.take(1):  # a slot freed meanwhile: start at once
            if not self._start_queued():
                self._slots.give()
                break
        if len(self.queue) and (self._tending is None or self._tending.done()):
            self._tending = asyncio.create_task(self._tend())

    def _start_queued(self) -> bool:
        """Starts the oldest queued claim in a slot being given back; False when there is none to start."""
        if not self._accepting:
            return False
        now = asyncio.get_running_loop().time()
        entry = self.queue.pop(now)
        if entry is None:
            return False
        claim = entry.claim
        # Its start on the store's clock, from the claim instant (late by at most the transaction's time).
        begun = claim.claimed_at + timedelta(seconds=now - entry.asked)
        if claim.starts_by is not None:
            begun = min(begun, claim.starts_by)
        task = asyncio.create_task(self._run_chain(claim, begun))
        self._spawned.add(task)
        task.add_done_callback(self._chain_ended)
        return True

    async def _tend(self) -> None:
        """While claims wait in the queue: hands back those that waited too long, renews the others' leases."""
        loop = asyncio.get_running_loop()
        every = min(self.lease_seconds / 3, CANCEL_CHECK_SECONDS)
        while len(self.queue):
            await asyncio.sleep(TEND_SECONDS)
            now = loop.time()
            late = self.queue.overdue(now)
            if late:
                reason = f"not started within {self.queue.hand_back_after:g} s: the worker's slots stayed busy"
                await self._hand_back_queued(late, reason)
            due = self.queue.due_for_renewal(now - every)
            if not due:
                continue
            try:
                renewed = await asyncio.shield(self.store.renew_all([entry.claim for entry in due]))
            except Exception as exc:  # the database is away: a lease holds for a while, try again next time
                logger.warning("could not renew the leases of %d queued claim(s): %s", len(due), exc)
                continue
            lost = []
            for entry, expires in zip(due, renewed, strict=True):
                if expires is None:
                    lost.append(entry)
                else:
                    entry.renewed = now
            if lost:
                logger.info("the leases of %d queued claim(s) were lost (cancelled or expired): dropped", len(lost))
                self.queue.drop(lost)

    async def _hand_back_queued(self, entries: list[Queued], reason: str) -> None:
        """Hands back queued claims, one transaction each, and sends their new dispatches to any worker."""
        dispatches: list[Dispatch] = []
        for entry in entries:
            dispatch = await self._retry(
                "hand back", entry.claim, functools.partial(self._give_back, entry.claim, reason)
            )
            if dispatch is not None:
                dispatches.append(dispatch)
        if entries:
            logger.info("handed back %d queued claim(s): %s", len(entries), reason)
        await self.dispatcher.send(dispatches)

    async def _finish(self, claim: Claim, outcome: Outcome) -> Applied | None:
        """Records a result; those that end meanwhile, of any execution, are recorded together next.

        A result that finds no record under way in this worker is recorded
        alone; the ones that end while one is (a fan-out's branches, other
        executions' steps) wait and are recorded in one transaction after it
        (``finish_many``), by a task of their own. A result whose batch failed
        is recorded again on its own, with the usual retries.
        """
        self.queue.note_ended(asyncio.get_running_loop().time())
        if self._finishing.busy:
            waiting: asyncio.Future[Applied] = asyncio.get_running_loop().create_future()
            self._finishing.waiting.append((claim, outcome, waiting))
            try:
                return await waiting
            except Exception as exc:  # the batch failed: on our own, then
                logger.info("recording %s#%d with others failed (%s): alone now", claim.step_id, claim.attempt, exc)
                return await self._record(claim, outcome)
        self._finishing.busy = True
        try:
            return await self._record(claim, outcome)
        finally:
            self._pump(self._finishing, self._record_batch)

    async def _record(self, claim: Claim, outcome: Outcome) -> Applied | None:
        asked = asyncio.get_running_loop().time()
        extra = self._take_slots()
        places = self._reserve_queue(asked)
        applied: Applied | None = None
        try:
            applied = await self._retry(
                "record the result of",
                claim,
                lambda: self.store.finish(claim, outcome, worker=self.worker, eager=self._eager(extra), queue=places),
            )
            return applied
        finally:
            self._queue_claims(places, [applied], asked)
            self._give_unused(extra, [applied])

    async def _record_batch(self, batch: list[_Waiting]) -> None:
        """Records the results of ``batch`` in one transaction, grouped by execution.

        The first execution's group may claim what its results make ready for
        the slots taken now and the queue; every other group one attempt, run
        in the slot its first result's attempt gives back.
        """
        asked = asyncio.get_running_loop().time()
        extra = self._take_slots()
        places = self._reserve_queue(asked)
        order: dict[UUID, list[int]] = {}
        for index, (claim, _, _) in enumerate(batch):
            order.setdefault(claim.execution_id, []).append(index)
        groups = [
            FinishGroup(
                [(batch[index][0], batch[index][1]) for index in indexes],
                eager=self._eager(extra) if number == 0 else self._eager(0),
                queue=places if number == 0 else 0,
            )
            for number, indexes in enumerate(order.values())
        ]
        results: list[Applied] = []
        delivered: list[Applied | None] = []  # a result whose waiter is gone runs nothing it claimed
        try:
            recorded = await self.store.finish_many(groups, worker=self.worker)
            for indexes, applied_group in zip(order.values(), recorded, strict=True):
                for index, applied in zip(indexes, applied_group, strict=True):
                    results.append(applied)
                    waiting = batch[index][2]
                    if not waiting.done():
                        waiting.set_result(applied)
                        delivered.append(applied)
        except BaseException as exc:
            error = exc if isinstance(exc, Exception) else RuntimeError("the batch was not recorded")
            for _, _, waiting in batch:
                if not waiting.done():
                    waiting.set_exception(error)
            if not isinstance(exc, Exception):
                raise
        finally:
            self._queue_claims(places, list(results), asked)  # queued whoever waits for the result
            self._give_unused(extra, delivered)

    async def _give_back(self, claim: Claim, reason: str) -> Dispatch | None:
        return await self.store.hand_back(claim, reason, send=True)

    async def _renew(self, running: _Running) -> None:
        """Renews the lease until ``work`` ends; cancels it when the lease is lost or the step cancelled."""
        loop = asyncio.get_running_loop()
        every = min(self.lease_seconds / 3, CANCEL_CHECK_SECONDS)
        holds_until = loop.time() + self.lease_seconds
        while True:
            await asyncio.sleep(every)
            asked = loop.time()
            try:
                # Shielded: the attempt ending cancels this task, often mid-renewal (a step of about a
                # whole number of seconds), and a transaction cancelled mid-statement costs a connection.
                renewed = await asyncio.shield(self.store.renew(running.claim))
            except Exception as exc:  # the database is away: keep running while the lease surely holds
                if loop.time() < holds_until:
                    logger.warning("could not renew the lease of %s: %s", running.claim.step_id, exc)
                    continue
                renewed = None
            if renewed is None:
                logger.info(
                    "lease of %s#%d lost or cancelled: stopping it", running.claim.step_id, running.claim.attempt
                )
                running.lost = True
                if running.work is not None:
                    running.work.cancel()
                return
            holds_until = asked + self.lease_seconds

    async def _hand_back(self, claim: Claim, reason: str) -> None:
        await self._retry("hand back", claim, lambda: self.store.hand_back(claim, reason))

    async def _retry(self, what: str, claim: Claim, operation: Callable[[], Awaitable[R]]) -> R | None:
        """Runs a store operation, retrying through a database outage while the lease could still hold.

        After that the sweeper has expired the lease and the retry policy decided: giving up loses nothing.
        """
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.lease_seconds
        delay = RETRY_FIRST
        while True:
            try:
                return await operation()
            except Exception as exc:
                if loop.time() + delay >= give_up:
                    logger.error(
                        "could not %s %s#%d, leaving it to the sweeper: %s", what, claim.step_id, claim.attempt, exc
                    )
                    return None
                logger.warning("could not %s %s#%d, retrying: %s", what, claim.step_id, claim.attempt, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)


async def _acknowledge(ack: Ack) -> None:
    """Acknowledges a message, without letting a broker outage hold up or fail the attempt.

    The claim has committed: the database owns the attempt now. A message left
    unacknowledged is at worst delivered again, and the claim refuses it.
    """
    try:
        async with asyncio.timeout(ACK_SECONDS):
            await ack()
    except Exception as exc:  # Redis is away (or slow): the attempt runs all the same
        logger.warning("could not acknowledge a dispatch message: %s", exc)


def _first_claimed_at(claim: Claim, step: StepPlan) -> datetime:
    """When the attempt was first claimed: its run deadline counts from there, also after a hand-back.

    The store keeps the attempt's deadline from its first claim; the node's
    ``ctx.deadline`` (the claim instant plus ``timeout_seconds``) must agree.
    """
    if claim.deadline is None or step.timeout_seconds is None:
        return claim.claimed_at
    return claim.deadline - timedelta(seconds=step.timeout_seconds)
