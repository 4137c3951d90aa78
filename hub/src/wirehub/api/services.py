"""What the API stands on: the database, the execution store, dispatch and events, in either mode.

Embedded (no ``WIREHUB_REDIS_URL``): the embedded hub runs in this process, with
its worker and sweeper. Distributed: this process is one stateless replica; it
writes transitions, sends their dispatches to the Redis stream and reads
events from Redis Pub/Sub, and ``wirehub worker`` processes run the steps.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from wirehub.api.caching import SharedDefinitions
from wirehub.api.limits import RateLimiter
from wirehub.api.live.workspaces import WorkspaceOf
from wirehub.api.security.principal_cache import PrincipalCache
from wirehub.api.shared import SharedStore
from wirehub.events import EventFeed, ExecutionChannels
from wirehub.runtime import default_registry
from wirehub.runtime.registry import NodeRegistry
from wirehub.settings import Settings
from wirehub.store import (
    CacheStats,
    CredentialKeyring,
    Dispatch,
    ExecutionStore,
    PlanCache,
    credential_keyring,
    service_engine,
    session_factory,
)
from wirehub.worker import STREAM, Dispatcher, broker_for, register
from wirehub.worker.embedded import embedded_hub

DEFAULT_NAMESPACE = "wirehub"
"""The prefix of the API's shared Redis keys (hubs sharing one Redis differ here)."""


@dataclass
class HubServices:
    """The parts a request handler uses.

    Attributes:
        settings: The settings this process runs with.
        engine: The database engine.
        sessions: Sessions for request handlers' reads and writes.
        store: Executions as transactions.
        registry: The node types installed in this process.
        dispatcher: Sends committed dispatches to the workers.
        channels: Where committed transitions are published and read back live.
        embedded: Whether the worker runs in this process.
        keyring: The keys credentials are sealed and opened with.
        shared: State shared by the API's replicas (tickets, rate counters, cached versions).
        limiter: The rate limits.
        workspaces: Which workspace each workflow belongs to (cached: it never changes).
        principals: Access tokens' principals, kept for under a second.
    """

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    store: ExecutionStore
    registry: NodeRegistry
    dispatcher: Dispatcher
    channels: ExecutionChannels
    embedded: bool
    keyring: CredentialKeyring
    shared: SharedStore
    limiter: RateLimiter
    workspaces: WorkspaceOf = field(default_factory=WorkspaceOf)
    principals: PrincipalCache = field(default_factory=PrincipalCache)

    @property
    def plans(self) -> PlanCache:
        """Compiled plans by (workflow, version), shared with the store."""
        return self.store.plans

    @property
    def cache_stats(self) -> CacheStats:
        """Hits and misses of the plan cache and the shared layer, with the time they took."""
        return self.store.plans.stats

    @property
    def events(self) -> EventFeed:
        """Executions' events: the history, then live transitions, with no gap."""
        return EventFeed(self.store, self.channels)

    async def dispatch(self, dispatches: Sequence[Dispatch]) -> None:
        """Sends what a committed transition made ready; the sweeper resends what is lost."""
        await self.dispatcher.send(dispatches)


def _share(settings: Settings, shared: SharedStore, plans: PlanCache) -> RateLimiter:
    """Gives ``plans`` its shared layer; the rate limiter over the same store."""
    plans.shared = SharedDefinitions(shared, definition_seconds=settings.cache_definition_seconds)
    return RateLimiter(shared, settings)


@contextlib.asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    registry: NodeRegistry | None = None,
    stream: str = STREAM,
    namespace: str = DEFAULT_NAMESPACE,
) -> AsyncIterator[HubServices]:
    """Opens the API's services for the ``async with`` block; the database is migrated first in embedded mode.

    The embedded worker gets steps' credentials from the database, of their own workspace.

    Args:
        settings: The process's settings.
        registry: The node types; the installed plugins by default.
        stream: The Redis stream dispatches go to (distributed), the one the workers read.
        namespace: The prefix of the Redis keys the API's replicas share (distributed).

    Raises:
        SettingsError: ``WIREHUB_CREDENTIAL_KEYS`` is malformed, or missing in distributed mode.
    """
    registry = registry if registry is not None else default_registry(settings=settings)
    keyring = credential_keyring(settings)
    if settings.redis_url is None:
        async with embedded_hub(settings, registry, database_url=settings.database_url, keyring=keyring) as hub:
            shared = SharedStore.in_memory()
            yield HubServices(
                settings=settings,
                engine=hub.engine,
                sessions=session_factory(hub.engine, writes=True),
                store=hub.store,
                registry=registry,
                dispatcher=hub.worker.dispatcher,
                channels=hub.worker.channels,
                embedded=True,
                keyring=keyring,
                shared=shared,
                limiter=_share(settings, shared, hub.store.plans),
            )
        return
    engine = service_engine(settings)
    store = ExecutionStore(
        session_factory(engine, writes=True),
        PlanCache(),
        lease_seconds=settings.lease_seconds,
        catalog=registry,
        redelivery_seconds=settings.lease_seconds,
    )
    broker = broker_for(settings, stream=stream)
    register(broker)  # this process only sends: no step runner
    redis = Redis.from_url(settings.redis_url)
    try:
        await broker.startup()
        async with ExecutionChannels.for_settings(settings) as channels:
            store.publisher = channels
            shared = SharedStore.on_redis(redis, namespace)
            yield HubServices(
                settings=settings,
                engine=engine,
                sessions=session_factory(engine, writes=True),
                store=store,
                registry=registry,
                dispatcher=Dispatcher(broker, store),
                channels=channels,
                embedded=False,
                keyring=keyring,
                shared=shared,
                limiter=_share(settings, shared, store.plans),
            )
    finally:
        await redis.aclose()
        await broker.shutdown()
        await engine.dispose()


__all__ = ["HubServices", "open_services"]
