"""The sweeper's redelivery against a real Redis stream: a copy only when a message may be lost.

A dispatch sent but not claimed within the redelivery interval is either
waiting in the stream for a free worker, or lost (Redis restarted without its
data, or the worker that read it died before claiming it). The sweeper sends
it again only in the second case: while the stream holds unread messages, a
copy would queue behind the original and cost a refused claim (after a crash,
with a backlog, that was hundreds of copies).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from tests.support.postgres import admin, url_of
from tests.worker.processes import Sender
from tests.worker.redis_server import RedisServer
from wirehub.plugins import load_registry
from wirehub.settings import Settings
from wirehub.store import ExecutionStore, PlanCache, database_engine, session_factory, upgrade_database
from wirehub.worker import STREAM, Dispatcher, DispatchStreamBroker, Sweeper, broker_for, register

REDELIVERY = 0.2


@pytest.fixture
async def sender(database_url: str, redis_server: RedisServer) -> AsyncIterator[Sender]:
    """A sending side on a new PostgreSQL database and the private Redis, redelivering after 0.2 s."""
    name = f"wirehub_test_{uuid.uuid4().hex[:16]}"
    await admin(database_url, f'CREATE DATABASE "{name}"')
    url = url_of(database_url, name)
    engine = database_engine(url)
    broker = broker_for(Settings(redis_url=redis_server.url))
    try:
        await upgrade_database(engine)
        registry = load_registry()
        store = ExecutionStore(
            session_factory(engine, writes=True), PlanCache(), catalog=registry, redelivery_seconds=REDELIVERY
        )
        register(broker)
        await broker.startup()
        yield Sender(store, Dispatcher(broker, store), engine, registry)
    finally:
        await broker.shutdown()
        await engine.dispose()
        await admin(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _redelivered() -> float:
    return REGISTRY.get_sample_value("wirehub_sweeper_redelivered_total") or 0.0


ONE_STEP = {"name": "one-step", "steps": [{"id": "only", "type": "core.transform", "config": {"expression": "input"}}]}


async def test_a_dispatch_waiting_unread_in_the_stream_is_not_sent_again_and_one_read_by_a_dead_worker_is(
    sender: Sender, redis_server: RedisServer
) -> None:
    broker = sender.dispatcher.broker
    assert isinstance(broker, DispatchStreamBroker)
    sweeper = Sweeper(sender.store, sender.dispatcher, interval=0.1)
    workflow_id = await sender.workflow(ONE_STEP)
    for number in range(3):
        await sender.start(workflow_id, number)
    redis = Redis.from_url(redis_server.url)
    try:
        assert await redis.xlen(STREAM) == 3
        await asyncio.sleep(REDELIVERY * 2)  # every dispatch is now overdue for a claim

        recovered_before = _redelivered()
        await sweeper.sweep_once()  # no worker has read them: they wait, nothing is lost
        assert await broker.unread() == 3
        assert await redis.xlen(STREAM) == 3
        assert _redelivered() == recovered_before

        # A worker reads all three and dies before claiming any: nothing unread is left, and the sweep resends.
        await redis.xreadgroup(broker.consumer_group_name, "dead-worker", {STREAM: ">"}, count=10)
        assert await broker.unread() == 0
        await sweeper.sweep_once()
        assert await redis.xlen(STREAM) == 6
        assert await broker.unread() == 3
        assert _redelivered() == recovered_before + 3, "the work the sweeper recovered is counted"
    finally:
        await redis.aclose()


async def test_the_sweeper_trims_the_stream_of_what_workers_read_and_acknowledged(
    sender: Sender, redis_server: RedisServer
) -> None:
    broker = sender.dispatcher.broker
    assert isinstance(broker, DispatchStreamBroker)
    sweeper = Sweeper(sender.store, sender.dispatcher, interval=0.1)
    workflow_id = await sender.workflow(ONE_STEP)
    for number in range(3):
        await sender.start(workflow_id, number)
    redis = Redis.from_url(redis_server.url)
    try:
        read: Any = await redis.xreadgroup(broker.consumer_group_name, "a-worker", {STREAM: ">"}, count=10)
        ids = [message_id for _, messages in read for message_id, _ in messages]
        assert len(ids) == 3
        await redis.xack(STREAM, broker.consumer_group_name, *ids)

        await sweeper.sweep_once()  # the first sweep trims (and then every tenth)
        entries: Any = await redis.xrange(STREAM)
        kept = [message_id for message_id, _ in entries]
        assert ids[0] not in kept  # read and acknowledged: gone
        assert ids[1] not in kept
        assert ids[2] in kept  # the last entry given to the group is the bound, and stays
    finally:
        await redis.aclose()
