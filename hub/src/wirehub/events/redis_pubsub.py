"""Litestar's Redis Pub/Sub channels backend, made to outlive a Redis restart.

``RedisChannelsPubSubBackend.stream_events`` raises when its connection
drops, which ends ``ChannelsPlugin``'s reading task for good: no subscriber
of the process hears anything again. Here the stream waits (0.1 s doubling to
5 s) and reads on; redis-py's ``PubSub`` reconnects on that read and
subscribes again to the channels it had. Events published while it was away
are lost to it (Pub/Sub keeps nothing): ``EventFeed.follow`` reads them
from the history.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Iterable
from typing import TYPE_CHECKING, Any

from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from redis.exceptions import RedisError

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger("wirehub.events")

BACKOFF_FIRST = 0.1
BACKOFF_MAX = 5.0


class ResilientPubSubBackend(RedisChannelsPubSubBackend):
    """``RedisChannelsPubSubBackend`` whose event stream survives a lost connection.

    Once shut down it stays down: a subscription that ends afterwards (a
    WebSocket handler cancelled as its server stops) unsubscribes from
    nothing, where Litestar's backend would open a new connection to do it,
    and nobody would ever close that one.
    """

    def __init__(self, *, redis: Redis) -> None:
        super().__init__(redis=redis)
        self._shut_down = False

    async def on_shutdown(self) -> None:
        """Closes the Pub/Sub connection for good."""
        self._shut_down = True
        await super().on_shutdown()

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        """Stops listening on ``channels``; after shutdown there is nothing left to stop."""
        if not self._shut_down:
            await super().unsubscribe(channels)

    async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
        """The subscribed channels' events, as they come, across reconnections."""
        delay = BACKOFF_FIRST
        while True:
            try:
                async for item in super().stream_events():
                    delay = BACKOFF_FIRST
                    yield item
            except (RedisError, OSError) as exc:
                logger.warning("lost the Redis connection of the event channels (%s); again in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)
