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
from collections.abc import AsyncGenerator
from typing import Any

from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from redis.exceptions import RedisError

logger = logging.getLogger("wirehub.events")

BACKOFF_FIRST = 0.1
BACKOFF_MAX = 5.0


class ResilientPubSubBackend(RedisChannelsPubSubBackend):
    """``RedisChannelsPubSubBackend`` whose event stream survives a lost connection."""

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
