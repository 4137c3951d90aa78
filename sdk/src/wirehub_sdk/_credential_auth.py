"""``CredentialAuth``: a credential applied to requests as an httpx ``Auth`` (apart: httpx loads only with it)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import httpx

from wirehub_sdk._credentials import CredentialHostError, CredentialType, HostRules


class CredentialAuth(httpx.Auth):
    """An httpx ``Auth`` that applies a credential type to every request.

    Args:
        credential_type: How the credential is applied.
        fields: The credential's decoded fields.
        allowed_hosts: When given, the only hosts a request carrying this
            credential may go to, redirects included (``EgressClient`` refuses
            any other hop before connecting); ``None``: no host binding.
    """

    def __init__(self, credential_type: CredentialType, fields: Any, allowed_hosts: HostRules | None = None) -> None:
        self._type = credential_type
        self._fields = fields
        self.allowed_hosts = allowed_hosts

    def check_host(self, url: httpx.URL) -> None:
        """Refuses ``url`` when the credential is bound to other hosts.

        Raises:
            CredentialHostError: The URL's host (and port) is not one the credential allows.
        """
        if self.allowed_hosts is None or self.allowed_hosts.allows(url):
            return
        host = url.raw_host.decode("ascii")
        shown = f"{host}:{url.port}" if url.port is not None else host
        raise CredentialHostError(
            f"refused to send a request to {shown!r}: its credential may only be sent to "
            f"{', '.join(self.allowed_hosts.rules)}",
            details={"host": shown, "allowed_hosts": list(self.allowed_hosts.rules)},
        )

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.check_host(request.url)  # also when another client than EgressClient sends it
        self._type.apply(self._fields, request)
        yield request
