"""Which addresses an outgoing request may reach, and how host names are resolved.

The rule is "globally routable only": an address is refused when it falls in
any special-purpose range (loopback, private, link-local, shared/CGNAT,
multicast, reserved, documentation, benchmarking...). The ranges are listed
here explicitly rather than trusted to ``ipaddress.is_global``, whose answer
differs between Python releases (on 3.11 it calls NAT64, 6to4 and multicast
addresses global). IPv6 forms that carry an IPv4 address are judged by that
IPv4 address (IPv4-mapped, NAT64) or refused outright (6to4, Teredo,
IPv4-compatible, local-use NAT64), since the packet may end up at the
embedded address.

``PinnedTransport`` applies the rule to every request and connects to the
address it checked.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import re
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import TYPE_CHECKING

import httpx

from wirehub_sdk._errors import EgressDeniedError

if TYPE_CHECKING:
    from wirehub_sdk._http import EgressPolicy

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

ALLOWED_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_POOLED_HOSTS = 64
"""Host names that get their own connection pool; further names connect afresh each time."""
_POOLED_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=8, keepalive_expiry=5.0)
_UNPOOLED_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=0)

_NUMERIC_IPV4 = re.compile(r"^[0-9a-fA-FxX.]+$")

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""Resolves ``(host, port)`` to IP address strings, for example ``["93.184.215.14"]``."""

_DENIED_V4: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(cidr), reason)
    for cidr, reason in (
        ("0.0.0.0/32", "the unspecified address"),
        ("0.0.0.0/8", "in 'this network' (0.0.0.0/8)"),
        ("10.0.0.0/8", "private (10.0.0.0/8)"),
        ("100.64.0.0/10", "carrier-grade NAT shared space (100.64.0.0/10)"),
        ("127.0.0.0/8", "loopback (127.0.0.0/8)"),
        ("169.254.0.0/16", "link-local (169.254.0.0/16, where cloud metadata services live)"),
        ("172.16.0.0/12", "private (172.16.0.0/12)"),
        ("192.0.0.0/24", "reserved for IETF protocol assignments (192.0.0.0/24)"),
        ("192.0.2.0/24", "documentation (192.0.2.0/24)"),
        ("192.88.99.0/24", "the deprecated 6to4 relay anycast range (192.88.99.0/24)"),
        ("192.168.0.0/16", "private (192.168.0.0/16)"),
        ("198.18.0.0/15", "benchmarking (198.18.0.0/15)"),
        ("198.51.100.0/24", "documentation (198.51.100.0/24)"),
        ("203.0.113.0/24", "documentation (203.0.113.0/24)"),
        ("224.0.0.0/4", "multicast (224.0.0.0/4)"),
        ("255.255.255.255/32", "the broadcast address"),
        ("240.0.0.0/4", "reserved (240.0.0.0/4)"),
    )
)

_DENIED_V6: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(cidr), reason)
    for cidr, reason in (
        ("::/128", "the unspecified address"),
        ("::1/128", "loopback (::1)"),
        ("::/96", "IPv4-compatible (::/96, deprecated)"),
        ("::ffff:0:0:0/96", "IPv4-translated (::ffff:0:0:0/96)"),
        ("64:ff9b:1::/48", "local-use NAT64 (64:ff9b:1::/48)"),
        ("100::/64", "discard-only (100::/64)"),
        ("2001::/32", "Teredo tunnelling (2001::/32)"),
        ("2001:2::/48", "benchmarking (2001:2::/48)"),
        ("2001:db8::/32", "documentation (2001:db8::/32)"),
        ("2001::/23", "reserved for IETF protocol assignments (2001::/23)"),
        ("2002::/16", "6to4 (2002::/16)"),
        ("3fff::/20", "documentation (3fff::/20)"),
        ("fc00::/7", "unique local, i.e. private (fc00::/7)"),
        ("fe80::/10", "link-local (fe80::/10)"),
        ("fec0::/10", "site-local (fec0::/10, deprecated)"),
        ("ff00::/8", "multicast (ff00::/8)"),
    )
)

_GLOBAL_UNICAST_V6 = IPv6Network("2000::/3")
_IPV4_MAPPED = IPv6Network("::ffff:0:0/96")
_NAT64 = IPv6Network("64:ff9b::/96")


def embedded_ipv4(address: IPAddress) -> IPv4Address | None:
    """Returns the IPv4 address an IPv6 address stands for, if any.

    Only the forms whose packets go to that IPv4 address are unwrapped:
    IPv4-mapped (``::ffff:a.b.c.d``) and NAT64 (``64:ff9b::a.b.c.d``).
    """
    if isinstance(address, IPv6Address) and (address in _IPV4_MAPPED or address in _NAT64):
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def denial_reason(address: IPAddress) -> str | None:
    """Says why an address is not globally routable, or ``None`` when it is.

    Args:
        address: The address a host name resolved to (or an IP literal).

    Returns:
        A short phrase such as ``"loopback (127.0.0.0/8)"``, or ``None``.
    """
    embedded = embedded_ipv4(address)
    if embedded is not None:
        inner = denial_reason(embedded)
        form = "IPv4-mapped" if address in _IPV4_MAPPED else "NAT64"
        return None if inner is None else f"{form} for {embedded}, which is {inner}"
    if isinstance(address, IPv4Address):
        for network, reason in _DENIED_V4:
            if address in network:
                return reason
    else:
        for v6network, reason in _DENIED_V6:
            if address in v6network:
                return _with_embedded(address, reason)
        if address not in _GLOBAL_UNICAST_V6:
            return "reserved (outside the global unicast range 2000::/3)"
    if not address.is_global:
        return "not globally routable"
    return None


def _with_embedded(address: IPv6Address, reason: str) -> str:
    if address.sixtofour is not None:
        return f"{reason}, embedding {address.sixtofour}"
    if address.teredo is not None:
        return f"{reason}, embedding {address.teredo[1]}"
    return reason


def parse_networks(cidrs: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Parses CIDR strings (``"10.0.0.0/8"``, ``"fd00::/8"``, or a bare address).

    Raises:
        ValueError: A value is not a network.
    """
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs if cidr.strip())


def normalize_host(host: str) -> str:
    """Lower-cases a host name and drops a trailing dot, for comparisons."""
    return host.strip().rstrip(".").lower()


def in_networks(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    """Whether the address, or the IPv4 address it embeds, is in one of ``networks``."""
    candidates: list[IPAddress] = [address]
    embedded = embedded_ipv4(address)
    if embedded is not None:
        candidates.append(embedded)
    return any(candidate in network for candidate in candidates for network in networks)


def parse_literal(host: str) -> IPAddress | None:
    """Parses a host that is an IP address in any notation, else ``None``.

    Besides the canonical forms, the numeric IPv4 notations the C library
    accepts are understood (``127.1``, ``2130706433``, ``0x7f000001``,
    ``0177.0.0.1``), so they are judged by the address they stand for
    whatever resolver is in use.
    """
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    if _NUMERIC_IPV4.match(host):
        try:
            return IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolves a host with the operating system's ``getaddrinfo``, off the event loop.

    Raises:
        OSError: The name does not resolve (``socket.gaierror``).
    """
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    addresses: list[str] = []
    for _family, _type, _proto, _canonname, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    return httpx.create_ssl_context(verify=True, trust_env=False)


class PinnedTransport(httpx.AsyncBaseTransport):
    """A transport that connects only to checked addresses.

    For each request it resolves the host once, refuses the request when any
    address is forbidden (see ``EgressPolicy.denial_reason``), and sends it to
    the checked address itself: the URL's host is replaced by the address,
    while the ``Host`` header and the TLS server name (SNI, and so certificate
    verification) keep the original name. No second DNS lookup happens, so a
    name cannot be re-pointed between the check and the connection.

    Connections are pooled per host name, so a TLS connection verified for
    one name is never reused for another name on the same address.

    Args:
        policy: The egress rules.
        resolver: Resolves host names; ``system_resolver`` by default.
        transport: Carries the pinned requests instead of the built-in pools.
        verify: TLS verification: ``True``, ``False`` or an ``ssl.SSLContext``.
    """

    def __init__(
        self,
        policy: EgressPolicy,
        resolver: Resolver | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self._policy = policy
        self._resolver = resolver or system_resolver
        self._custom = transport
        self._verify = verify
        self._pools: dict[str, httpx.AsyncBaseTransport] = {}
        self._unpooled: httpx.AsyncBaseTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Checks the request's target and sends it to the checked address."""
        url = request.url
        if url.scheme not in ALLOWED_SCHEMES:
            raise EgressDeniedError(
                f"egress to {url.host!r} refused: scheme {url.scheme!r} is not allowed (only http and https)",
                details={"host": url.host, "reason": "scheme"},
            )
        host = url.raw_host.decode("ascii")
        addresses = await self.checked_addresses(host, url.port or DEFAULT_PORTS[url.scheme], request)
        last_error: httpx.ConnectError | None = None
        for address in addresses:
            extensions = dict(request.extensions)
            if url.scheme == "https":
                extensions["sni_hostname"] = host
            pinned = httpx.Request(
                request.method,
                url.copy_with(host=str(address)),
                headers=request.headers,
                stream=request.stream,
                extensions=extensions,
            )
            try:
                return await self._transport_for(host).handle_async_request(pinned)
            except httpx.ConnectError as exc:  # try the next checked address, as a resolver-aware client would
                last_error = exc
        assert last_error is not None  # checked_addresses never returns an empty list
        raise last_error

    async def checked_addresses(self, host: str, port: int, request: httpx.Request) -> list[IPAddress]:
        """Resolves ``host`` and checks every address against the policy.

        Raises:
            EgressDeniedError: An address is forbidden (or not an address).
            httpx.ConnectError: The name does not resolve.
        """
        literal = parse_literal(host)
        if literal is not None:
            addresses: list[IPAddress] = [literal]
        else:
            try:
                resolved = await self._resolver(host, port)
            except OSError as exc:
                raise httpx.ConnectError(f"could not resolve {host!r}: {exc}", request=request) from exc
            addresses = []
            for value in resolved:
                try:
                    addresses.append(ipaddress.ip_address(value))
                except ValueError as exc:
                    raise EgressDeniedError(
                        f"egress to {host!r} refused: the resolver returned {value!r}, which is not an IP address",
                        details={"host": host, "address": value, "reason": "not an IP address"},
                    ) from exc
            if not addresses:
                raise httpx.ConnectError(f"{host!r} resolved to no address", request=request)
        for address in addresses:
            reason = self._policy.denial_reason(host, address)
            if reason is not None:
                raise EgressDeniedError(
                    f"egress to {host!r} refused: address {address} is {reason}",
                    details={"host": host, "address": str(address), "reason": reason},
                )
        return addresses

    def _transport_for(self, host: str) -> httpx.AsyncBaseTransport:
        if self._custom is not None:
            return self._custom
        pool = self._pools.get(host)
        if pool is not None:
            return pool
        if len(self._pools) < MAX_POOLED_HOSTS:
            pool = self._pools[host] = self._new_transport(_POOLED_LIMITS)
            return pool
        if self._unpooled is None:  # past the cap: fresh connections, never shared between names
            self._unpooled = self._new_transport(_UNPOOLED_LIMITS)
        return self._unpooled

    def _new_transport(self, limits: httpx.Limits) -> httpx.AsyncBaseTransport:
        verify = self._verify
        if verify is True:
            verify = _default_ssl_context()  # loading the CA bundle costs tens of milliseconds: once per process
        return httpx.AsyncHTTPTransport(verify=verify, trust_env=False, limits=limits)

    async def aclose(self) -> None:
        """Closes every pooled connection."""
        transports = [*self._pools.values(), *([self._unpooled] if self._unpooled else [])]
        self._pools.clear()
        self._unpooled = None
        for transport in transports:
            await transport.aclose()
