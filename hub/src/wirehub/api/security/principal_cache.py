"""Principals of access tokens (by ``jti``) and API keys (by the key's SHA-256), kept for less than a second.

Authenticating a request read the user, its memberships and the token's
revocation (two SQL statements and a Redis command), or the API key's row, its
account and memberships (three SQL statements), every time. A principal is now
kept for ``PRINCIPAL_CACHE_SECONDS`` after it was loaded, revocation check
included (never past an API key's expiry): a token or key revoked or a user
disabled on another replica is refused within a second; on this replica at
once, since revoking a token or a key, changing a user or changing a role or
membership here forgets the entries it affects.

Requests that miss together (every client of a busy replica, when a shared
principal expires) load it once (``load``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from uuid import UUID

from wirehub.api.security.principal import Principal

PRINCIPAL_CACHE_SECONDS = 0.9
"""How long a loaded principal is trusted: under a second, so another replica's revocation holds within one."""
MAX_PRINCIPALS = 10_000
"""Entries kept at most; past it the oldest go first."""


Loader = Callable[[], Awaitable[tuple[Principal | None, float | None]]]
"""Loads a principal: it (``None``: refused) and how long it may be kept at most (``None``: as long as any)."""


class PrincipalCache:
    """A bounded map of ``jti -> Principal`` whose entries expire ``seconds`` after they were stored.

    Args:
        seconds: How long an entry is served.
        max_entries: How many entries are kept at most.
        clock: A monotonic clock in seconds.
    """

    def __init__(
        self,
        seconds: float = PRINCIPAL_CACHE_SECONDS,
        max_entries: int = MAX_PRINCIPALS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._loading: dict[str, asyncio.Future[Principal | None]] = {}
        self._generation = 0
        """Bumped by every ``forget`` and ``clear``: a load that began before one is not kept."""

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, jti: str) -> Principal | None:
        """The principal stored for ``jti`` less than ``seconds`` ago, or ``None``."""
        found = self._entries.get(jti)
        if found is None:
            return None
        if found[0] <= self._clock():
            self._entries.pop(jti, None)
            return None
        return found[1]

    async def load(self, key: str, loader: Loader) -> Principal | None:
        """The principal kept for ``key``; else what ``loader`` finds, kept, and loaded once for every caller
        that asks for ``key`` meanwhile.

        ``loader`` gives the principal (``None``: refused, not kept) and how long it may be kept at most
        (``None``: ``seconds``). A caller cancelled while it waits does not cancel the load the others wait
        for; what the load raises, every waiting caller raises.
        """
        cached = self.get(key)
        if cached is not None:
            return cached
        loading = self._loading.get(key)
        if loading is None:
            loading = self._loading[key] = asyncio.ensure_future(self._load(key, loader, self._generation))
            loading.add_done_callback(lambda done: self._loaded(key, done))
        return await asyncio.shield(loading)

    async def _load(self, key: str, loader: Loader, generation: int) -> Principal | None:
        principal, at_most = await loader()
        if principal is not None and generation == self._generation:  # nothing was forgotten meanwhile
            self.put(key, principal, at_most=at_most)
        return principal

    def _loaded(self, key: str, done: asyncio.Future[Principal | None]) -> None:
        if self._loading.get(key) is done:
            del self._loading[key]
        if not done.cancelled():
            done.exception()  # retrieved: every waiter raised it already, or nobody waits any more

    def put(self, jti: str, principal: Principal, *, at_most: float | None = None) -> None:
        """Keeps ``principal`` for ``jti`` for ``seconds`` from now, or for ``at_most`` when that is less
        (an API key that expires sooner); not at all when ``at_most`` is not positive."""
        seconds = self.seconds if at_most is None else min(self.seconds, at_most)
        self._entries.pop(jti, None)  # re-inserted last: the dict's order is the order of expiry
        if seconds <= 0:
            return
        self._entries[jti] = (self._clock() + seconds, principal)
        if len(self._entries) > self.max_entries:
            self._prune()

    def _prune(self) -> None:
        now = self._clock()
        for jti in [jti for jti, (deadline, _) in self._entries.items() if deadline <= now]:
            del self._entries[jti]
        while len(self._entries) > self.max_entries:
            del self._entries[next(iter(self._entries))]

    def forget(self, jti: str) -> None:
        """Drops the entry of one token (it was revoked here)."""
        self._generation += 1
        self._entries.pop(jti, None)

    def forget_api_key(self, api_key_id: UUID) -> None:
        """Drops the entry of one API key (it was revoked here)."""
        self._generation += 1
        for key in [key for key, (_, principal) in self._entries.items() if principal.api_key_id == api_key_id]:
            del self._entries[key]

    def forget_user(self, user_id: UUID) -> None:
        """Drops every entry of one user (disabled, deleted or given a new password here)."""
        self._generation += 1
        for jti in [jti for jti, (_, principal) in self._entries.items() if principal.user_id == user_id]:
            del self._entries[jti]

    def clear(self) -> None:
        """Drops every entry (a role or a membership changed here)."""
        self._generation += 1
        self._entries.clear()
