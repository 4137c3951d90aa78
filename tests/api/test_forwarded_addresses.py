"""Behind a trusted proxy the client's address is the forwarded one; otherwise the peer's, whatever the headers say.

The app runs under uvicorn on 127.0.0.1 with the options ``wirehub serve`` gives it
(``server_options``). Logins carry ``X-Forwarded-For``; the audit log's ``client`` and the
per-address login limit show which address the hub took.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx
import msgspec
import pytest
import uvicorn

from tests.api.conftest import ADMIN
from tests.support.serving import serving
from wirehub.api import create_app
from wirehub.cli.serve import server_options
from wirehub.runtime.registry import NodeRegistry
from wirehub.settings import Network, Settings, SettingsError

CLIENT = "203.0.113.7"
OTHER_CLIENT = "203.0.113.8"
ADMIN_CLIENT = "198.51.100.1"
LOGIN_LIMIT = 2


def _served(settings: Settings, registry: NodeRegistry) -> Iterator[str]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(create_app(settings, registry=registry), lifespan="on", **server_options(settings))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name="uvicorn", daemon=True)
    with serving(server, thread, listener) as url:
        yield url


@pytest.fixture(params=["trusted", "nobody", "another proxy"])
def hub(request: pytest.FixtureRequest, api_settings: Settings, registry: NodeRegistry) -> Iterator[tuple[str, str]]:
    """The hub's URL, trusting 127.0.0.1 (the test's address), nobody, or only another network."""
    trusted = {"trusted": ("127.0.0.1",), "nobody": (), "another proxy": ("10.0.0.0/8",)}[request.param]
    settings = msgspec.structs.replace(
        api_settings, forwarded_allow_ips=tuple(Network(item) for item in trusted), rate_limit_login=LOGIN_LIMIT
    )
    for url in _served(settings, registry):
        yield url, request.param


def _login(url: str, forwarded_for: str, password: str = "wrong password") -> httpx.Response:
    return httpx.post(
        f"{url}/api/v1/auth/token",
        json={"username": ADMIN[0], "password": password},
        headers={"X-Forwarded-For": forwarded_for},
    )


def test_the_audit_log_and_the_login_limit_see_the_forwarded_address_only_from_a_trusted_proxy(
    hub: tuple[str, str],
) -> None:
    url, trusting = hub
    admin = _login(url, ADMIN_CLIENT, ADMIN[1])
    assert admin.status_code == 200
    token = admin.json()["access_token"]
    # From the trusted proxy, the forged part of the chain (a client's own header) is not believed either.
    answers = [_login(url, f"10.9.9.9, {CLIENT}").status_code for _ in range(LOGIN_LIMIT + 1)]
    other = _login(url, OTHER_CLIENT).status_code

    audit = httpx.get(
        f"{url}/api/v1/audit",
        params={"action": "auth.login"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert audit.status_code == 200, audit.text
    clients = [entry["client"] for entry in reversed(audit.json()["items"])]
    if trusting == "trusted":
        assert clients[:3] == [ADMIN_CLIENT, CLIENT, CLIENT]
        assert answers == [401] * LOGIN_LIMIT + [429]  # counted per forwarded address...
        assert other == 401  # ...so another client behind the same proxy still may
    else:
        assert set(clients) == {"127.0.0.1"}
        # The admin's login counted too: every login came from one address, the peer's.
        assert answers == [401] * (LOGIN_LIMIT - 1) + [429, 429]
        assert other == 429


def test_the_setting_takes_addresses_and_networks_and_nothing_else() -> None:
    assert server_options(Settings())["proxy_headers"] is False  # trusting nobody, whatever uvicorn's default
    listed = Settings.from_env({"WIREHUB_FORWARDED_ALLOW_IPS": "10.0.0.5, 10.20.0.0/16, fd00::/8"})
    options = server_options(listed)
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == ["10.0.0.5", "10.20.0.0/16", "fd00::/8"]
    for wrong in ("*", "proxy.internal", "10.0.0.0/33"):
        with pytest.raises(SettingsError, match=r"^WIREHUB_FORWARDED_ALLOW_IPS: .* is not a CIDR network"):
            Settings.from_env({"WIREHUB_FORWARDED_ALLOW_IPS": wrong})
