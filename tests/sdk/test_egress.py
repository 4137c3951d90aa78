"""The SDK's egress rules: which targets the HTTP client refuses, and how it connects to the rest."""

from __future__ import annotations

import gzip
import ipaddress
import logging
from collections.abc import Generator, Sequence

import httpx
import pytest

from tests.support.local_http import LOOPBACK, LocalServer
from wirehub_sdk import EgressClient, EgressDeniedError, EgressPolicy, NonRetryableError
from wirehub_sdk._egress import denial_reason


class Recorder(httpx.AsyncBaseTransport):
    """Stands where the network would be: records the checked requests handed to it."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, content=b"recorded")


def resolver_for(mapping: dict[str, Sequence[str]], calls: list[str] | None = None):
    async def resolve(host: str, port: int) -> Sequence[str]:
        if calls is not None:
            calls.append(host)
        if host not in mapping:
            raise OSError(f"unknown test host {host}")
        return mapping[host]

    return resolve


FORBIDDEN_ADDRESSES = {
    "127.0.0.1": "loopback",
    "127.255.0.9": "loopback",
    "0.0.0.0": "unspecified",
    "0.1.2.3": "this network",
    "10.0.0.1": "private",
    "172.16.0.1": "private",
    "172.31.255.254": "private",
    "192.168.1.1": "private",
    "169.254.169.254": "link-local",
    "100.64.0.1": "carrier-grade NAT",
    "100.100.100.200": "carrier-grade NAT",
    "224.0.0.1": "multicast",
    "239.255.255.250": "multicast",
    "255.255.255.255": "broadcast",
    "240.0.0.1": "reserved",
    "192.0.2.10": "documentation",
    "198.51.100.7": "documentation",
    "203.0.113.9": "documentation",
    "198.18.0.1": "benchmarking",
    "192.0.0.8": "IETF protocol assignments",
    "192.88.99.1": "6to4 relay",
    "::1": "loopback",
    "::": "unspecified",
    "::ffff:127.0.0.1": "IPv4-mapped for 127.0.0.1, which is loopback",
    "::ffff:a9fe:a9fe": "IPv4-mapped for 169.254.169.254, which is link-local",
    "::ffff:10.1.1.1": "private",
    "64:ff9b::a9fe:a9fe": "NAT64 for 169.254.169.254, which is link-local",
    "64:ff9b::7f00:1": "NAT64 for 127.0.0.1",
    "64:ff9b:1::a9fe:a9fe": "local-use NAT64",
    "2002:a9fe:a9fe::1": "6to4 (2002::/16), embedding 169.254.169.254",
    "2002:808:808::1": "6to4",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2": "Teredo",
    "::127.0.0.1": "IPv4-compatible",
    "::a9fe:a9fe": "IPv4-compatible",
    "::ffff:0:a9fe:a9fe": "IPv4-translated",
    "fe80::1": "link-local",
    "fc00::1": "unique local",
    "fd12:3456::1": "unique local",
    "fec0::1": "site-local",
    "ff02::1": "multicast",
    "2001:db8::1": "documentation",
    "3fff::1": "documentation",
    "2001:2::1": "benchmarking",
    "2001:10::1": "IETF protocol assignments",
    "100::1": "discard-only",
    "4000::1": "outside the global unicast range",
}


@pytest.mark.parametrize(("address", "why"), FORBIDDEN_ADDRESSES.items())
def test_the_verdict_refuses_every_special_purpose_address(address: str, why: str) -> None:
    reason = denial_reason(ipaddress.ip_address(address))
    assert reason is not None
    assert why in reason


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_the_verdict_allows_globally_routable_addresses(address: str) -> None:
    assert EgressPolicy().denial_reason("api.example.com", address) is None


def test_the_verdict_does_not_trust_python_is_global() -> None:
    # Python 3.11 calls these global; each embeds or is a forbidden address.
    for address in ("64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::1", "224.0.0.1"):
        assert EgressPolicy().denial_reason("h", address) is not None


def test_allowed_networks_open_only_those_networks() -> None:
    policy = EgressPolicy(allow_networks=("10.0.0.0/8", "fd00::/8"))
    assert policy.denial_reason("h", "10.20.30.40") is None
    assert policy.denial_reason("h", "::ffff:10.0.0.1") is None  # the same destination, IPv4-mapped
    assert policy.denial_reason("h", "fd00::5") is None
    assert policy.denial_reason("h", "192.168.0.1") is not None
    assert policy.denial_reason("h", "169.254.169.254") is not None


def test_allowed_hosts_match_the_exact_name_only() -> None:
    policy = EgressPolicy(allow_hosts=("Internal.Example.",))
    assert policy.denial_reason("internal.example", "10.0.0.1") is None
    assert policy.denial_reason("INTERNAL.EXAMPLE.", "127.0.0.1") is None
    assert policy.denial_reason("api.internal.example", "10.0.0.1") is not None
    assert policy.denial_reason("internal.example.evil", "10.0.0.1") is not None


def test_a_malformed_allowed_network_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="does not appear to be"):
        EgressPolicy(allow_networks=("10.0.0.0/33",))


LITERAL_TARGETS = [
    "127.0.0.1",
    "127.1",
    "2130706433",
    "0x7f000001",
    "0x7f.1",
    "0177.0.0.1",
    "0",
    "0.0.0.0",
    "10.0.0.1",
    "10.255.255.255",
    "172.16.0.1",
    "192.168.0.1",
    "169.254.169.254",
    "2852039166",
    "0xA9FEA9FE",
    "0251.0376.0251.0376",
    "100.64.0.1",
    "100.100.100.200",
    "224.0.0.1",
    "[::1]",
    "[::]",
    "[::ffff:127.0.0.1]",
    "[::ffff:a9fe:a9fe]",
    "[64:ff9b::a9fe:a9fe]",
    "[2002:a9fe:a9fe::1]",
    "[fe80::1]",
    "[fc00::1]",
    "[::127.0.0.1]",
    "[::ffff:7f00:1]",
    "\uff11\uff12\uff17.\uff10.\uff10.\uff11",  # fullwidth digits
    "user:pass@127.0.0.1",
]


@pytest.mark.parametrize("host", LITERAL_TARGETS)
@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_literal_addresses_in_every_notation_are_refused_before_any_connection(scheme: str, host: str) -> None:
    network = Recorder()
    async with EgressClient(transport=network) as client:
        with pytest.raises(EgressDeniedError) as refused:
            await client.request("GET", f"{scheme}://{host}:8080/latest/meta-data/")
    assert network.requests == []
    assert refused.value.retryable is False
    assert refused.value.kind == "http.egress_denied"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1", "2130706433", "0x7f000001", "localhost", "[::ffff:127.0.0.1]"])
async def test_loopback_notations_never_reach_a_listening_server(server: LocalServer, host: str) -> None:
    async with EgressClient() as client:
        with pytest.raises(EgressDeniedError, match="loopback"):
            await client.request("GET", server.url("/echo", host=host))
    assert server.connections == 0


async def test_the_refusal_names_the_host_the_address_and_why() -> None:
    async with EgressClient(transport=Recorder()) as client:
        with pytest.raises(EgressDeniedError) as refused:
            await client.request("GET", "http://0xA9FEA9FE/latest/meta-data/")
    assert "'0xa9fea9fe'" in refused.value.message
    assert "169.254.169.254" in refused.value.message
    assert "link-local" in refused.value.message
    assert refused.value.details["address"] == "169.254.169.254"


async def test_a_refused_url_does_not_echo_its_password() -> None:
    async with EgressClient(transport=Recorder()) as client:
        with pytest.raises(EgressDeniedError) as refused:
            await client.request("GET", "http://admin:hunter2@0177.0.0.1/")
    assert "hunter2" not in refused.value.message
    assert "hunter2" not in str(refused.value.details)


async def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    network = Recorder()
    resolve = resolver_for({"intranet.test": ["10.0.0.1"]})
    async with EgressClient(resolver=resolve, transport=network) as client:
        with pytest.raises(EgressDeniedError, match=r"'intranet.test'.*10\.0\.0\.1.*private"):
            await client.request("GET", "https://intranet.test/")
    assert network.requests == []


async def test_a_name_resolving_to_public_and_private_addresses_is_refused() -> None:
    network = Recorder()
    resolve = resolver_for({"mixed.test": ["93.184.215.14", "10.0.0.1"]})
    async with EgressClient(resolver=resolve, transport=network) as client:
        with pytest.raises(EgressDeniedError, match=r"10\.0\.0\.1"):
            await client.request("GET", "https://mixed.test/")
    assert network.requests == []


async def test_a_resolver_answer_that_is_not_an_address_is_refused() -> None:
    async with EgressClient(resolver=resolver_for({"odd.test": ["not-an-ip"]}), transport=Recorder()) as client:
        with pytest.raises(EgressDeniedError, match="not an IP address"):
            await client.request("GET", "http://odd.test/")


async def test_a_name_that_does_not_resolve_is_a_connect_error() -> None:
    async with EgressClient(resolver=resolver_for({}), transport=Recorder()) as client:
        with pytest.raises(httpx.ConnectError, match=r"could not resolve 'nowhere\.test'"):
            await client.request("GET", "http://nowhere.test/")


async def test_a_public_name_is_sent_to_the_checked_address_with_its_own_name() -> None:
    network = Recorder()
    calls: list[str] = []
    resolve = resolver_for({"api.example.com": ["93.184.215.14"]}, calls)
    async with EgressClient(resolver=resolve, transport=network) as client:
        response = await client.request("GET", "https://api.example.com/v1/items?page=2")
    (sent,) = network.requests
    assert sent.url == httpx.URL("https://93.184.215.14/v1/items?page=2")
    assert sent.headers["host"] == "api.example.com"
    assert sent.extensions["sni_hostname"] == "api.example.com"
    assert calls == ["api.example.com"]
    assert response.url == httpx.URL("https://api.example.com/v1/items?page=2")


async def test_the_connection_goes_to_the_address_that_was_checked(server: LocalServer) -> None:
    # A resolver that would answer differently on a second lookup (DNS rebinding) is asked once.
    answers = [["127.0.0.1"], ["10.0.0.1"]]
    calls: list[str] = []

    async def rebinding(host: str, port: int) -> Sequence[str]:
        calls.append(host)
        return answers[len(calls) - 1]

    async with EgressClient(LOOPBACK, resolver=rebinding) as client:
        response = await client.request("GET", f"http://rebind.test:{server.port}/echo")
    assert response.status_code == 200
    assert response.json()["headers"]["host"] == f"rebind.test:{server.port}"
    assert calls == ["rebind.test"]


async def test_an_unreachable_checked_address_falls_back_to_the_next(server: LocalServer) -> None:
    # The server listens on 127.0.0.1 only; 127.0.0.2 refuses the connection.
    resolve = resolver_for({"two.test": ["127.0.0.2", "127.0.0.1"]})
    async with EgressClient(LOOPBACK, resolver=resolve) as client:
        response = await client.request("GET", f"http://two.test:{server.port}/echo")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/file",
        "gopher://example.com:70/_GET",
        "ws://example.com/socket",
        "/relative/path",
        "http:///no-host",
    ],
)
async def test_only_absolute_http_and_https_urls_are_sent(url: str) -> None:
    network = Recorder()
    async with EgressClient(transport=network) as client:
        with pytest.raises(EgressDeniedError):
            await client.request("GET", url)
    assert network.requests == []


async def test_an_allowed_host_reaches_its_private_address(server: LocalServer) -> None:
    resolve = resolver_for({"internal.test": ["127.0.0.1"]})
    async with EgressClient(EgressPolicy(allow_hosts=("internal.test",)), resolver=resolve) as client:
        response = await client.request("GET", f"http://internal.test:{server.port}/echo")
        assert response.status_code == 200
        with pytest.raises(EgressDeniedError):
            await client.request("GET", server.url("/echo"))  # the same address, by another name
    assert len(server.requests) == 1


async def test_an_allowed_network_is_reachable(server: LocalServer, client: EgressClient) -> None:
    response = await client.request("GET", server.url("/echo"))
    assert response.status_code == 200
    assert len(server.requests) == 1


async def test_proxies_from_the_environment_are_ignored(
    server: LocalServer, other_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, other_server.url("/"))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with EgressClient(LOOPBACK) as client:
        response = await client.request("GET", server.url("/echo"))
    assert response.status_code == 200
    assert len(server.requests) == 1
    assert other_server.connections == 0


async def test_redirects_are_followed_and_recorded(server: LocalServer, client: EgressClient) -> None:
    response = await client.request("GET", server.url("/hops/3"))
    assert response.json() == {"hops": "done"}
    assert [r.status_code for r in response.history] == [302, 302, 302]
    assert response.url == httpx.URL(server.url("/hops/0"))


async def test_redirects_past_the_policy_limit_fail(server: LocalServer) -> None:
    async with EgressClient(EgressPolicy(allow_networks=("127.0.0.0/8",), max_redirects=2)) as client:
        with pytest.raises(NonRetryableError) as failed:
            await client.request("GET", server.url("/hops/3"))
        assert failed.value.kind == "http.redirects"
        # A request may lower the limit, never raise it.
        with pytest.raises(NonRetryableError, match="more than 2"):
            await client.request("GET", server.url("/hops/3"), max_redirects=10)
        with pytest.raises(NonRetryableError, match="more than 0"):
            await client.request("GET", server.url("/hops/1"), max_redirects=0)


async def test_redirects_are_not_followed_when_asked(server: LocalServer, client: EgressClient) -> None:
    response = await client.request("GET", server.url("/hops/2"), follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == "/hops/1"


@pytest.mark.parametrize(
    ("status", "method", "expected_method", "body_kept"),
    [
        (303, "POST", "GET", False),
        (303, "PUT", "GET", False),
        (302, "POST", "GET", False),
        (301, "POST", "GET", False),
        (302, "PUT", "PUT", True),
        (307, "POST", "POST", True),
        (308, "PATCH", "PATCH", True),
    ],
)
async def test_redirects_rewrite_the_method_and_body_as_browsers_do(
    server: LocalServer, client: EgressClient, status: int, method: str, expected_method: str, body_kept: bool
) -> None:
    response = await client.request(method, server.url(f"/redirect?status={status}&to=/echo"), json={"order": 7})
    echoed = response.json()
    assert echoed["method"] == expected_method
    assert (echoed["body"] == '{"order":7}') is body_kept
    assert ("content-type" in echoed["headers"]) is body_kept


async def test_a_redirect_into_a_forbidden_address_is_refused(server: LocalServer, other_server: LocalServer) -> None:
    resolve = resolver_for({"public.test": ["127.0.0.1"]})
    policy = EgressPolicy(allow_hosts=("public.test",))
    async with EgressClient(policy, resolver=resolve) as client:
        target = other_server.url("/echo")
        with pytest.raises(EgressDeniedError, match=r"127\.0\.0\.1.*loopback"):
            await client.request("GET", f"http://public.test:{server.port}/redirect?to={target}")
        with pytest.raises(EgressDeniedError, match=r"169\.254\.169\.254"):
            await client.request("GET", f"http://public.test:{server.port}/redirect?to=http://0xA9FEA9FE/latest/")
        with pytest.raises(EgressDeniedError, match="scheme 'file'"):
            await client.request("GET", f"http://public.test:{server.port}/redirect?to=file:///etc/passwd")
    assert len(server.requests) == 3
    assert other_server.connections == 0


class HeaderAuth(httpx.Auth):
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["X-Api-Key"] = "k3y"
        yield request


async def test_credentials_stay_with_the_first_origin(
    server: LocalServer, other_server: LocalServer, client: EgressClient
) -> None:
    same = await client.request("GET", server.url("/redirect?to=/echo"), auth=HeaderAuth())
    assert same.json()["headers"]["x-api-key"] == "k3y"
    away = other_server.url("/echo")
    crossed = await client.request(
        "GET", server.url(f"/redirect?to={away}"), auth=HeaderAuth(), headers={"Authorization": "Bearer t0ken"}
    )
    assert server.requests[-1].headers["authorization"] == "Bearer t0ken"
    assert "x-api-key" not in crossed.json()["headers"]
    assert "authorization" not in crossed.json()["headers"]


async def test_the_returned_request_carries_no_credential(server: LocalServer, client: EgressClient) -> None:
    response = await client.request("GET", server.url("/echo"), auth=HeaderAuth())
    assert server.requests[0].headers["x-api-key"] == "k3y"
    assert "x-api-key" not in response.request.headers


async def test_a_gzip_bomb_is_cut_off_after_decompression(server: LocalServer) -> None:
    size = 16 * 1024 * 1024
    assert len(gzip.compress(b"\0" * size, compresslevel=9)) < 100 * 1024  # what the server sends: small
    async with EgressClient(EgressPolicy(allow_networks=("127.0.0.0/8",), max_response_bytes=1024 * 1024)) as client:
        with pytest.raises(NonRetryableError) as failed:
            await client.request("GET", server.url(f"/gzip?size={size}"))
    assert failed.value.kind == "http.too_large"
    assert failed.value.retryable is False
    assert failed.value.details["max_response_bytes"] == 1024 * 1024


async def test_a_compressed_body_within_the_limit_is_returned_decoded(
    server: LocalServer, client: EgressClient
) -> None:
    response = await client.request("GET", server.url("/gzip?size=5000"))
    assert response.content == b"\0" * 5000
    assert "content-encoding" not in response.headers


async def test_the_body_limit_of_a_request_cannot_exceed_the_policy(server: LocalServer) -> None:
    async with EgressClient(EgressPolicy(allow_networks=("127.0.0.0/8",), max_response_bytes=1000)) as client:
        assert len((await client.request("GET", server.url("/bytes?size=1000"))).content) == 1000
        with pytest.raises(NonRetryableError, match="larger than 1000 bytes"):
            await client.request("GET", server.url("/bytes?size=1001"), max_response_bytes=10**9)
        with pytest.raises(NonRetryableError, match="larger than 10 bytes"):
            await client.request("GET", server.url("/bytes?size=11"), max_response_bytes=10)


async def test_a_slow_server_times_out(server: LocalServer, client: EgressClient) -> None:
    with pytest.raises(httpx.TimeoutException):
        await client.request("GET", server.url("/slow?seconds=10"), timeout=0.3)


async def test_cookies_are_never_kept_between_requests(server: LocalServer, client: EgressClient) -> None:
    first = await client.request("GET", server.url("/set-cookie"))
    assert "session=s3cret" in first.headers["set-cookie"]
    second = await client.request("GET", server.url("/echo"))
    assert "cookie" not in second.json()["headers"]


async def test_tls_uses_the_original_name_for_sni_and_certificate_checks(tls_server: LocalServer, trusting) -> None:
    resolve = resolver_for({"egress.test": ["127.0.0.1"], "impostor.test": ["127.0.0.1"]})
    async with EgressClient(LOOPBACK, resolver=resolve, verify=trusting) as client:
        response = await client.request("GET", tls_server.url("/echo", host="egress.test"))
        assert response.json()["headers"]["host"] == f"egress.test:{tls_server.port}"
        assert tls_server.sni_names == ["egress.test"]
        # The certificate names egress.test only: the same address under another name is not trusted.
        with pytest.raises(httpx.ConnectError, match="certificate"):
            await client.request("GET", tls_server.url("/echo", host="impostor.test"))


async def test_tls_connections_are_not_shared_between_names(tls_server: LocalServer, trusting) -> None:
    resolve = resolver_for({"egress.test": ["127.0.0.1"], "impostor.test": ["127.0.0.1"]})
    async with EgressClient(LOOPBACK, resolver=resolve, verify=trusting) as client:
        await client.request("GET", tls_server.url("/echo", host="egress.test"))
        await client.request("GET", tls_server.url("/echo", host="egress.test"))
        assert tls_server.connections == 1  # pooled for the same name
        with pytest.raises(httpx.ConnectError):
            await client.request("GET", tls_server.url("/echo", host="impostor.test"))
    assert tls_server.connections == 2


class _QueryKey(httpx.Auth):
    """Adds ``?key=<secret>`` as the ``core.query`` credential type does."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.url = request.url.copy_set_param("key", self.secret)
        yield request


async def test_httpx_request_log_lines_carry_no_query_string_or_userinfo(
    server: LocalServer, client: EgressClient, caplog: pytest.LogCaptureFixture
) -> None:
    url = server.url("/status/200?api_key=IN-THE-URL").replace("http://", "http://me:PASSWORD@")
    with caplog.at_level(logging.INFO, logger="httpx"):
        response = await client.request("GET", url, auth=_QueryKey("FROM-THE-CREDENTIAL"))
    assert response.status_code == 200
    assert server.requests[-1].query == {"api_key": ["IN-THE-URL"], "key": ["FROM-THE-CREDENTIAL"]}
    lines = [record.getMessage() for record in caplog.records if record.name == "httpx"]
    assert any(line.startswith("HTTP Request: GET http://127.0.0.1:") for line in lines), lines
    for secret in ("IN-THE-URL", "FROM-THE-CREDENTIAL", "PASSWORD"):
        assert secret not in caplog.text


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "internal.example"},
        {"transfer-encoding": "chunked"},
        {"Content-Length": "0"},
        {"Connection": "Upgrade", "Upgrade": "h2c"},
        {"Proxy-Authorization": "Basic eDp5"},
        {"X-Thing": "a\x0bb"},
        {"X-Thing": "a\x00b"},
        {"X-Thing": "trailing "},
        {"X-Thing": "a\u2028b"},
    ],
)
async def test_headers_the_client_sets_or_cannot_send_are_refused_before_sending(
    server: LocalServer, client: EgressClient, headers: dict[str, str]
) -> None:
    with pytest.raises(NonRetryableError) as caught:
        await client.request("POST", server.url("/echo"), headers=headers, content=b"body")
    assert caught.value.kind == "http.header"
    assert caught.value.retryable is False
    assert server.requests == []


async def test_latin_1_header_bytes_are_sent(server: LocalServer, client: EgressClient) -> None:
    response = await client.request(
        "GET", server.url("/echo"), headers=httpx.Headers({b"X-Name": "Ren\xe9e".encode("latin-1")})
    )
    assert response.status_code == 200
    assert server.requests[-1].headers["x-name"] == "Ren\xe9e"
