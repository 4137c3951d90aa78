"""Credential types: the fields of a secret and how it applies to a request."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any, ClassVar

import httpx
import msgspec


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


class CredentialAuth(httpx.Auth):
    """An httpx ``Auth`` that applies a credential type to every request."""

    def __init__(self, credential_type: CredentialType, fields: Any) -> None:
        self._type = credential_type
        self._fields = fields

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self._type.apply(self._fields, request)
        yield request
