"""Host binding: a credential bound to hosts is sent only there, and a request (or a redirect) elsewhere is refused."""

from __future__ import annotations

import httpx
import pytest

from tests.support.local_http import LocalServer
from wirehub_core.credentials import BearerCredential, BearerFields
from wirehub_sdk import EgressClient
from wirehub_sdk.host import CredentialAuth, CredentialHostError, HostRules, parse_host_rule

TOKEN = "bound-token-5b1e0c"


def bound(*rules: str) -> CredentialAuth:
    return CredentialAuth(BearerCredential(), BearerFields(token=TOKEN), HostRules(rules))


def never_saw_the_token(server: LocalServer) -> bool:
    return all(TOKEN not in str(seen.headers) + str(seen.query) for seen in server.requests)


async def test_a_bound_credential_goes_to_its_host(client: EgressClient, server: LocalServer) -> None:
    response = await client.request("GET", server.url("/echo"), auth=bound(f"127.0.0.1:{server.port}"))
    assert response.json()["headers"]["authorization"] == f"Bearer {TOKEN}"


async def test_a_request_to_a_host_the_credential_does_not_allow_is_refused_before_connecting(
    client: EgressClient, server: LocalServer
) -> None:
    with pytest.raises(CredentialHostError) as refused:
        await client.request("GET", server.url("/echo"), auth=bound("api.example.com"))
    assert refused.value.kind == "credential.host"
    assert not refused.value.retryable
    assert f"'127.0.0.1:{server.port}'" in refused.value.message
    assert "api.example.com" in refused.value.message
    assert server.connections == 0
    assert server.requests == []


async def test_a_redirect_to_another_port_is_refused_and_the_secret_never_reaches_it(
    client: EgressClient, server: LocalServer, other_server: LocalServer
) -> None:
    target = other_server.url("/echo")
    with pytest.raises(CredentialHostError, match=f"127.0.0.1:{other_server.port}"):
        await client.request("GET", server.url(f"/redirect?to={target}"), auth=bound(f"127.0.0.1:{server.port}"))
    assert len(server.requests) == 1
    assert server.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert other_server.connections == 0
    assert never_saw_the_token(other_server)


async def test_a_redirect_to_another_host_name_is_refused_and_the_secret_never_reaches_it(
    client: EgressClient, server: LocalServer
) -> None:
    target = server.url("/echo", host="localhost")  # the same server under another name
    with pytest.raises(CredentialHostError, match="'localhost:"):
        await client.request("GET", server.url(f"/redirect?to={target}"), auth=bound("127.0.0.1"))
    assert [seen.path for seen in server.requests] == ["/redirect"], "the redirect was never followed"


async def test_a_redirect_within_the_allowed_hosts_keeps_the_credential(
    client: EgressClient, server: LocalServer
) -> None:
    response = await client.request("GET", server.url("/redirect?to=/echo"), auth=bound("127.0.0.1"))
    assert response.json()["headers"]["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    ("rule", "url", "allowed"),
    [
        ("api.example.com", "https://api.example.com/x", True),
        ("api.example.com", "https://API.Example.com:8443/x", True),
        ("api.example.com:443", "https://api.example.com/x", True),
        ("api.example.com:443", "http://api.example.com/x", False),
        ("api.example.com", "https://evil.com/api.example.com", False),
        ("api.example.com", "https://api.example.com.evil.com/", False),
        ("*.example.com", "https://eu.api.example.com/", True),
        ("*.example.com", "https://example.com/", False),
        ("*.example.com", "https://badexample.com/", False),
        ("[::1]:8080", "http://[::1]:8080/", True),
        ("bücher.example", "https://xn--bcher-kva.example/", True),
    ],
)
def test_host_rules_match_exact_hosts_wildcards_and_ports(rule: str, url: str, allowed: bool) -> None:
    assert HostRules([rule]).allows(httpx.URL(url)) is allowed


@pytest.mark.parametrize(
    "rule", ["", "*", "*.", "a*.example.com", "host:0", "host:99999", "host:x", "user@host", "h/p"]
)
def test_a_malformed_host_rule_is_refused(rule: str) -> None:
    with pytest.raises(ValueError, match="host rule"):
        parse_host_rule(rule)
