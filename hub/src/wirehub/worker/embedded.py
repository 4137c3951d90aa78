"""The embedded hub: one process, one database, taskiq's in-process broker, a worker and its sweeper.

The same store, step runner and sweeper as the distributed hub: only the
broker differs. ``wirehub run`` runs on it, with a temporary SQLite database
unless ``WIREHUB_DATABASE_URL`` is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec

from wirehub.engine import Event, ExecutionState, Plan, apply, start, validate_input
from wirehub.events import EventFeed
from wirehub.runtime import (
    CredentialSource,
    ExecutionResult,
    InvalidWorkflowError,
    MappingCredentialSource,
    NodeThreads,
    ProgressSink,
    StepEnvironment,
    StoredCredential,
    compile_definition,
)
from wirehub.runtime.results import Observer
from wirehub.runtime.workflows import StepProgress, progress_sink
from wirehub.settings import Settings
from wirehub.store import (
    ExecutionStore,
    PlanCache,
    WalCheckpoints,
    WorkflowVersionService,
    database_engine,
    session_factory,
    upgrade_database,
)
from wirehub.worker.credentials import StoreCredentialSource
from wirehub.worker.process import Worker
from wirehub.worker.timer_writes import watch_timer_writes

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from wirehub.runtime.registry import NodeRegistry
    from wirehub.store import CredentialKeyring, ExecutionView

FOLLOW_POLL_SECONDS = 0.25
"""How long ``follow`` and ``wait`` wait for this process's worker to signal a transition before looking anyway
(a ``cancel`` or ``start`` from elsewhere)."""


@dataclass
class EmbeddedHub:
    """A running embedded hub: save workflows, start, cancel, wait for and follow executions.

    Attributes:
        store: The execution store.
        worker: The in-process worker (its ``dispatcher`` sends to the in-process broker).
        engine: The database engine.
        registry: The node types of this process.
    """

    store: ExecutionStore
    worker: Worker
    engine: AsyncEngine
    registry: NodeRegistry

    @property
    def events(self) -> EventFeed:
        """Executions' events: ``follow`` replays the history, then this process's transitions as they commit."""
        return EventFeed(self.store, self.worker.channels)

    async def save(self, definition: str | bytes | dict[str, Any]) -> UUID:
        """Stores a definition as a new workflow (version 1) and returns the workflow's id."""
        async with session_factory(self.engine, writes=True).begin() as session:
            version = await WorkflowVersionService(session, self.registry, self.store.plans).create(definition)
        return version.workflow_id

    async def start(self, workflow_id: UUID, input: Any = None, *, idempotency_key: str | None = None) -> UUID:
        """Starts an execution of the workflow's latest version and dispatches its first steps."""
        execution_id, applied = await self.store.start(workflow_id, None, input, idempotency_key=idempotency_key)
        await self.worker.dispatcher.send(applied.dispatches)
        return execution_id

    async def cancel(self, execution_id: UUID, reason: str = "cancelled") -> None:
        """Cancels an execution; a step running on any worker is stopped within about a second."""
        applied = await self.store.cancel(execution_id, reason)
        await self.worker.dispatcher.send(applied.dispatches)

    async def wait(self, execution_id: UUID, within: float | None = None) -> ExecutionView:
        """The execution once it is over."""
        async with asyncio.timeout(within):
            while True:
                try:
                    return await self.store.wait(execution_id, timeout=0)  # one look at its status
                except TimeoutError:
                    await self.transition()

    async def transition(self) -> None:
        """Returns once this process's worker or sweeper committed a transition (or after a short while)."""
        runner, sweeper = self.worker.runner.changed, self.worker.sweeper
        events = [runner] if sweeper is None else [runner, sweeper.changed]
        waits = [asyncio.ensure_future(event.wait()) for event in events]
        try:
            await asyncio.wait(waits, timeout=FOLLOW_POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
        for event in events:
            event.clear()

    async def follow(self, execution_id: UUID, plan: Plan, input: Any, observer: Observer | None) -> ExecutionState:
        """Replays the execution's history as it is written, calling ``observer`` after each event.

        The states are rebuilt from the history by the engine, as a client that
        reconnects would; the engine is deterministic, so they are the states
        the store went through. Returns the final state.
        """
        state: ExecutionState | None = None
        seen = 0
        while state is None or not state.status.terminal:
            entries = await self.store.history(execution_id, after=seen)
            if not entries:
                await self.transition()
                continue
            for entry in entries:
                seen = entry.sequence
                state = _replay(plan, str(execution_id), input, state, entry.event)
                if observer is not None:
                    result = observer(entry.event, state)
                    if result is not None:
                        await result
        return state


def _replay(plan: Plan, execution_id: str, input: Any, state: ExecutionState | None, event: Event) -> ExecutionState:
    if state is None:
        return start(plan, execution_id, input, event.at)[0]
    return apply(plan, state, event)[0]


@contextlib.asynccontextmanager
async def embedded_hub(
    settings: Settings,
    registry: NodeRegistry,
    *,
    database_url: str | None = None,
    credentials: CredentialSource | None = None,
    keyring: CredentialKeyring | None = None,
    on_progress: ProgressSink | None = None,
) -> AsyncIterator[EmbeddedHub]:
    """Runs an embedded hub for the ``async with`` block.

    Args:
        settings: Lease, concurrency, grace and egress; ``redis_url`` is ignored (the broker is in-process).
        registry: The node types attempts run with and plans compile against.
        database_url: The database; a temporary SQLite file (deleted afterwards) by default.
            It is migrated to the newest schema first.
        credentials: Where steps' named credentials come from.
        keyring: Without ``credentials``: steps get their workspace's credentials from the
            database, opened with these keys (``StoreCredentialSource``).
        on_progress: Receives nodes' progress reports.
    """
    settings = msgspec.structs.replace(settings, redis_url=None)
    with contextlib.ExitStack() as folders:
        if database_url is None:
            folder = Path(folders.enter_context(tempfile.TemporaryDirectory(prefix="wirehub-")))
            database_url = f"sqlite+aiosqlite:///{folder / 'wirehub.db'}"
        engine = database_engine(database_url, inline=True)
        checkpoints = WalCheckpoints.of(engine)  # statements run on the loop: the disk is waited for elsewhere
        if checkpoints is not None:
            checkpoints.attach(engine)
        try:
            await upgrade_database(engine)
            if checkpoints is not None:
                checkpoints.start()
            store = ExecutionStore(
                session_factory(engine, writes=True),
                PlanCache(),
                lease_seconds=settings.lease_seconds,
                catalog=registry,
                redelivery_seconds=settings.lease_seconds,
            )
            threads = NodeThreads(settings.egress_policy)
            if credentials is None and keyring is not None:
                credentials = StoreCredentialSource(session_factory(engine), keyring)
            async with StepEnvironment(registry, threads, credentials=credentials, on_progress=on_progress) as env:
                worker = Worker(settings, store, env)
                if worker.sweeper is not None:  # the database's only sweeper: it sleeps until the next timer
                    worker.sweeper.follows_timers = True
                    watch_timer_writes(engine, worker.sweeper)
                async with worker.running():
                    yield EmbeddedHub(store, worker, engine, registry)
        finally:
            await engine.dispose()
            if checkpoints is not None:
                await asyncio.to_thread(checkpoints.close)


async def run_definition(
    definition: str | bytes | dict[str, Any],
    input: Any = None,
    *,
    registry: NodeRegistry,
    settings: Settings,
    credentials: CredentialSource | Mapping[str, StoredCredential] | None = None,
    observer: Observer | None = None,
    on_progress: StepProgress | None = None,
    database_url: str | None = None,
) -> ExecutionResult:
    """Runs a definition to its end on an embedded hub: what ``wirehub run`` does.

    The definition is saved as a workflow, the execution started, and its
    attempts run by the in-process worker; ``observer`` sees every event of
    the history as it is written, with the state after it.

    Args:
        definition: JSON text or an already-decoded object.
        input: The execution input.
        registry: The node types.
        settings: Lease, grace, egress.
        credentials: Named credentials steps may use.
        observer: Called after every event, with the new state.
        on_progress: Called with ``(step_id, attempt, report)`` for every progress report.
        database_url: The database; a temporary SQLite file by default.

    Raises:
        InvalidWorkflowError: The definition or the input is not valid; nothing ran.
    """
    plan = compile_definition(definition, registry)
    problems = validate_input(plan, input)
    if problems:
        raise InvalidWorkflowError("the execution input", problems)
    source = MappingCredentialSource(credentials) if isinstance(credentials, Mapping) else credentials
    async with embedded_hub(
        settings, registry, database_url=database_url, credentials=source, on_progress=progress_sink(on_progress)
    ) as hub:
        workflow_id = await hub.save(definition)
        execution_id = await hub.start(workflow_id, input)
        state = await hub.follow(execution_id, hub.store.plans.get((workflow_id, 1)) or plan, input, observer)
    return ExecutionResult(str(execution_id), state.status, state.output, state.error, state)
