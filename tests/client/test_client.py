"""``wirehub_sdk.client.Client`` against the real app served over TCP (embedded hub)."""

from __future__ import annotations

import dataclasses
import time
import uuid
from pathlib import Path

import pytest

from tests.client.conftest import FAILING, TYPED, Hub, chain
from wirehub_sdk.client import (
    AuthenticationError,
    Client,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    Tokens,
    TransportError,
    WaitTimeoutError,
)


def test_a_workflow_pushed_from_a_dict_runs_to_its_end_and_the_wait_follows_it_live(client: Client) -> None:
    workflow = client.push(chain("three", 3))
    assert client.workflow(workflow.id) == workflow
    assert client.workflow("three").id == workflow.id  # by name too
    assert [w.id for w in client.workflows().items] == [workflow.id]

    execution = client.start(workflow.id)
    seen: list[int] = []
    done = client.wait(execution.id, timeout=20, on_event=lambda event: seen.append(event.sequence))

    assert done.status == "succeeded", done.error
    assert seen == list(range(1, done.sequence + 1))
    assert sorted({run.step_id for run in done.steps}) == ["s0", "s1", "s2"]


def test_a_workflow_pushed_from_a_file_runs_when_started_by_name_and_polled(
    client: Client, definition_file: Path
) -> None:
    workflow = client.push(definition_file)
    assert workflow.name == "from-file"
    done = client.wait(client.start("from-file").id, timeout=20, live=False, poll_interval=0.05)
    assert done.succeeded


def test_the_input_reaches_the_execution_and_its_output_comes_back(client: Client) -> None:
    client.push(TYPED)
    done = client.wait(client.start("typed", {"amount": 12.5}).id, timeout=20)
    assert (done.status, done.output) == ("succeeded", {"amount": 12.5})


def test_an_idempotency_key_returns_the_same_execution_and_refuses_another_request(client: Client) -> None:
    workflow = client.push(TYPED)
    key = f"order-{uuid.uuid4()}"
    first = client.start(workflow.id, {"amount": 1}, idempotency_key=key)
    again = client.start(workflow.id, {"amount": 1}, idempotency_key=key)
    assert again.id == first.id
    with pytest.raises(ConflictError) as refused:
        client.start(workflow.id, {"amount": 2}, idempotency_key=key)
    assert refused.value.status == 409


def test_an_invalid_definition_is_an_error_carrying_the_problem_details_with_pointers(client: Client) -> None:
    broken = {"name": "broken", "steps": [{"id": "a", "type": "core.nothing-like-this"}]}
    with pytest.raises(InvalidRequestError) as refused:
        client.push(broken)
    problem = refused.value
    assert problem.status == 422
    assert problem.code == "invalid-definition"
    assert problem.type == "https://wirehub.dev/problems/invalid-definition"
    assert problem.title
    assert problem.correlation_id
    assert any(item.pointer and item.pointer.startswith("/steps/0") for item in problem.errors)
    assert "/steps/0" in str(problem)


def test_an_input_against_the_schema_is_refused_with_a_pointer(client: Client) -> None:
    client.push(TYPED)
    with pytest.raises(InvalidRequestError) as refused:
        client.start("typed", {"amount": "lots"})
    assert refused.value.status == 422
    assert any(item.pointer == "/input/amount" for item in refused.value.errors), refused.value.errors


def test_a_failed_execution_carries_its_structured_error(client: Client) -> None:
    client.push(FAILING)
    done = client.wait(client.start("failing").id, timeout=20)
    assert done.status == "failed"
    assert done.error["kind"] == "test.broken"
    assert done.error["message"].endswith("it broke")
    assert done.error["step_id"] == "boom"


def test_unknown_things_are_not_found(client: Client) -> None:
    with pytest.raises(NotFoundError) as missing:
        client.execution(uuid.uuid4())
    assert (missing.value.status, missing.value.code) == (404, "not-found")
    with pytest.raises(NotFoundError):
        client.start("no-such-workflow")


def test_a_wrong_password_is_an_authentication_error(hub: Hub) -> None:
    with Client(hub.url) as client, pytest.raises(AuthenticationError) as refused:
        client.login(hub.admin[0], "not the password at all")
    assert refused.value.code == "invalid-credentials"


def test_an_api_key_authenticates_without_a_login(hub: Hub) -> None:
    with Client(hub.url, api_key=hub.api_key("editor")) as client:
        workflow = client.push(chain("keyed", 1))
        assert client.wait(client.start(workflow.id).id, timeout=20).succeeded


def test_an_expired_access_token_is_refreshed_and_the_new_login_handed_over(hub: Hub) -> None:
    stored: list[Tokens | None] = []
    with Client(hub.url) as first:
        tokens = first.login(*hub.admin)
    expired = dataclasses.replace(tokens, expires_at=time.time() - 1)
    with Client(hub.url, tokens=expired, on_tokens=stored.append) as client:
        assert client.workflows().items == []
        assert len(stored) == 1
        assert stored[0] is not None
        assert stored[0].refresh_token != tokens.refresh_token
        assert client.tokens == stored[0]


def test_a_refused_access_token_is_refreshed_once_and_the_request_sent_again(hub: Hub) -> None:
    with Client(hub.url) as first:
        tokens = first.login(*hub.admin)
    revoked = dataclasses.replace(tokens, access_token="not-a-token")
    with Client(hub.url, tokens=revoked) as client:
        assert client.workflows().items == []
        assert client.tokens is not None
        assert client.tokens.access_token != "not-a-token"


def test_a_used_refresh_token_ends_the_login(hub: Hub) -> None:
    with Client(hub.url) as first:
        tokens = first.login(*hub.admin)
        first.workflows()
    stale = dataclasses.replace(tokens, expires_at=time.time() - 1)
    with Client(hub.url, tokens=stale) as one:
        one.workflows()  # uses the refresh token
    with Client(hub.url, tokens=stale) as two, pytest.raises(AuthenticationError):
        two.workflows()  # the same refresh token again: taken as theft
    assert two.tokens is None


def test_logout_ends_the_login_on_the_hub(hub: Hub) -> None:
    with Client(hub.url) as client:
        tokens = client.login(*hub.admin)
        client.logout()
        assert client.tokens is None
    with Client(hub.url, tokens=tokens) as again, pytest.raises(AuthenticationError):
        again.workflows()


def test_a_wait_that_runs_out_raises_and_the_execution_goes_on(client: Client) -> None:
    workflow = client.push(chain("slow", 1, seconds=30))
    execution = client.start(workflow.id)
    started = time.monotonic()
    with pytest.raises(WaitTimeoutError):
        client.wait(execution.id, timeout=0.5)
    assert time.monotonic() - started < 5
    with pytest.raises(WaitTimeoutError):
        client.wait(execution.id, timeout=0.3, live=False, poll_interval=0.05)
    assert not client.execution(execution.id).finished


def test_an_unreachable_hub_is_a_transport_error_within_the_timeout() -> None:
    started = time.monotonic()
    with Client("http://127.0.0.1:9", timeout=2.0) as client, pytest.raises(TransportError):
        client.workspaces()
    assert time.monotonic() - started < 10


def test_the_client_never_shows_its_secrets(hub: Hub) -> None:
    key = hub.api_key()
    with Client(hub.url, api_key=key) as keyed, Client(hub.url) as client:
        tokens = client.login(*hub.admin)
        assert key not in repr(keyed)
        assert tokens.access_token not in repr(tokens)
        assert tokens.refresh_token not in repr(tokens)
        assert tokens.access_token not in repr(client)
