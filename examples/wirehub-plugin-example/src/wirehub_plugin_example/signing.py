"""Request signing: the ``example.signing_key`` credential type and the ``example.sign`` node type."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING, Literal

import msgspec

from wirehub_sdk import ConfigError, CredentialType, NodeContext, NodeType

if TYPE_CHECKING:
    import httpx


class SigningKeyFields(msgspec.Struct, forbid_unknown_fields=True):
    """The fields of an ``example.signing_key`` credential."""

    key: str
    key_id: str | None = None


def sign(key: str, payload: bytes, algorithm: str = "sha256") -> bytes:
    """The HMAC of ``payload`` under ``key``."""
    return hmac.new(key.encode(), payload, getattr(hashlib, algorithm)).digest()


class SigningKey(CredentialType):
    """A shared secret; requests made with it carry an HMAC-SHA256 of their body."""

    name = "example.signing_key"
    title = "Signing key"
    Fields = SigningKeyFields
    secret_fields = frozenset({"key"})

    def apply(self, fields: SigningKeyFields, request: httpx.Request) -> None:
        """Adds ``X-Signature: sha256=<hex>`` (and ``X-Key-Id``) to the request."""
        request.headers["X-Signature"] = "sha256=" + sign(fields.key, request.content).hex()
        if fields.key_id is not None:
            request.headers["X-Key-Id"] = fields.key_id


class SignConfig(msgspec.Struct, forbid_unknown_fields=True):
    """Config of ``example.sign``."""

    algorithm: Literal["sha256", "sha512"] = "sha256"
    encoding: Literal["hex", "base64"] = "hex"


class SignInput(msgspec.Struct, forbid_unknown_fields=True):
    """Input of ``example.sign``."""

    payload: str


class SignOutput(msgspec.Struct):
    """Output of ``example.sign``."""

    signature: str
    algorithm: str
    key_id: str | None = None


class Sign(NodeType[SignConfig, SignInput, SignOutput]):
    """Signs a payload with the step's signing key."""

    name = "example.sign"
    version = 1
    title = "Sign"
    description = "Computes the HMAC of a payload with the step's example.signing_key credential."
    credential_types = ("example.signing_key",)

    async def execute(self, ctx: NodeContext, config: SignConfig, input: SignInput) -> SignOutput:
        if ctx.credential is None:
            raise ConfigError("example.sign needs an example.signing_key credential", kind="credential.missing")
        fields = msgspec.convert(ctx.credential, SigningKeyFields)
        digest = sign(fields.key, input.payload.encode(), config.algorithm)
        text = digest.hex() if config.encoding == "hex" else base64.b64encode(digest).decode("ascii")
        return SignOutput(signature=text, algorithm=config.algorithm, key_id=fields.key_id)
