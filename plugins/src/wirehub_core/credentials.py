"""The built-in credential types: how a secret is attached to an HTTP request.

Each type declares its fields (a msgspec Struct) and which of them are
secret; ``apply`` adds the credential to an outgoing ``httpx.Request``. The
hub's HTTP client applies a step's credential only to requests to the
origin of the step's URL, never to a redirect that leaves it.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, TypeVar

import httpx
import msgspec

from wirehub_core.headers import VALUE_PATTERN, HeaderName
from wirehub_sdk import CredentialType

HeaderValue = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=8192,
        pattern=VALUE_PATTERN,
        description="Visible ASCII or Latin-1 characters; no control characters, no leading or trailing space.",
    ),
]
ParamName = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]

_F = TypeVar("_F", bound=msgspec.Struct)


def _fields(fields: Any, struct: type[_F]) -> _F:
    """Accepts the decoded Struct, or a plain mapping of the same fields."""
    if isinstance(fields, struct):
        return fields
    if isinstance(fields, Mapping):
        return msgspec.convert(dict(fields), struct)
    raise TypeError(f"expected {struct.__name__} fields, got {type(fields).__name__}")


class BearerFields(msgspec.Struct, forbid_unknown_fields=True):
    """Fields of ``core.bearer``."""

    token: HeaderValue
    """Sent as ``Authorization: Bearer <token>``."""


class BearerCredential(CredentialType):
    """A bearer token (OAuth 2 access token, personal access token...)."""

    name = "core.bearer"
    title = "Bearer token"
    Fields: ClassVar[type[msgspec.Struct]] = BearerFields
    secret_fields = frozenset({"token"})

    def apply(self, fields: Any, request: httpx.Request) -> None:
        """Sets ``Authorization: Bearer <token>``."""
        request.headers["Authorization"] = f"Bearer {_fields(fields, BearerFields).token}"


class BasicFields(msgspec.Struct, forbid_unknown_fields=True):
    """Fields of ``core.basic``."""

    username: Annotated[str, msgspec.Meta(max_length=1024, pattern=r"^[^:\r\n]*$")]
    """May not contain a colon (RFC 7617)."""
    password: Annotated[str, msgspec.Meta(max_length=4096, pattern=r"^[^\r\n]*$")]


class BasicCredential(CredentialType):
    """HTTP Basic authentication."""

    name = "core.basic"
    title = "Basic authentication"
    Fields: ClassVar[type[msgspec.Struct]] = BasicFields
    secret_fields = frozenset({"password"})

    def apply(self, fields: Any, request: httpx.Request) -> None:
        """Sets ``Authorization: Basic <base64(username:password)>`` (UTF-8)."""
        basic = _fields(fields, BasicFields)
        token = base64.b64encode(f"{basic.username}:{basic.password}".encode()).decode("ascii")
        request.headers["Authorization"] = f"Basic {token}"


class HeaderKeyFields(msgspec.Struct, forbid_unknown_fields=True):
    """Fields of ``core.header``."""

    value: HeaderValue
    """The API key."""
    header: HeaderName = "X-API-Key"
    """The header that carries it."""


class HeaderKeyCredential(CredentialType):
    """An API key sent in a named request header."""

    name = "core.header"
    title = "API key in a header"
    Fields: ClassVar[type[msgspec.Struct]] = HeaderKeyFields
    secret_fields = frozenset({"value"})

    def apply(self, fields: Any, request: httpx.Request) -> None:
        """Sets the named header to the key, replacing any value it had."""
        key = _fields(fields, HeaderKeyFields)
        request.headers[key.header] = key.value


class QueryKeyFields(msgspec.Struct, forbid_unknown_fields=True):
    """Fields of ``core.query``."""

    value: Annotated[str, msgspec.Meta(min_length=1, max_length=8192)]
    """The API key."""
    param: ParamName = "api_key"
    """The query parameter that carries it."""


class QueryKeyCredential(CredentialType):
    """An API key sent as a query parameter.

    Prefer a header where the API allows it: URLs end up in server logs.
    """

    name = "core.query"
    title = "API key in the query string"
    Fields: ClassVar[type[msgspec.Struct]] = QueryKeyFields
    secret_fields = frozenset({"value"})

    def apply(self, fields: Any, request: httpx.Request) -> None:
        """Sets the query parameter to the key, replacing any value it had."""
        key = _fields(fields, QueryKeyFields)
        request.url = request.url.copy_set_param(key.param, key.value)


CREDENTIAL_TYPES: list[type[CredentialType]] = [
    BearerCredential,
    BasicCredential,
    HeaderKeyCredential,
    QueryKeyCredential,
]
"""The credential types the ``core`` plugin registers."""
