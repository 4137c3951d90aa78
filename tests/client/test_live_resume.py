"""A live stream whose connection is killed in the middle reconnects and resumes: no event lost, none twice."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from tests.client.conftest import Hub, Proxy, chain
from wirehub_sdk.client import AsyncClient, Client, LiveEvent

STEPS = 8  # two events a step, plus the start: 17 events over about a second
CUT_AFTER = 4


def _check_complete(events: list[LiveEvent], final_sequence: int) -> None:
    sequences = [event.sequence for event in events]
    assert sequences == list(range(1, final_sequence + 1)), sequences
    assert events[-1].status == "succeeded"


def test_a_killed_connection_is_reopened_and_resumes_after_the_last_event(hub: Hub, proxy: Proxy) -> None:
    _resume_after_a_cut(hub, proxy)


def test_the_distributed_hub_resumes_a_killed_stream_the_same_way(distributed_hub_server: Hub) -> None:
    with Proxy(int(distributed_hub_server.url.rsplit(":", 1)[1])) as proxy:
        _resume_after_a_cut(distributed_hub_server, proxy)


def _resume_after_a_cut(hub: Hub, proxy: Proxy) -> None:
    with Client(proxy.url, timeout=20.0) as client:
        client.login(*hub.admin)
        execution = client.start(client.push(chain("long", STEPS, seconds=0.1)).id)
        events: list[LiveEvent] = []
        received: list[datetime] = []
        for event in client.stream(execution.id, deadline=time.monotonic() + 30):
            events.append(event)
            received.append(datetime.now(UTC))
            if len(events) == CUT_AFTER:
                proxy.cut(refuse_for=0.5)  # the execution goes on while the client cannot reconnect
        done = client.execution(execution.id)

    _check_complete(events, done.sequence)
    assert proxy.connections >= 2
    assert len(events) > CUT_AFTER, "the execution ended before the cut"
    # Some events happened while the client was away: they came from the history, late, once each.
    lags = [got - event.at for event, got in zip(events, received, strict=True)][CUT_AFTER:]
    assert max(lags) > timedelta(seconds=0.3), lags


async def test_the_async_stream_resumes_the_same_way(hub: Hub, proxy: Proxy) -> None:
    async with AsyncClient(proxy.url, timeout=20.0) as client:
        await client.login(*hub.admin)
        workflow = await client.push(chain("long", STEPS, seconds=0.1))
        execution = await client.start(workflow.id)
        events: list[LiveEvent] = []
        async for event in client.stream(execution.id, deadline=time.monotonic() + 30):
            events.append(event)
            if len(events) == CUT_AFTER:
                await asyncio.to_thread(proxy.cut, 0.5)
        done = await client.execution(execution.id)

    _check_complete(events, done.sequence)
    assert proxy.connections >= 2


def test_a_stream_from_a_sequence_number_gives_only_what_came_after(hub: Hub) -> None:
    with Client(hub.url, timeout=20.0) as client:
        client.login(*hub.admin)
        done = client.wait(client.start(client.push(chain("short", 2)).id).id, timeout=20)
        replayed = [event.sequence for event in client.stream(done.id, after=2)]
    assert replayed == list(range(3, done.sequence + 1))
