"""Request signing: the credential type on its own, and the node type with a credential."""

from __future__ import annotations

import base64
import hashlib
import hmac

import httpx
import pytest

from wirehub_plugin_example import Sign, SigningKey
from wirehub_plugin_example.signing import SigningKeyFields, SignOutput
from wirehub_sdk import ConfigError, CredentialType
from wirehub_sdk.testing import NodeRunner

KEY = {"key": "s3cret", "key_id": "k1"}


async def test_sign_computes_the_hmac_of_the_payload(node_runner: NodeRunner) -> None:
    out = await node_runner(Sign, input={"payload": "hello"}, credential=KEY, credential_type=SigningKey)
    expected = hmac.new(b"s3cret", b"hello", hashlib.sha256).hexdigest()
    assert out == SignOutput(signature=expected, algorithm="sha256", key_id="k1")


async def test_sign_with_sha512_in_base64(node_runner: NodeRunner) -> None:
    config = {"algorithm": "sha512", "encoding": "base64"}
    out = await node_runner(Sign, config=config, input={"payload": "hello"}, credential={"key": "s3cret"})
    digest = hmac.new(b"s3cret", b"hello", hashlib.sha512).digest()
    assert out == SignOutput(signature=base64.b64encode(digest).decode(), algorithm="sha512", key_id=None)


async def test_sign_without_a_credential_is_a_config_error(node_runner: NodeRunner) -> None:
    with pytest.raises(ConfigError, match=r"needs an example\.signing_key credential") as caught:
        await node_runner(Sign, input={"payload": "hello"})
    assert caught.value.kind == "credential.missing"


async def test_sign_refuses_a_credential_of_another_type(node_runner: NodeRunner) -> None:
    class Other(SigningKey):
        name = "other.key"

    with pytest.raises(ConfigError, match=r"accepts example\.signing_key, not other\.key"):
        await node_runner(Sign, input={"payload": "x"}, credential=KEY, credential_type=Other)


def test_the_signing_key_signs_outgoing_requests() -> None:
    request = httpx.Request("POST", "https://hooks.example.com/in", content=b'{"a":1}')
    SigningKey().apply(SigningKeyFields(key="s3cret", key_id="k1"), request)
    expected = hmac.new(b"s3cret", b'{"a":1}', hashlib.sha256).hexdigest()
    assert request.headers["X-Signature"] == f"sha256={expected}"
    assert request.headers["X-Key-Id"] == "k1"


def test_the_key_is_secret_and_redacted() -> None:
    assert isinstance(SigningKey(), CredentialType)
    assert SigningKey.redact(KEY) == {"key": "***", "key_id": "k1"}
