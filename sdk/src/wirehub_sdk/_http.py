"""The HTTP client nodes use: httpx with the hub's egress rules.

Every request, and every redirect hop, goes only to http(s) targets whose
addresses are all globally routable (or allowed by the operator), connects
to the address that was checked, and reads at most a bounded body.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.cookiejar
import ipaddress
import logging
import re
import ssl
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from wirehub_sdk._credential_auth import CredentialAuth
from wirehub_sdk._decoding import ACCEPT_ENCODING, BoundedDecoder, BudgetExceededError
from wirehub_sdk._egress import (
    ALLOWED_SCHEMES,
    IPAddress,
    IPNetwork,
    PinnedTransport,
    Resolver,
    denial_reason,
    in_networks,
    normalize_host,
    parse_networks,
)
from wirehub_sdk._errors import EgressDeniedError, NonRetryableError

_USERINFO = re.compile(r"//[^/?#@]*@")
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_BODY_HEADERS = ("content-type", "content-length", "transfer-encoding")
_ORIGIN_BOUND_HEADERS = ("authorization", "proxy-authorization", "cookie", "host")
_ENCODING_HEADERS = ("content-encoding", "content-length", "transfer-encoding")
CLIENT_HEADERS = frozenset(
    {b"host", b"content-length", b"transfer-encoding", b"connection", b"keep-alive", b"upgrade", b"te", b"trailer"}
    | {b"expect"}
)
"""Framing and routing headers the client derives from the URL and the body; a caller may not set them
(nor any ``Proxy-*`` header)."""
_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_FIELD_VALUE = re.compile(rb"(?:[!-~\x80-\xff](?:[\t -~\x80-\xff]*[!-~\x80-\xff])?)?")


class _HideUrlSecrets(logging.Filter):
    """Logs httpx's request lines with URLs that carry no query string or userinfo.

    httpx logs each request's URL at INFO after ``auth`` ran, so a query-string
    credential (``core.query``) or a key in the definition's URL would
    reach whatever handler the host configured.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(arg, httpx.URL) for arg in record.args):
            record.args = tuple(_describe(arg) if isinstance(arg, httpx.URL) else arg for arg in record.args)
        return True


_URL_FILTER = _HideUrlSecrets()
logging.getLogger("httpx").addFilter(_URL_FILTER)  # once per process: the module is imported once


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    """Which outgoing requests are allowed.

    Attributes:
        allow_hosts: Host names allowed even when they resolve to a forbidden address
            (exact names, case-insensitive).
        allow_networks: CIDR networks allowed even though they are forbidden by default.
        max_response_bytes: Response bodies are cut off (with an error) past this, after decompression.
        max_redirects: Redirect hops followed, each checked again.
        timeout_seconds: The default bound on one whole request (all hops and the body).

    Raises:
        ValueError: A network does not parse, or a limit is not positive.
    """

    allow_hosts: tuple[str, ...] = ()
    allow_networks: tuple[str, ...] = ()
    max_response_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    timeout_seconds: float = 30.0
    _hosts: frozenset[str] = field(init=False, repr=False, compare=False)
    _networks: tuple[IPNetwork, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_response_bytes < 1 or self.max_redirects < 0 or self.timeout_seconds <= 0:
            raise ValueError("max_response_bytes and timeout_seconds must be positive, max_redirects not negative")
        object.__setattr__(self, "allow_hosts", tuple(self.allow_hosts))
        object.__setattr__(self, "allow_networks", tuple(self.allow_networks))
        object.__setattr__(self, "_hosts", frozenset(normalize_host(h) for h in self.allow_hosts if h.strip()))
        object.__setattr__(self, "_networks", parse_networks(self.allow_networks))

    def host_allowed(self, host: str) -> bool:
        """Whether ``host`` is one of ``allow_hosts``."""
        return normalize_host(host) in self._hosts

    def denial_reason(self, host: str, address: str | IPAddress) -> str | None:
        """The verdict on connecting to ``address`` for ``host``.

        Args:
            host: The host name of the URL (or the IP literal itself).
            address: One address the host resolved to.

        Returns:
            ``None`` when the connection is allowed, otherwise why not (for
            example ``"loopback (127.0.0.0/8)"``).

        Raises:
            ValueError: ``address`` is not an IP address.
        """
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        if self.host_allowed(host) or in_networks(ip, self._networks):
            return None
        return denial_reason(ip)


def _no_cookies() -> http.cookiejar.CookieJar:
    # One client serves every execution: it must never carry one response's cookies into another request.
    return http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


class EgressClient:
    """An async HTTP client that refuses forbidden targets.

    Redirects are followed here, not by httpx, so that each hop is checked;
    credentials (``auth``) and the ``Authorization``/``Cookie`` headers go to
    the first request's origin only. Cookies are never stored. Proxy settings
    from the environment are ignored.

    Args:
        policy: The egress rules; the defaults refuse every non-global address.
        resolver: An async ``(host, port) -> [address, ...]``; by default the
            system's ``getaddrinfo``, run off the event loop.
        transport: Carries requests after their target was checked (their URL
            host is then the checked address); by default pooled httpx transports.
        verify: TLS verification: ``True``, ``False`` or an ``ssl.SSLContext``.
        user_agent: The ``User-Agent`` header sent unless a request sets one.
    """

    def __init__(
        self,
        policy: EgressPolicy | None = None,
        *,
        resolver: Resolver | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: ssl.SSLContext | bool = True,
        user_agent: str = "wirehub",
    ) -> None:
        self.policy = policy or EgressPolicy()
        self._transport = PinnedTransport(self.policy, resolver, transport=transport, verify=verify)
        self._client = httpx.AsyncClient(
            transport=self._transport,
            trust_env=False,
            follow_redirects=False,
            cookies=_no_cookies(),
            headers={"User-Agent": user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            timeout=self.policy.timeout_seconds,
        )

    async def request(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | httpx.Headers | None = None,
        content: bytes | str | None = None,
        data: Mapping[str, Any] | None = None,
        json: Any = None,
        auth: httpx.Auth | None = None,
        timeout: float | None = None,  # noqa: ASYNC109  # bounds every hop and the body, as httpx's timeout does
        follow_redirects: bool = True,
        max_redirects: int | None = None,
        max_response_bytes: int | None = None,
    ) -> httpx.Response:
        """Sends a request and reads its whole (bounded) body.

        Args:
            method: The HTTP method.
            url: An absolute http or https URL.
            params: Query parameters merged into the URL's query (replacing those of the same name).
            headers: Request headers.
            content: A raw body. At most one of ``content``, ``data`` and ``json``.
            data: A form body (``application/x-www-form-urlencoded``).
            json: A JSON body (``None`` sends none).
            auth: Applied to each request to the first request's origin, e.g.
                ``ctx.credential_auth``.
            timeout: Seconds for the whole exchange (resolution, every hop and
                the body); the policy's ``timeout_seconds`` by default.
            follow_redirects: Follow 301/302/303/307/308 (each hop checked again).
            max_redirects: Fewer hops than the policy allows (never more).
            max_response_bytes: A lower body limit than the policy's (never higher).

        Returns:
            The final response with its body read. Its body is decoded, so the
            ``Content-Encoding`` and ``Content-Length`` headers of the wire are
            dropped; ``response.request`` is the request as built before
            ``auth`` was applied, so logging it reveals no credential;
            ``response.history`` holds the redirect responses, without bodies.

        Raises:
            EgressDeniedError: The URL is not a valid http(s) URL, or a hop's
                target is forbidden. Raised before any connection to it.
            NonRetryableError: Kind ``"http.header"`` (a header the client sets, such as
                ``Host`` or ``Transfer-Encoding``, or a name or value that cannot be sent;
                nothing is sent), ``"http.too_large"`` (body over the limit) or
                ``"http.redirects"`` (more redirects than allowed).
            httpx.TimeoutException: The exchange took longer than ``timeout``.
            httpx.HTTPError: Other transport failures (connect, read, protocol).
        """
        total = self.policy.timeout_seconds if timeout is None else timeout
        limit = self.policy.max_response_bytes
        if max_response_bytes is not None:
            limit = min(limit, max_response_bytes)
        hops = self.policy.max_redirects if max_redirects is None else min(max_redirects, self.policy.max_redirects)
        exchange = _Exchange(
            method=method.upper(),
            headers=_checked_headers(headers),
            content=content,
            data=data,
            json=json,
            timeout=httpx.Timeout(total),
        )
        scope = asyncio.timeout(total)
        try:
            async with scope:
                target = _parse_url(url)
                if params:  # merged into the URL's own query (httpx would replace it)
                    target = target.copy_merge_params(params)
                return await self._run(exchange, target, auth, follow_redirects, hops, limit)
        except TimeoutError as exc:
            if not scope.expired():
                raise
            raise httpx.TimeoutException(f"the request to {_describe(url)} took longer than {total:g} s") from exc

    async def _run(
        self,
        exchange: _Exchange,
        url: httpx.URL,
        auth: httpx.Auth | None,
        follow_redirects: bool,
        max_redirects: int,
        limit: int,
    ) -> httpx.Response:
        history: list[httpx.Response] = []
        first: httpx.URL | None = None
        while True:
            _require_http(url)
            request = self._client.build_request(
                exchange.method,
                url,
                headers=exchange.headers,
                content=exchange.content,
                data=exchange.data,
                json=exchange.json,
                timeout=exchange.timeout,
            )
            if first is None:
                first = request.url
            if isinstance(auth, CredentialAuth):  # a host-bound credential refuses every hop outside its hosts
                auth.check_host(request.url)
            shown = httpx.Request(request.method, request.url, headers=request.headers.copy())
            same_origin = _same_origin(first, request.url)
            response = await self._client.send(request, auth=auth if same_origin else None, stream=True)
            location = _redirect_location(response) if follow_redirects else None
            if location is None:
                return await _read(response, shown, limit, history)
            await response.aclose()
            history.append(_loaded(response, shown, b"", []))
            if len(history) > max_redirects:
                raise NonRetryableError(
                    f"too many redirects from {_describe(first)} (more than {max_redirects})",
                    kind="http.redirects",
                    details={"max_redirects": max_redirects, "url": str(first)},
                )
            exchange.follow(response.status_code, cross_origin=not _same_origin(first, location))
            url = location

    async def aclose(self) -> None:
        """Closes pooled connections."""
        await self._client.aclose()

    async def __aenter__(self) -> EgressClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


@dataclass(slots=True)
class _Exchange:
    """What a request carries from hop to hop."""

    method: str
    headers: httpx.Headers
    content: bytes | str | None
    data: Mapping[str, Any] | None
    json: Any
    timeout: httpx.Timeout

    def follow(self, status: int, *, cross_origin: bool) -> None:
        """Rewrites the request for the next hop (the Fetch standard's rules)."""
        if (status == 303 and self.method not in ("GET", "HEAD")) or (status in (301, 302) and self.method == "POST"):
            self.method = "GET"
            self.content = self.data = self.json = None
            for name in _BODY_HEADERS:
                self.headers.pop(name, None)
        if cross_origin:
            for name in _ORIGIN_BOUND_HEADERS:
                self.headers.pop(name, None)


def _checked_headers(headers: Mapping[str, str] | httpx.Headers | None) -> httpx.Headers:
    """The caller's headers, refusing those the client sets and any that cannot be sent as they are.

    h11 would refuse a control character only while sending, as a protocol error that looks
    worth retrying; a ``Host`` or ``Transfer-Encoding`` from a caller would be sent.
    """
    try:
        built = httpx.Headers(headers)
    except UnicodeEncodeError as exc:
        raise NonRetryableError(
            f"a request header is not ASCII text ({exc.reason}); send non-ASCII values as Latin-1 bytes",
            kind="http.header",
        ) from exc
    for raw_name, raw_value in built.raw:
        name = raw_name.decode("latin-1")
        if raw_name.lower() in CLIENT_HEADERS or raw_name.lower().startswith(b"proxy-"):
            raise NonRetryableError(
                f"the header {name!r} is set by the HTTP client from the URL and the body; a request may not set it",
                kind="http.header",
                details={"header": name},
            )
        if _TOKEN.fullmatch(raw_name) is None or _FIELD_VALUE.fullmatch(raw_value) is None:
            raise NonRetryableError(
                f"the header {name!r} cannot be sent: a name must be an HTTP token and a value may hold no "
                "control character (CR, LF, NUL, vertical tab...) nor leading or trailing space",
                kind="http.header",
                details={"header": name},
            )
    return built


def _parse_url(url: str | httpx.URL) -> httpx.URL:
    try:
        return httpx.URL(url)
    except httpx.InvalidURL as exc:
        shown = _USERINFO.sub("//", str(url))[:200]
        raise EgressDeniedError(
            f"egress to {shown!r} refused: the URL is not valid ({exc})",
            details={"url": shown, "reason": "invalid URL"},
        ) from exc


def _require_http(url: httpx.URL) -> None:
    if url.scheme not in ALLOWED_SCHEMES:
        raise EgressDeniedError(
            f"egress to {_describe(url)} refused: scheme {url.scheme!r} is not allowed (only http and https)",
            details={"url": _describe(url), "reason": "scheme"},
        )
    if not url.host:
        raise EgressDeniedError(
            f"egress to {_describe(url)} refused: the URL has no host",
            details={"url": _describe(url), "reason": "no host"},
        )


def _describe(url: str | httpx.URL) -> str:
    """The URL without query or credentials, for messages."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return repr(str(url)[:200])
    return str(parsed.copy_with(query=None, fragment=None, username=None, password=None))[:200]


def _port_or_default(url: httpx.URL) -> int | None:
    return url.port if url.port is not None else {"http": 80, "https": 443}.get(url.scheme)


def _same_origin(url: httpx.URL, other: httpx.URL) -> bool:
    """Same scheme, host and port; or a plain upgrade of http to https on the default ports."""
    if url.host != other.host:
        return False
    if url.scheme == other.scheme:
        return _port_or_default(url) == _port_or_default(other)
    upgrade = url.scheme == "http" and other.scheme == "https"
    return upgrade and _port_or_default(url) == 80 and _port_or_default(other) == 443


def _redirect_location(response: httpx.Response) -> httpx.URL | None:
    if response.status_code not in REDIRECT_STATUSES or "location" not in response.headers:
        return None
    try:
        location = response.request.url.join(response.headers["location"])
    except httpx.InvalidURL as exc:
        raise httpx.RemoteProtocolError(f"invalid Location header: {exc}", request=response.request) from exc
    if response.request.url.fragment and not location.fragment:
        location = location.copy_with(fragment=response.request.url.fragment)
    return location


async def _read(
    response: httpx.Response, shown: httpx.Request, limit: int, history: list[httpx.Response]
) -> httpx.Response:
    declared = response.headers.get("content-length", "")
    try:
        if "content-encoding" not in response.headers and declared.isdigit() and int(declared) > limit:
            raise _too_large(shown, limit)
        try:
            preread: bytes | None = response.content  # a transport may hand back a body it already decoded
        except httpx.ResponseNotRead:
            preread = None
        decoder = BoundedDecoder("" if preread is not None else response.headers.get("content-encoding", ""), limit)
        if preread is not None:
            decoder.feed(preread)
        else:
            async for chunk in response.aiter_raw():  # decoded here, so the limit applies after decompression
                decoder.feed(chunk)
        body = decoder.finish()
    except BudgetExceededError:
        raise _too_large(shown, limit) from None
    except zlib.error as exc:
        raise httpx.DecodingError(f"the response body is not valid for its encoding: {exc}", request=shown) from exc
    finally:
        await response.aclose()
    return _loaded(response, shown, body, history)


def _too_large(request: httpx.Request, limit: int) -> NonRetryableError:
    return NonRetryableError(
        f"the response from {_describe(request.url)} is larger than {limit} bytes (after decompression)",
        kind="http.too_large",
        details={"max_response_bytes": limit, "url": _describe(request.url)},
    )


def _loaded(
    response: httpx.Response, shown: httpx.Request, body: bytes, history: list[httpx.Response]
) -> httpx.Response:
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _ENCODING_HEADERS]
    extensions = {k: v for k, v in response.extensions.items() if k in ("http_version", "reason_phrase")}
    loaded = httpx.Response(
        response.status_code,
        headers=headers,
        content=body,
        request=shown,
        extensions=extensions,
        history=list(history),
    )
    with contextlib.suppress(RuntimeError):  # a transport's pre-read response has no timing
        loaded.elapsed = response.elapsed
    return loaded
