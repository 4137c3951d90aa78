"""``ExecutionChannels``: the channels execution events are published on, Litestar channels' own backends.

Distributed, the backend is Litestar's ``RedisChannelsPubSubBackend``, so
every process on the same Redis (workers, API replicas) sees every event;
embedded, it is ``MemoryChannelsBackend``, in this process only. A Litestar
app reads the very same channels through ``await channels.plugin()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING
from uuid import UUID

import msgspec

from wirehub.metrics import observe_transitions
from wirehub.store.events import ExecutionEvent

if TYPE_CHECKING:
    from types import TracebackType

    from litestar.channels import ChannelsPlugin, Subscriber
    from litestar.channels.backends.base import ChannelsBackend
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

from wirehub.settings import Settings

logger = logging.getLogger("wirehub.events")

DEFAULT_PREFIX = "wirehub"
"""The first part of every channel name (Redis Pub/Sub ignores the db number: hubs sharing a Redis differ here)."""
MAX_PENDING = 10_000
"""Events waiting to be published, at most; more are dropped (the history keeps them)."""
PUBLISH_TIMEOUT_SECONDS = 2.0
"""Longest wait for one publish to Redis before it counts as failed."""
FLUSH_SECONDS = 2.0
"""Longest wait, on exit, for the events still waiting to be published."""
BATCH = 200
"""Events published in one Redis round trip, at most."""
SUBSCRIBER_BACKLOG = 1_000
"""Events a subscriber may leave unread; past it the oldest are dropped (``follow`` fills the gap from the history)."""

_encode = msgspec.json.Encoder().encode
_PUBLISH_SCRIPT = """
local key = 1
for i = 1, #ARGV, 2 do
    local count = tonumber(ARGV[i])
    for j = 0, count - 1 do
        redis.call("PUBLISH", KEYS[key + j], ARGV[i + 1])
    end
    key = key + count
end
"""
"""Publishes several messages, each to its channels: ARGV holds each message's number of channels, then the
message; KEYS every message's channels, in order."""


class ExecutionChannels:
    """The hub's execution event channels: the store publishes on them, subscribers read them.

    Channel names (``P`` is ``prefix``):

    - ``P:execution:<execution id>``: every event of one execution;
    - ``P:workflow:<workflow id>``: every event of the workflow's executions;
    - ``P:all``: every event.

    Each message is one ``ExecutionEvent``, JSON. Publishing is best effort and
    never blocks or fails a transition: ``publish`` queues the events (at most
    ``max_pending``; past that they are dropped and logged) and a task sends
    them in order; a publish that fails (Redis is down) is logged and dropped.
    The history in the database is the record: see ``EventFeed.follow``.

    In memory, nothing is encoded or published until the first subscription
    (an event published to a channel nobody reads is dropped by the backend
    anyway): ``wirehub run`` spends nothing on them.

    Use it as an ``async with`` block around the process's work.

    Args:
        redis_url: The Redis of the distributed hub; ``None``: in memory, this process only.
        prefix: The first part of every channel name.
        max_pending: Events queued for publishing, at most.
        redis: A Redis client to publish and subscribe with, instead of one made from ``redis_url``
            (the caller closes it).
    """

    def __init__(
        self,
        redis_url: str | None = None,
        *,
        prefix: str = DEFAULT_PREFIX,
        max_pending: int = MAX_PENDING,
        redis: Redis | None = None,
    ) -> None:
        if not prefix or ":" in prefix:
            raise ValueError("the channel prefix is a non-empty name without ':'")
        self.redis_url = redis_url
        self.prefix = prefix
        self.distributed = redis_url is not None or redis is not None
        self.published = 0
        """Events handed to the backend."""
        self.dropped = 0
        """Events not published: the queue was full, or the backend failed."""
        self._redis = redis
        self._owns_redis = redis is None
        self._queue: asyncio.Queue[tuple[bytes, list[str]]] = asyncio.Queue(maxsize=max_pending)
        self._backend: ChannelsBackend | None = None
        self._plugin: ChannelsPlugin | None = None
        self._plugin_lock = asyncio.Lock()
        self._drain: asyncio.Task[None] | None = None
        self._script: AsyncScript | None = None
        self._failing = False
        self._full = False

    @classmethod
    def for_settings(cls, settings: Settings, *, prefix: str = DEFAULT_PREFIX) -> ExecutionChannels:
        """Redis channels when ``settings.redis_url`` is set, else in-memory ones."""
        return cls(settings.redis_url, prefix=prefix)

    def execution_channel(self, execution_id: UUID | str) -> str:
        """The channel of one execution's events."""
        return f"{self.prefix}:execution:{execution_id}"

    def workflow_channel(self, workflow_id: UUID | str) -> str:
        """The channel of the events of every execution of one workflow."""
        return f"{self.prefix}:workflow:{workflow_id}"

    @property
    def all_channel(self) -> str:
        """The channel of every event."""
        return f"{self.prefix}:all"

    def publish(self, events: Sequence[ExecutionEvent]) -> None:
        """Queues the events of one committed transition; returns at once and never raises (``EventPublisher``)."""
        observe_transitions(events)  # every committed transition passes here, in whichever process committed it
        if not self.distributed and self._plugin is None:
            return  # in memory and nobody subscribed yet: nobody could receive them
        for event in events:
            channels = [
                self.execution_channel(event.execution_id),
                self.workflow_channel(event.workflow_id),
                self.all_channel,
            ]
            try:
                self._queue.put_nowait((_encode(event), channels))
            except asyncio.QueueFull:
                self.dropped += 1
                if not self._full:
                    self._full = True
                    logger.warning("more than %d events wait to be published: dropping some", self._queue.maxsize)

    async def plugin(self) -> ChannelsPlugin:
        """The Litestar ``ChannelsPlugin`` over these channels' backend, started on first use.

        Subscribe with ``plugin.start_subscription(...)``. It is started and
        stopped with this object: do not add it to an app's lifespan again.
        """
        async with self._plugin_lock:
            if self._plugin is None:
                from litestar.channels import ChannelsPlugin

                plugin = ChannelsPlugin(
                    self._ensure_backend(),
                    arbitrary_channels_allowed=True,
                    subscriber_max_backlog=SUBSCRIBER_BACKLOG,
                    subscriber_backlog_strategy="dropleft",
                )
                await plugin.__aenter__()
                self._plugin = plugin
            return self._plugin

    @contextlib.asynccontextmanager
    async def subscribe(self, channels: Sequence[str]) -> AsyncIterator[Subscriber]:
        """A subscription to ``channels`` for the ``async with`` block: events published from now on reach it.

        Raises:
            redis.exceptions.RedisError: Redis is away; nothing is left half subscribed.
        """
        plugin = await self.plugin()
        # ChannelsPlugin.subscribe registers the subscriber before it asks the backend, and keeps it when
        # that fails: the channel would then stay silent in this process. Asking the backend first makes a
        # failure leave nothing behind (asking again, as the plugin then does, is harmless).
        await self._ensure_backend().subscribe(list(channels))
        async with plugin.start_subscription(list(channels)) as subscriber:
            yield subscriber

    async def flush(self) -> None:
        """Returns once every event queued so far was published or dropped (the channels must be open)."""
        await self._queue.join()

    async def __aenter__(self) -> ExecutionChannels:
        if self._drain is None:
            if self.distributed:
                self._ensure_redis()
            self._drain = asyncio.create_task(self._send(), name="wirehub events")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Publishes what is queued (for up to ``FLUSH_SECONDS``), then stops and lets go of Redis."""
        if self._drain is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(FLUSH_SECONDS):
                    await self.flush()
            self._drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drain
            self._drain = None
        with contextlib.suppress(Exception):  # Redis may be away: nothing is lost by not saying goodbye
            if self._plugin is not None:
                await self._plugin.__aexit__(None, None, None)
            elif self._backend is not None:
                await self._backend.on_shutdown()
        self._plugin = self._backend = None
        if self._redis is not None and self._owns_redis:
            with contextlib.suppress(Exception):
                await self._redis.aclose()
            self._redis = None

    def _ensure_backend(self) -> ChannelsBackend:
        if self._backend is None:
            if self.distributed:
                from wirehub.events.redis_pubsub import ResilientPubSubBackend

                self._backend = ResilientPubSubBackend(redis=self._ensure_redis())
            else:
                from litestar.channels.backends.memory import MemoryChannelsBackend

                self._backend = MemoryChannelsBackend()
        return self._backend

    def _ensure_redis(self) -> Redis:
        if self._redis is None:
            from redis.asyncio import Redis

            assert self.redis_url is not None  # distributed without a client means with a URL
            self._redis = Redis.from_url(self.redis_url)
        return self._redis

    async def _send(self) -> None:
        """Publishes the queued events in order, what waits together in one go; a failure drops them."""
        while True:
            batch = [await self._queue.get()]
            while len(batch) < BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._publish(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _publish_to_redis(self, batch: list[tuple[bytes, list[str]]]) -> None:
        """What ``RedisChannelsPubSubBackend.publish`` does (a script that PUBLISHes to each channel), batched.

        The whole batch is one script call: one command for Redis to parse and one round trip,
        whatever the number of events (a call per event, even pipelined, cost the worker about a
        tenth of its CPU at 5 events per execution).
        """
        redis = self._ensure_redis()
        if self._script is None:
            self._script = redis.register_script(_PUBLISH_SCRIPT)
        keys: list[str] = []
        args: list[bytes | int] = []
        for data, channels in batch:
            keys.extend(channels)
            args.extend((len(channels), data))
        await self._script(keys=keys, args=args)

    async def _publish(self, batch: list[tuple[bytes, list[str]]]) -> None:
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT_SECONDS):
                if self.distributed:
                    await self._publish_to_redis(batch)
                elif self._backend is not None:  # in memory, once something subscribed
                    for data, channels in batch:
                        await self._backend.publish(data, channels)
        except Exception as exc:  # Redis is down or slow: the history has the events, subscribers catch up from it
            self.dropped += len(batch)
            if not self._failing:
                self._failing = True
                logger.warning("could not publish execution events (they stay in the history): %s", exc)
            return
        self.published += len(batch)
        if self._failing:
            self._failing = False
            logger.info("publishing execution events again")
        if self._full and self._queue.qsize() < self._queue.maxsize // 2:
            self._full = False


def decode_event(data: bytes | str) -> ExecutionEvent:
    """The event a channel message carries.

    Raises:
        msgspec.DecodeError: The message is not an ``ExecutionEvent``.
    """
    return msgspec.json.decode(data, type=ExecutionEvent)
