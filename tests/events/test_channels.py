"""``ExecutionChannels`` never holds up a transition, and ``follow`` makes up from the history for lost events."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.events.support import WITHIN
from tests.store.executions_support import chain, make_harness
from tests.worker.redis_server import free_port
from wirehub.engine import ExecutionStarted
from wirehub.events import EventFeed, ExecutionChannels, ExecutionEvent, decode_event, recorded_events
from wirehub.plugins import Registry


def _event(sequence: int) -> ExecutionEvent:
    at = datetime(2026, 11, 30, tzinfo=UTC)
    return ExecutionEvent(
        execution_id=uuid.uuid4(),
        workflow_id=uuid.uuid4(),
        sequence=sequence,
        event_type="execution_started",
        event=ExecutionStarted(at=at),
        status="running",
        at=at,
    )


def test_channel_names_carry_the_prefix_and_the_ids() -> None:
    channels = ExecutionChannels(prefix="hub-a")
    execution_id, workflow_id = uuid.uuid4(), uuid.uuid4()
    assert channels.execution_channel(execution_id) == f"hub-a:execution:{execution_id}"
    assert channels.workflow_channel(workflow_id) == f"hub-a:workflow:{workflow_id}"
    assert channels.all_channel == "hub-a:all"


async def test_publishing_returns_at_once_and_drops_what_exceeds_its_queue_when_redis_never_answers() -> None:
    channels = ExecutionChannels(f"redis://127.0.0.1:{free_port()}/0", prefix="unreachable", max_pending=3)
    channels.publish([_event(sequence) for sequence in range(1, 6)])  # nothing sends yet: two do not fit
    assert channels.dropped == 2
    async with channels:  # nobody listens on that port: the three queued fail and are dropped
        async with asyncio.timeout(WITHIN):
            await channels.flush()
    assert channels.dropped == 5
    assert channels.published == 0


async def test_in_memory_nothing_is_published_before_the_first_subscription() -> None:
    async with ExecutionChannels(prefix="quiet") as channels:
        channels.publish([_event(1)])
        await channels.flush()
        assert (channels.published, channels.dropped) == (0, 0)
        got: asyncio.Queue[bytes] = asyncio.Queue()
        async with (
            channels.subscribe([channels.all_channel]) as subscriber,
            subscriber.run_in_background(got.put, join=False),
        ):
            channels.publish([_event(2)])
            async with asyncio.timeout(WITHIN):
                first = decode_event(await got.get())
        assert first.sequence == 2  # the first event was never queued
        assert channels.published == 1


class Lossy:
    """Publishes only the events with an even sequence number: as if Redis lost the others."""

    def __init__(self, channels: ExecutionChannels) -> None:
        self.channels = channels
        self.lost: list[int] = []

    def publish(self, events: Sequence[ExecutionEvent]) -> None:
        self.lost += [event.sequence for event in events if event.sequence % 2]
        self.channels.publish([event for event in events if event.sequence % 2 == 0])


async def test_a_follower_gets_events_whose_publishing_was_lost_from_the_history_in_order(
    migrated: AsyncEngine, registry: Registry
) -> None:
    async with ExecutionChannels(prefix="lossy") as channels:
        lossy = Lossy(channels)
        harness = make_harness(migrated, registry, publisher=lossy)
        workflow_id = await harness.workflow(chain(3))
        execution_id, applied = await harness.store.start(workflow_id, None, {})
        feed = EventFeed(harness.store, channels, catch_up_seconds=0.2)
        followed: list[ExecutionEvent] = []
        subscribed = asyncio.Event()

        async def follow() -> None:
            async for event in feed.follow(execution_id):
                followed.append(event)
                subscribed.set()

        async with asyncio.timeout(WITHIN):
            following = asyncio.create_task(follow())
            await subscribed.wait()  # it read the history (the start) and listens
            await harness.run_by_hand(applied.dispatches)
            await following
    recorded = await recorded_events(harness.store, execution_id)
    assert followed == recorded
    assert recorded[-1].status == "succeeded"
    assert lossy.lost == [s for s in range(1, len(recorded) + 1) if s % 2]  # the last one too: found by a catch-up


async def test_a_follower_that_cannot_subscribe_follows_the_history_alone(
    migrated: AsyncEngine, registry: Registry
) -> None:
    async with ExecutionChannels(f"redis://127.0.0.1:{free_port()}/0", prefix="away") as channels:
        harness = make_harness(migrated, registry, publisher=channels)
        workflow_id = await harness.workflow(chain(2))
        execution_id, applied = await harness.store.start(workflow_id, None, {})
        feed = EventFeed(harness.store, channels, catch_up_seconds=0.1)
        followed: list[ExecutionEvent] = []
        started = asyncio.Event()

        async def follow() -> None:
            async for event in feed.follow(execution_id):
                followed.append(event)
                started.set()

        async with asyncio.timeout(WITHIN):
            following = asyncio.create_task(follow())
            await started.wait()
            await harness.run_by_hand(applied.dispatches)
            await following
        assert channels.published == 0
    assert followed == await recorded_events(harness.store, execution_id)
    assert followed[-1].status == "succeeded"
