"""The HTTP client nodes use: httpx with the hub's egress rules.

(Interface first; the egress checks are filled in by the HTTP work.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    """Which outgoing requests are allowed.

    Attributes:
        allow_hosts: Host names allowed even when they resolve to a forbidden address.
        allow_networks: CIDR networks allowed even though they are forbidden by default.
        max_response_bytes: Response bodies are cut off (with an error) past this, after decompression.
        max_redirects: Redirect hops followed, each checked again.
    """

    allow_hosts: tuple[str, ...] = ()
    allow_networks: tuple[str, ...] = ()
    max_response_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5


class EgressClient:
    """An async HTTP client that refuses forbidden targets."""

    def __init__(self, policy: EgressPolicy | None = None) -> None:
        self.policy = policy or EgressPolicy()

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        raise NotImplementedError

    async def aclose(self) -> None:
        return None
