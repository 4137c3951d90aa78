"""What the API replicas share: a Litestar store (Redis distributed, memory embedded) and two atomic steps.

Litestar's ``Store`` gets, sets and deletes; the API also needs steps that
must be atomic across replicas, which its interface lacks, so they run on
the same Redis keys as Lua scripts (one round trip, nothing between read and
write); embedded, in this event loop with no ``await`` between read and write:

- ``take``: get and delete (a single-use ticket);
- ``count``: add one to a counter that lives for a window (a rate limit).
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import TYPE_CHECKING

from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore

if TYPE_CHECKING:
    from litestar.stores.base import Store
    from redis.asyncio import Redis

_COUNT = """
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
    ttl = tonumber(ARGV[1])
end
return {n, ttl}
"""


class SharedStore:
    """Key-value state shared by the API's replicas, under one namespace.

    Args:
        store: A Litestar store: a ``RedisStore`` (whose client the atomic steps use) or a ``MemoryStore``.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._redis: Redis | None = None
        self._lock = asyncio.Lock()
        self._counters: dict[str, tuple[int, float]] = {}
        if isinstance(store, RedisStore):
            self._redis = store._redis  # Litestar's store exposes no client; the atomic steps need it
            self._count = self._redis.register_script(_COUNT)

    @classmethod
    def in_memory(cls) -> SharedStore:
        """State in this process only (the embedded hub)."""
        return cls(MemoryStore())

    @classmethod
    def on_redis(cls, redis: Redis, namespace: str) -> SharedStore:
        """State on ``redis`` under ``namespace`` (the caller closes the client)."""
        return cls(RedisStore(redis, namespace=namespace))

    @property
    def distributed(self) -> bool:
        """Whether the state lives in Redis."""
        return self._redis is not None

    def key(self, key: str) -> str:
        """The Redis key of ``key`` (the store's namespace first)."""
        assert isinstance(self.store, RedisStore)
        return self.store._make_key(key)

    async def put(self, key: str, value: bytes, seconds: float) -> None:
        """Sets ``key`` for ``seconds`` (whole seconds, at least one)."""
        await self.store.set(key, value, expires_in=max(1, math.ceil(seconds)))

    async def get(self, key: str) -> bytes | None:
        """The value of ``key``, or ``None``."""
        return await self.store.get(key)

    async def take(self, key: str) -> bytes | None:
        """The value of ``key``, deleted in the same step: of two takers, one gets it."""
        if self._redis is not None:
            value = await self._redis.getdel(self.key(key))
            return value.encode() if isinstance(value, str) else value
        async with self._lock:  # MemoryStore awaits its own lock between get and delete
            stored = await self.store.get(key)
            if stored is not None:
                await self.store.delete(key)
            return stored

    async def count(self, key: str, window_seconds: float) -> tuple[int, float]:
        """Adds one to ``key``'s counter; returns the count and the seconds until its window ends.

        The window starts with the first count and lasts ``window_seconds`` (a fixed window).
        """
        window_ms = max(1, int(window_seconds * 1000))
        if self._redis is not None:
            count, ttl_ms = await self._count(keys=[self.key(key)], args=[window_ms])
            return int(count), int(ttl_ms) / 1000
        now = time.monotonic()
        count, ends = self._counters.get(key, (0, 0.0))
        if ends <= now:
            count, ends = 0, now + window_ms / 1000
            if len(self._counters) > 10_000:  # forget the windows that ended
                self._counters = {k: v for k, v in self._counters.items() if v[1] > now}
        self._counters[key] = (count + 1, ends)
        return count + 1, ends - now
