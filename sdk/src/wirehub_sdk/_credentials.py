"""Credential types: the fields of a secret and how it applies to a request."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec

from wirehub_sdk._errors import NonRetryableError

if TYPE_CHECKING:
    import httpx  # only named in annotations: importing wirehub_sdk does not load httpx


class CredentialType:
    """Base class of every credential type.

    Class attributes:
        name: Namespaced name, ``<plugin>.<kind>``.
        title: A short human name.
        Fields: A msgspec Struct of the credential's fields.
        secret_fields: Which of those fields are secret: never logged,
            never returned by the API, encrypted at rest.
    """

    name: ClassVar[str]
    title: ClassVar[str] = ""
    Fields: ClassVar[type[msgspec.Struct]]
    secret_fields: ClassVar[frozenset[str]] = frozenset()

    def apply(self, fields: Any, request: httpx.Request) -> None:
        """Adds the credential to an outgoing request, in place.

        Args:
            fields: The credential's fields, decoded into ``Fields``.
            request: The request about to be sent.
        """
        raise NotImplementedError

    @classmethod
    def redact(cls, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Returns ``fields`` with every secret value replaced by ``"***"``."""
        return {k: ("***" if k in cls.secret_fields else v) for k, v in fields.items()}


class HostRules:
    """The hosts a credential may be sent to: exact names, ``*.example.com`` wildcards, each with an optional port.

    ``api.example.com`` matches that host on any port; ``api.example.com:8443`` that port only;
    ``*.example.com`` any subdomain of ``example.com`` (not ``example.com`` itself). IPv6
    addresses are written in brackets (``[2001:db8::1]:443``). Names compare case-insensitively,
    in their ASCII (IDNA) form.

    Raises:
        ValueError: A rule is not of that shape.
    """

    def __init__(self, rules: Iterable[str]) -> None:
        self.rules = tuple(rules)
        self._parsed = [parse_host_rule(rule) for rule in self.rules]

    def allows(self, url: httpx.URL) -> bool:
        """Whether a request to ``url`` may carry the credential."""
        host = url.raw_host.decode("ascii").lower()
        port = url.port if url.port is not None else {"http": 80, "https": 443}.get(url.scheme)
        for pattern, wanted in self._parsed:
            if wanted is not None and wanted != port:
                continue
            if pattern.startswith("*."):
                if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                    return True
            elif host == pattern:
                return True
        return False


def parse_host_rule(rule: str) -> tuple[str, int | None]:
    """``(host, port)`` of a host rule (``port`` ``None``: any); the host lower-cased, IPv6 unbracketed.

    Raises:
        ValueError: The rule is not ``host``, ``host:port``, ``*.domain`` or ``[ipv6]:port``.
    """
    text = rule.strip().lower()
    port: int | None = None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"host rule {rule!r}: expected [address]:port")
            port = _port(rest[1:], rule)
    elif text.count(":") == 1:
        host, _, number = text.partition(":")
        port = _port(number, rule)
    else:
        host = text
    label = host.removeprefix("*.") if host.startswith("*.") else host
    if not label or "*" in label or "/" in label or "@" in label or " " in label:
        raise ValueError(f"host rule {rule!r}: expected a host name, *.domain or an address, with an optional :port")
    try:
        ascii_host = label if ":" in label else label.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"host rule {rule!r}: not a valid host name") from exc
    return ("*." + ascii_host if host.startswith("*.") else ascii_host), port


def _port(text: str, rule: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"host rule {rule!r}: the port must be a number from 1 to 65535")
    return int(text)


class CredentialHostError(NonRetryableError):
    """A request that carries a host-bound credential was about to go to a host the credential does not allow."""

    kind = "credential.host"
