"""A credential a remote API echoes back is hidden before the attempt's output or error is recorded."""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from tests.support.local_http import LOOPBACK, LocalServer
from wirehub.engine import StepFailed, StepSucceeded
from wirehub.runtime import (
    Attempt,
    MappingCredentialSource,
    NodeThreads,
    StepEnvironment,
    StoredCredential,
    compile_definition,
    run_attempt,
)
from wirehub.runtime.redaction import REDACTED, RedactingLog
from wirehub.runtime.registry import NodeRegistry

TOKEN = "echoed-token-8d2f4a91"
PASSWORD = "pa55-w0rd-e7c1"


async def _call(registry: NodeRegistry, url: str, credential: StoredCredential, **config: Any) -> Any:
    plan = compile_definition(
        {
            "name": "echo",
            "steps": [{"id": "call", "type": "core.http", "config": {"url": url, **config}, "credential": "api"}],
        },
        registry,
    )
    source = MappingCredentialSource({"api": credential})
    async with StepEnvironment(registry, NodeThreads(LOOPBACK), credentials=source) as env:
        return await run_attempt(env, plan.steps["call"], Attempt("exec-1", 1, None, datetime.now(UTC)))


async def test_an_authorization_header_echoed_into_the_body_is_redacted(
    registry: NodeRegistry, server: LocalServer
) -> None:
    outcome = await _call(registry, server.url("/echo"), StoredCredential("core.bearer", {"token": TOKEN}))
    assert isinstance(outcome, StepSucceeded)
    assert server.requests[0].headers["authorization"] == f"Bearer {TOKEN}", "the server did get the token"
    assert outcome.output["body"]["headers"]["authorization"] == REDACTED
    assert TOKEN not in msgspec.json.encode(outcome).decode()


async def test_basic_authentication_is_hidden_in_its_wire_form_too(registry: NodeRegistry, server: LocalServer) -> None:
    credential = StoredCredential("core.basic", {"username": "ada", "password": PASSWORD})
    outcome = await _call(registry, server.url(f"/echo?copy={PASSWORD}"), credential)
    assert isinstance(outcome, StepSucceeded)
    wire = base64.b64encode(f"ada:{PASSWORD}".encode()).decode()
    recorded = msgspec.json.encode(outcome).decode()
    assert PASSWORD not in recorded
    assert wire not in recorded
    assert outcome.output["body"]["headers"]["authorization"] == REDACTED
    assert outcome.output["body"]["query"] == {"copy": [REDACTED]}


async def test_a_secret_echoed_into_an_error_is_redacted(registry: NodeRegistry, server: LocalServer) -> None:
    outcome = await _call(registry, server.url("/echo?status=401"), StoredCredential("core.bearer", {"token": TOKEN}))
    assert isinstance(outcome, StepFailed)
    assert outcome.error.kind == "http.status"
    assert REDACTED in str(outcome.error.details["body"])
    assert TOKEN not in msgspec.json.encode(outcome).decode()


async def test_a_credential_bound_to_other_hosts_is_not_sent_and_the_step_fails_clearly(
    registry: NodeRegistry, server: LocalServer
) -> None:
    credential = StoredCredential("core.bearer", {"token": TOKEN}, allowed_hosts=("api.example.com",))
    outcome = await _call(registry, server.url("/echo"), credential)
    assert isinstance(outcome, StepFailed)
    assert outcome.error.kind == "credential.host"
    assert not outcome.error.retryable
    assert "may only be sent to api.example.com" in outcome.error.message
    assert server.requests == []


async def test_a_step_without_a_credential_keeps_its_output_as_it_is(
    registry: NodeRegistry, server: LocalServer
) -> None:
    plan = compile_definition(
        {
            "name": "echo",
            "steps": [{"id": "call", "type": "core.http", "config": {"url": server.url(f"/echo?t={TOKEN}")}}],
        },
        registry,
    )
    async with StepEnvironment(registry, NodeThreads(LOOPBACK)) as env:
        outcome = await run_attempt(env, plan.steps["call"], Attempt("exec-1", 1, None, datetime.now(UTC)))
    assert isinstance(outcome, StepSucceeded)
    assert outcome.output["body"]["query"] == {"t": [TOKEN]}


def test_an_attempts_log_lines_never_carry_its_credential(caplog: pytest.LogCaptureFixture) -> None:
    hidden = {TOKEN}
    log = RedactingLog(logging.getLogger("wirehub.runtime.test"), {"step_id": "call"}, hidden)
    with caplog.at_level(logging.INFO, logger="wirehub.runtime.test"):
        log.info("sent %s to %s", f"Bearer {TOKEN}", "api.example.com")
        log.warning("mapping %(token)s", {"token": TOKEN})
        log.info("odd %d", "not a number")
    assert [record.getMessage() for record in caplog.records] == [
        f"sent Bearer {REDACTED} to api.example.com",
        f"mapping {REDACTED}",
        "odd %d not a number",
    ]
    assert caplog.records[0].step_id == "call"  # type: ignore[attr-defined]
