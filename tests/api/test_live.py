"""Live updates over the WebSocket: tickets, origins, events in order, reconnecting, workspaces, bounds."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any
from uuid import UUID

import msgspec
import pytest
from litestar.exceptions import WebSocketDisconnect

from tests.api.conftest import ADMIN, DEFAULT_WORKSPACE, Api, running_api
from tests.api.livews import Live, connect, in_app, open_live, opened, ticket
from wirehub.api.live import connection
from wirehub.api.live.protocol import Target
from wirehub.api.security import load_principal
from wirehub.runtime.registry import NodeRegistry
from wirehub.settings import Settings
from wirehub.store import user_named
from wirehub.store.models import Workspace

WS = f"/api/v1/workspaces/{DEFAULT_WORKSPACE}"
DELAYED = {
    "name": "waits",
    "steps": [
        {"id": "wait", "type": "core.delay", "config": {"seconds": 0.5}},
        {"id": "hello", "type": "core.transform", "needs": ["wait"], "config": {"expression": "{greeting: 'hi'}"}},
    ],
}
TERMINAL = {"succeeded", "failed", "cancelled", "timed_out"}


async def _workflow(api: Api, workspace: str = WS, definition: dict[str, Any] = DELAYED) -> str:
    created = await api.client.post(f"{workspace}/workflows", json=definition, headers=api.admin)
    assert created.status_code == 201, created.text
    workflow_id: str = created.json()["id"]
    return workflow_id


async def _start(api: Api, workflow_id: str, workspace: str = WS) -> str:
    started = await api.client.post(
        f"{workspace}/workflows/{workflow_id}/executions", json={"input": {}}, headers=api.admin
    )
    assert started.status_code == 201, started.text
    execution_id: str = started.json()["id"]
    return execution_id


async def _finished(api: Api, execution_id: str, workspace: str = WS) -> None:
    async with asyncio.timeout(20):
        while True:
            response = await api.client.get(f"{workspace}/executions/{execution_id}", headers=api.admin)
            if response.json()["status"] in TERMINAL:
                return
            await asyncio.sleep(0.05)


async def _other_workspace(api: Api) -> str:
    async def create() -> str:
        async with api.client.app.state.services.sessions.begin() as session:
            workspace = Workspace(name=f"other-{uuid.uuid4().hex[:8]}")
            session.add(workspace)
            await session.flush()
            return f"/api/v1/workspaces/{workspace.id}"

    return await in_app(api, create)


def _events(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [message for message in messages if message["type"] == "event"]


async def test_an_executions_events_arrive_in_order_and_a_reconnect_gets_exactly_the_rest(api_everywhere: Api) -> None:
    api = api_everywhere
    execution_id = await _start(api, await _workflow(api))
    key = f"execution:{execution_id}"

    async with open_live(api, api.admin) as live:
        live.send({"subscribe": {"execution": execution_id, "after": 0}})
        messages = await live.until("ended", key)
    assert messages[0] == {"type": "subscribed", "subscription": key}
    events = _events(messages)
    assert [event["sequence"] for event in events] == list(range(1, len(events) + 1))
    assert len(events) >= 5  # started, the delay's claim and wait, its wake-up, the transform...
    assert {event["execution_id"] for event in events} == {execution_id}
    assert events[0]["event_type"] == "execution_started"
    assert events[-1]["status"] == "succeeded"
    assert all(event["status"] == "running" for event in events[:-1])
    assert set(events[0]) >= {"type", "execution_id", "workflow_id", "sequence", "event", "at"}

    # The client saw up to sequence 2, then lost its connection: it asks for what follows.
    async with open_live(api, api.admin) as again:
        again.send({"subscribe": {"execution": execution_id, "after": 2}})
        rest = _events(await again.until("ended", key))
    assert rest == events[2:]


async def test_another_workspaces_execution_is_refused_as_if_it_did_not_exist(api_everywhere: Api) -> None:
    api = api_everywhere
    other = await _other_workspace(api)
    theirs = await _start(api, await _workflow(api, other), other)
    their_workflow = await _workflow(api, other)
    viewer = await api.user("viewer")

    async with open_live(api, viewer) as live:
        live.send({"subscribe": {"execution": theirs}})
        refused = await live.receive()
        live.send({"subscribe": {"execution": str(uuid.uuid4())}})
        missing = await live.receive()
        live.send({"subscribe": {"workflow": their_workflow}})
        refused_workflow = await live.receive()
        assert refused["type"] == missing["type"] == "error"
        assert refused["status"] == missing["status"] == 404
        assert refused["detail"] == missing["detail"]
        assert refused_workflow["status"] == 404

        # ``all`` carries the events of the workspaces the viewer reads, none of the other's.
        live.send({"subscribe": {"all": True}})
        assert await live.receive() == {"type": "subscribed", "subscription": "all"}
        await _finished(api, await _start(api, their_workflow, other), other)
        mine = await _start(api, await _workflow(api))
        seen: list[dict[str, Any]] = []
        while not seen or seen[-1]["status"] not in TERMINAL or seen[-1]["execution_id"] != mine:
            seen.extend(_events([await live.receive()]))
    assert {event["execution_id"] for event in seen} == {mine}


async def test_a_ticket_opens_one_connection_and_nothing_else_does(api_everywhere: Api) -> None:
    api = api_everywhere
    used = await ticket(api, api.admin)
    async with opened(api, used) as first:
        first.send({"subscribe": {"all": True}})
        assert (await first.receive())["type"] == "subscribed"
    for value in (used, None, "not-a-ticket", "x" * 5000):
        with pytest.raises(WebSocketDisconnect) as refused:
            await connect(api, value)
        assert refused.value.code == 4401
    unauthenticated = await api.client.post("/api/v1/live/tickets")
    assert unauthenticated.status_code == 401


async def test_a_browser_origin_not_listed_is_refused(api_everywhere: Api) -> None:
    api = api_everywhere
    value = await ticket(api, api.admin)
    with pytest.raises(WebSocketDisconnect) as refused:
        await connect(api, value, origin="https://evil.example")
    assert refused.value.code == 4403
    # The origin is refused before the ticket is looked at: a refused page does not burn it.
    async with opened(api, value) as live:  # no Origin: not a browser
        live.send({"subscribe": {"all": True}})
        assert (await live.receive())["type"] == "subscribed"


async def test_a_listed_origin_connects(api_settings: Settings, registry: NodeRegistry) -> None:
    settings = msgspec.structs.replace(api_settings, cors_allow_origins=("https://app.example",))
    async with running_api(settings, registry) as api:
        async with open_live(api, api.admin, origin="https://APP.example") as live:
            live.send({"subscribe": {"all": True}})
            assert (await live.receive())["type"] == "subscribed"
        with pytest.raises(WebSocketDisconnect):
            await connect(api, await ticket(api, api.admin), origin="https://app.example.evil")


async def test_bad_messages_are_errors_and_a_large_one_closes_the_connection(api: Api) -> None:
    workflow_id = await _workflow(api)
    executions = [await _start(api, workflow_id) for _ in range(connection.MAX_SUBSCRIPTIONS + 1)]
    async with open_live(api, api.admin) as live:
        for bad in (
            "not json",
            '{"subscribe": {"all": true}, "unsubscribe": {"all": true}}',
            '{"subscribe": {}}',
            f'{{"subscribe": {{"workflow": "{uuid.uuid4()}", "after": 3}}}}',
            '{"hello": 1}',
        ):
            live.send_text(bad)
            answer = await live.receive()
            assert (answer["type"], answer["status"], answer["code"]) == ("error", 400, "invalid-message"), bad
        live.send({"unsubscribe": {"all": True}})
        assert (await live.receive())["code"] == "not-subscribed"
        live.send({"subscribe": {"all": True}})
        assert (await live.receive())["type"] == "subscribed"
        # Subscribed to everything, the started executions' own events may arrive between the replies.
        live.send({"subscribe": {"all": True}})
        assert (await _reply(live))["code"] == "already-subscribed"
        live.send({"unsubscribe": {"all": True}})
        assert await _reply(live) == {"type": "unsubscribed", "subscription": "all"}

        for execution_id in executions:  # past the last sequence: nothing to send until they are cancelled
            live.send({"subscribe": {"execution": execution_id, "after": 10_000}})
        answers: list[dict[str, Any]] = []
        while len(answers) < len(executions):
            answers.append(await _reply(live))
        refusals = [answer["code"] for answer in answers if answer["type"] == "error"]
        assert refusals == ["too-many-subscriptions"]

        live.send_text('{"subscribe": {"all": true}}' + " " * 5000)
        with pytest.raises(WebSocketDisconnect) as closed:
            await _drain(live)
        assert closed.value.code == 1009


async def _reply(live: Live) -> dict[str, Any]:
    """The next message that is not an execution event."""
    while (message := await live.receive())["type"] == "event":
        pass
    return message


async def _drain(live: Live) -> None:
    while True:
        await live.receive()


async def test_a_users_messages_count_against_its_rate_limit(api_settings: Settings, registry: NodeRegistry) -> None:
    settings = msgspec.structs.replace(api_settings, rate_limit_user=6)
    async with running_api(settings, registry) as api:
        async with open_live(api, api.admin) as live:  # the ticket's request is the first of six
            for _ in range(5):
                live.send({"unsubscribe": {"all": True}})
                assert (await live.receive())["code"] == "not-subscribed"
            live.send({"unsubscribe": {"all": True}})
            limited = await live.receive()
            assert (limited["status"], limited["code"]) == (429, "rate-limited")
            assert 1 <= limited["retry_after"] <= 60
        refused = await api.client.get(f"{WS}/workflows", headers=api.admin)
        assert refused.status_code == 429


class _Unread:
    """A client that never reads: every send waits forever."""

    def __init__(self) -> None:
        self.closed: tuple[int, str | None] | None = None
        self.gone = asyncio.Event()

    async def send_data(self, data: str) -> None:
        await asyncio.Event().wait()

    async def receive_data(self, mode: str) -> str:
        await self.gone.wait()
        raise WebSocketDisconnect(detail="gone")

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.closed = (code, reason)


async def test_a_client_that_does_not_read_is_disconnected(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connection, "OUTBOX_MESSAGES", 2)
    monkeypatch.setattr(connection, "SLOW_CLIENT_SECONDS", 0.3)
    services = api.client.app.state.services
    execution_id = await _start(api, await _workflow(api))
    await _finished(api, execution_id)
    socket = _Unread()

    async def serve() -> None:  # in the app's event loop, where its services live
        async with services.sessions() as session:
            admin = await user_named(session, ADMIN[0])
            assert admin is not None
            principal = await load_principal(session, admin.id)
        assert principal is not None
        live = connection.LiveConnection(socket, services, principal)  # type: ignore[arg-type]  # a stand-in socket
        await live._subscribe(Target(execution=UUID(execution_id)))  # more history than the outbox holds
        async with asyncio.timeout(10):
            await live.run()

    await in_app(api, serve)
    assert socket.closed is not None
    assert socket.closed[0] == 1008


async def test_a_task_that_swallows_its_cancellation_still_ends_with_its_connection() -> None:
    async def stubborn() -> None:
        with contextlib.suppress(asyncio.CancelledError):  # swallowed on its way, as Litestar's Subscriber.stop can
            await asyncio.Event().wait()
        await asyncio.Event().wait()

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    async with asyncio.timeout(10):
        await connection.cancel_all([task])
    assert task.cancelled()


async def test_connections_that_leave_while_subscribing_leave_no_task_behind(api_everywhere: Api) -> None:
    api = api_everywhere
    for _ in range(10):
        async with open_live(api, api.admin) as live:
            live.send({"subscribe": {"all": True}})
            assert (await live.receive())["type"] == "subscribed"  # leaves while the subscription starts

    async def live_tasks(_: object) -> list[str]:
        return [task.get_name() for task in asyncio.all_tasks() if task.get_name().startswith("live")]

    async with asyncio.timeout(15):
        while left := await api.in_app(live_tasks):  # noqa: ASYNC110  # the tasks are on the app's loop: poll
            await asyncio.sleep(0.1)
    assert left == []
