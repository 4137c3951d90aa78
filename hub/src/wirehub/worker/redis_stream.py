"""The distributed hub's broker: taskiq-redis's ``RedisStreamBroker``, configured against its traps."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.exceptions import ResponseError
from taskiq_redis import RedisStreamBroker


class DispatchStreamBroker(RedisStreamBroker):
    """``RedisStreamBroker`` configured so that none of its traps can lose or double an effect.

    - ``xread_count=1``: a worker reads a message only when it has a free slot
      (see ``Consumer``), so it never reserves messages it cannot start.
    - No ``maxlen``: trimming drops unread and pending entries.
    - The consumer group is created by ``ensure_group`` at ``0``, not ``$``:
      messages sent before it existed (or sent while Redis was being
      restarted without its data) are read, not skipped. ``startup`` calls it,
      and the consumer calls it again after every reconnect.
    - ``idle_timeout`` is several leases long: the broker's own redelivery of
      a pending message comes long after the database has decided (the lease
      expired and the sweeper dispatched the attempt again); when it comes, the
      claim refuses it.
    - The lock around its reclaim of pending messages expires, so a worker
      killed while holding it cannot stop every other worker's reclaims.
    """

    async def ensure_group(self) -> None:
        """Creates the stream and its consumer group unless they exist."""
        async with Redis(connection_pool=self.connection_pool) as redis:
            try:
                await redis.xgroup_create(self.queue_name, self.consumer_group_name, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def _declare_consumer_group(self) -> None:
        await self.ensure_group()
