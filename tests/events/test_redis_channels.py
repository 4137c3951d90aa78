"""Distributed workers publish on Redis Pub/Sub: another process's subscriber sees every transition.

The workers run in this process (each with a store and channels of its own,
as separate processes would have) on a fresh PostgreSQL database; the
dispatch stream and the channels live on the shared Redis under this test's
own prefix. The last test kills a private Redis instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.events.support import WITHIN, chain, distributed_workers, listening, pausing, save, until_recorded
from tests.worker.redis_server import RedisServer
from wirehub.engine import CancelRequested
from wirehub.events import EventFeed, ExecutionChannels, ExecutionEvent, recorded_events
from wirehub.runtime.registry import NodeRegistry
from wirehub.settings import Settings
from wirehub.store import database_engine, upgrade_database


@pytest.fixture
async def pg(postgresql_url: str) -> AsyncIterator[AsyncEngine]:
    engine = database_engine(postgresql_url)
    await upgrade_database(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def stream(redis_url: str, prefix: str) -> AsyncIterator[str]:
    """This test's dispatch stream on the shared Redis, deleted afterwards."""
    name = f"{prefix}:dispatch"
    yield name
    client = Redis.from_url(redis_url)
    try:
        await client.delete(name)
    finally:
        await client.aclose()


def _settings(database_url: str, redis_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        lease_seconds=5.0,
        sweep_interval_seconds=0.2,
        shutdown_grace_seconds=2.0,
    )


async def test_every_transition_arrives_once_in_sequence_order_at_another_subscriber(
    pg: AsyncEngine, postgresql_url: str, redis_url: str, prefix: str, stream: str, registry: NodeRegistry
) -> None:
    settings = _settings(postgresql_url, redis_url)
    publishing = ExecutionChannels(redis_url, prefix=prefix)
    async with (
        ExecutionChannels(redis_url, prefix=prefix) as api,  # another process's channels: an API replica's
        distributed_workers(pg, registry, settings, count=1, stream=stream, channels=[publishing]) as (node,),
    ):
        workflow_id = await save(pg, node.store, registry, chain(4))
        async with listening(api, api.workflow_channel(workflow_id)) as listener:
            execution_id, applied = await node.store.start(workflow_id, None, {"n": 1})
            await node.worker.dispatcher.send(applied.dispatches)
            async with asyncio.timeout(WITHIN):
                await listener.done.wait()
        recorded = await recorded_events(node.store, execution_id)
    assert listener.events == recorded
    assert [event.sequence for event in recorded] == list(range(1, len(recorded) + 1))
    assert recorded[-1].status == "succeeded"
    assert publishing.published == len(recorded)


async def test_a_late_follower_gets_the_history_then_live_events_from_two_workers_without_a_gap(
    pg: AsyncEngine, postgresql_url: str, redis_url: str, prefix: str, stream: str, registry: NodeRegistry
) -> None:
    settings = _settings(postgresql_url, redis_url)
    publishing = [ExecutionChannels(redis_url, prefix=prefix) for _ in range(2)]
    async with (
        ExecutionChannels(redis_url, prefix=prefix) as api,
        distributed_workers(pg, registry, settings, count=2, stream=stream, channels=publishing) as nodes,
    ):
        store = nodes[0].store
        for node in nodes:  # results claim no branch: the branches go through the stream, to both workers
            node.worker.runner.eager = 1
        workflow_id = await save(pg, store, registry, pausing(1.0, fan_out=4))
        async with listening(api, api.all_channel) as everything:
            execution_id, applied = await store.start(workflow_id, None, {"n": 2})
            await nodes[0].worker.dispatcher.send(applied.dispatches)
            before = await until_recorded(store, execution_id, "step_suspended")
            feed = EventFeed(store, api, catch_up_seconds=10 * WITHIN)  # after the pause, only live events
            async with asyncio.timeout(WITHIN):
                followed = [event async for event in feed.follow(execution_id)]
                await everything.done.wait()
        recorded = await recorded_events(store, execution_id)
    assert followed == recorded
    assert followed[: len(before)] == before
    assert len(followed) > len(before)
    assert followed[-1].status == "succeeded"
    # The raw channel had each once; two processes publish, so its order is theirs: sorted, it is the history.
    mine = [event for event in everything.events if event.execution_id == execution_id]
    assert sorted(mine, key=lambda event: event.sequence) == recorded
    assert all(channels.published > 0 for channels in publishing)  # both workers published some


async def test_transitions_commit_while_redis_is_down_and_publishing_resumes_after(
    pg: AsyncEngine,
    postgresql_url: str,
    redis_url: str,
    prefix: str,
    stream: str,
    registry: NodeRegistry,
    tmp_path: Path,
) -> None:
    events_redis = RedisServer(tmp_path)
    events_redis.start()
    settings = _settings(postgresql_url, redis_url)  # the broker on the shared Redis, the events on a private one
    publishing = ExecutionChannels(events_redis.url, prefix=prefix)
    try:
        async with distributed_workers(pg, registry, settings, count=1, stream=stream, channels=[publishing]) as nodes:
            (node,) = nodes
            workflow_id = await save(pg, node.store, registry, chain(3))

            async def run() -> list[ExecutionEvent]:
                execution_id, applied = await node.store.start(workflow_id, None, {})
                await node.worker.dispatcher.send(applied.dispatches)
                view = await node.store.wait(execution_id, timeout=WITHIN)
                assert view.status == "succeeded"
                return await recorded_events(node.store, execution_id)

            events_redis.kill()
            recorded = await run()  # every transition committed, none published
            assert len(recorded) == 7
            async with asyncio.timeout(WITHIN):
                await publishing.flush()
            assert publishing.dropped == len(recorded)
            assert publishing.published == 0

            events_redis.start()  # back (empty), on the same port
            async with (
                ExecutionChannels(events_redis.url, prefix=prefix) as api,
                listening(api, api.workflow_channel(workflow_id)) as listener,
            ):
                recorded = await run()
                async with asyncio.timeout(WITHIN):
                    await listener.done.wait()
            assert listener.events == recorded
    finally:
        events_redis.kill()


async def test_a_subscriber_hears_events_again_after_its_redis_restarts(tmp_path: Path, prefix: str) -> None:
    events_redis = RedisServer(tmp_path)
    events_redis.start()
    try:
        async with (
            ExecutionChannels(events_redis.url, prefix=prefix) as api,
            listening(api, api.all_channel, executions=2) as listener,
        ):
            async with ExecutionChannels(events_redis.url, prefix=prefix) as worker:
                worker.publish([_terminal(1)])
                async with asyncio.timeout(WITHIN):
                    await listener.arrived.wait()  # heard before the restart
            events_redis.kill()
            events_redis.start()  # back, empty, on the same port
            async with ExecutionChannels(events_redis.url, prefix=prefix) as worker:
                async with asyncio.timeout(WITHIN):
                    # Published until heard: what goes out before the subscriber is back is lost to it.
                    while not listener.done.is_set():
                        worker.publish([_terminal(2)])
                        await worker.flush()
                        with contextlib.suppress(TimeoutError):
                            async with asyncio.timeout(0.2):
                                await listener.done.wait()
        assert {event.sequence for event in listener.events} == {1, 2}
    finally:
        events_redis.kill()


def _terminal(sequence: int) -> ExecutionEvent:
    at = datetime.now(UTC)
    return ExecutionEvent(
        execution_id=uuid.uuid4(),
        workflow_id=uuid.uuid4(),
        sequence=sequence,
        event_type="cancel_requested",
        event=CancelRequested(at, "test"),
        status="cancelled",
        at=at,
    )


async def test_a_subscription_that_ends_after_its_channels_closed_leaves_no_connection_open(
    redis_url: str, prefix: str
) -> None:
    # As when a server stops: the channels close, then a WebSocket handler's subscription is cancelled.
    name = f"{prefix}-subscriber"
    channels = ExecutionChannels(f"{redis_url}{'&' if '?' in redis_url else '?'}client_name={name}", prefix=prefix)
    async with channels:
        subscription = channels.subscribe([channels.all_channel])
        await subscription.__aenter__()
    await subscription.__aexit__(None, None, None)
    observer = Redis.from_url(redis_url)
    try:
        left = [client for client in await observer.client_list() if client["name"] == name]
    finally:
        await observer.aclose()
    assert left == []
