"""The distributed hub's broker: taskiq-redis's ``RedisStreamBroker``, configured against its traps."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import cast

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from taskiq import AckableMessage, BrokerMessage
from taskiq_redis import RedisStreamBroker

logger = logging.getLogger("wirehub.worker")

ACK_BATCH_SECONDS = 0.005
"""How long acknowledgements gather before one ``XACK`` sends them all."""
ABANDONED_PENDING_SECONDS = 60.0
"""A message read this long ago and never acknowledged was read by a worker that died (or whose
``XACK`` failed): ``trim`` acknowledges it, so that it no longer holds the stream's trimming back."""
ABANDONED_PER_TRIM = 1000


class DispatchStreamBroker(RedisStreamBroker):
    """``RedisStreamBroker`` configured so that none of its traps can lose or double an effect.

    - A worker reads messages only when it has a free slot, at most as many as
      it has free slots (``Consumer`` calls ``read``; ``listen`` reads
      ``xread_count=1`` at a time), so it never reserves messages it cannot start.
    - No ``maxlen``: trimming by length drops unread and pending entries.
      ``trim`` (called by the sweeper) removes only what every worker has
      read and acknowledged, so the stream stays as long as the work in flight.
    - The consumer group is created by ``ensure_group`` at ``0``, not ``$``:
      messages sent before it existed (or sent while Redis was being
      restarted without its data) are read, not skipped. ``startup`` calls it,
      and the consumer calls it again after every reconnect.
    - It never reclaims another consumer's pending messages (``listen`` reads
      new messages only): taskiq-redis reclaims them only when new traffic
      arrives, and redelivers a step that runs longer than ``idle_timeout``
      while its worker still runs it. The database decides instead: a dead
      worker's lease expires, and a dispatch nobody claimed is sent again.
    - Sends and acknowledgements share one client on the broker's pool instead
      of building a client per call, as taskiq-redis does (about 0.14 ms of CPU
      each here, a tenth of what a step costs).
    - Acknowledgements are gathered for ``ACK_BATCH_SECONDS`` and sent as one
      ``XACK`` of many ids: a message's acknowledgement only keeps the group's
      pending list short (nothing here reclaims pending messages; the
      database owns an attempt from its claim), so it may wait a few
      milliseconds, and one that fails (Redis is away) leaves a pending entry,
      never a lost or doubled attempt.
    """

    _client: Redis | None = None
    _unacknowledged: dict[str, list[str]] | None = None
    _acknowledging: asyncio.Task[None] | None = None

    @property
    def client(self) -> Redis:
        """The client on the broker's connection pool that sends and acknowledges."""
        if self._client is None:
            self._client = Redis(connection_pool=self.connection_pool)
        return self._client

    async def kick(self, message: BrokerMessage) -> None:
        """Appends a message to the stream (``XADD``)."""
        queue_name = message.labels.get("queue_name") or self.queue_name
        await self.client.xadd(queue_name, {b"data": message.message}, maxlen=self.maxlen, approximate=self.approximate)

    def _ack_generator(self, id: str, queue_name: str) -> Callable[[], Awaitable[None]]:
        async def ack() -> None:
            if self._unacknowledged is None:
                self._unacknowledged = {}
            self._unacknowledged.setdefault(queue_name, []).append(id)
            if self._acknowledging is None or self._acknowledging.done():
                self._acknowledging = asyncio.create_task(self._acknowledge_soon())

        return ack

    async def _acknowledge_soon(self) -> None:
        """Sends, after ``ACK_BATCH_SECONDS``, one ``XACK`` per stream for the ids gathered meanwhile."""
        await asyncio.sleep(ACK_BATCH_SECONDS)
        gathered, self._unacknowledged = self._unacknowledged or {}, None
        for queue_name, ids in gathered.items():
            try:
                await self.client.xack(queue_name, self.consumer_group_name, *ids)
            except RedisError as exc:  # Redis is away: the entries stay pending, which is harmless
                logger.warning("could not acknowledge %d dispatch message(s): %s", len(ids), exc)

    async def shutdown(self) -> None:
        """Sends the acknowledgements still gathered, then closes the connection pool."""
        if self._acknowledging is not None and not self._acknowledging.done():
            with contextlib.suppress(Exception):
                await self._acknowledging
        await super().shutdown()

    async def ensure_group(self) -> None:
        """Creates the stream and its consumer group unless they exist."""
        async with Redis(connection_pool=self.connection_pool) as redis:
            try:
                await redis.xgroup_create(self.queue_name, self.consumer_group_name, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def unread(self) -> int | None:
        """Messages of the stream no worker has read yet (the group's lag); None when Redis cannot say.

        Raises:
            redis.exceptions.RedisError: Redis is away.
        """
        async with Redis(connection_pool=self.connection_pool) as redis:
            groups = await redis.xinfo_groups(self.queue_name)
        for group in groups:
            name = group.get("name")
            if (name.decode() if isinstance(name, bytes) else name) == self.consumer_group_name:
                lag = group.get("lag")  # Redis 7+; None when it cannot be computed
                return int(lag) if lag is not None else None
        return None

    async def trim(self) -> int:
        """Removes the entries every group has read and acknowledged; returns how many went.

        The bound is the oldest entry a group still needs: its oldest pending
        (read, not yet acknowledged) entry, or else the last one it was given.
        Entries older than it (``XTRIM MINID``) were delivered and acknowledged;
        entries added meanwhile are newer and stay. A stream without a group is left alone.

        A message pending for ``ABANDONED_PENDING_SECONDS`` was read by a worker
        that died before acknowledging it; it is acknowledged first. That
        loses nothing: the database, not the stream, owns an attempt, and a
        dispatch nobody claimed is sent again by the sweeper.

        Raises:
            redis.exceptions.RedisError: Redis is away.
        """
        async with Redis(connection_pool=self.connection_pool) as redis:
            groups = await redis.xinfo_groups(self.queue_name)
            if not groups:
                return 0
            bounds: list[tuple[int, int]] = []
            for group in groups:
                bounds.append(_stream_id(group["last-delivered-id"]))
                abandoned = await redis.xpending_range(
                    self.queue_name,
                    group["name"],
                    min="-",
                    max="+",
                    count=ABANDONED_PER_TRIM,
                    idle=int(ABANDONED_PENDING_SECONDS * 1000),
                )
                if abandoned:
                    await redis.xack(self.queue_name, group["name"], *(entry["message_id"] for entry in abandoned))
                pending = await redis.xpending(self.queue_name, group["name"])
                if pending and pending.get("pending"):
                    bounds.append(_stream_id(pending["min"]))
            oldest = min(bounds)
            if oldest == (0, 0):
                return 0
            return int(await redis.xtrim(self.queue_name, minid=f"{oldest[0]}-{oldest[1]}", approximate=False))

    async def _declare_consumer_group(self) -> None:
        await self.ensure_group()

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        """Yields new messages of the stream, one read of ``xread_count`` at a time.

        Unlike ``RedisStreamBroker.listen``, no ``XAUTOCLAIM`` of idle pending
        messages (nor the pipeline and lock around it, which a cancelled or
        failed read would leave open).
        """
        while True:
            for message in await self.read(self.count or 1):
                yield message

    async def read(self, count: int, *, wait: bool = True) -> list[AckableMessage]:
        """One ``XREADGROUP`` of at most ``count`` new messages, waiting up to ``xread_block`` ms for one.

        Without ``wait``, only the messages there are now (maybe none).
        """
        fetched = await self.client.xreadgroup(
            self.consumer_group_name,
            self.consumer_name,
            {self.queue_name: ">"},
            block=self.block if wait else None,
            noack=False,
            count=count,
        )
        # redis-py types replies loosely: XREADGROUP gives [(stream, [(id, {field: value})])].
        replies = cast("list[tuple[str, list[tuple[str, dict[bytes, bytes]]]]]", fetched or [])
        return [
            AckableMessage(data=fields[b"data"], ack=self._ack_generator(id=message_id, queue_name=stream))
            for stream, messages in replies
            for message_id, fields in messages
        ]


def _stream_id(value: bytes | str) -> tuple[int, int]:
    """A stream entry id (``"1700000000000-3"``) as a comparable pair."""
    text = value.decode() if isinstance(value, bytes) else value
    milliseconds, _, sequence = text.partition("-")
    return int(milliseconds), int(sequence or 0)
