"""The embedded hub publishes in memory: a subscriber of this process sees every transition, once, in order."""

from __future__ import annotations

import asyncio

from tests.events.support import WITHIN, chain, listening, pausing, until_recorded
from wirehub.events import EventFeed, recorded_events
from wirehub.worker.embedded import EmbeddedHub


async def test_every_transition_of_an_execution_arrives_once_in_sequence_order(hub: EmbeddedHub) -> None:
    workflow_id = await hub.save(chain(4))
    channels = hub.worker.channels
    async with listening(channels, channels.workflow_channel(workflow_id)) as listener:
        execution_id = await hub.start(workflow_id, {"n": 1})
        async with asyncio.timeout(WITHIN):
            await listener.done.wait()
    recorded = await recorded_events(hub.store, execution_id)
    assert listener.events == recorded
    assert [event.sequence for event in listener.events] == list(range(1, len(recorded) + 1))
    assert listener.events[-1].status == "succeeded"
    assert sum(event.event_type == "step_succeeded" for event in listener.events) == 4


async def test_a_late_follower_gets_the_history_then_the_live_events_without_a_gap(hub: EmbeddedHub) -> None:
    workflow_id = await hub.save(pausing(0.5))
    execution_id = await hub.start(workflow_id, {"n": 2})
    before = await until_recorded(hub.store, execution_id, "step_suspended")  # waiting in the pause
    # No catch-up read of the history within the test: what comes after the pause can only come live.
    feed = EventFeed(hub.store, hub.worker.channels, catch_up_seconds=10 * WITHIN)
    async with asyncio.timeout(WITHIN):
        followed = [event async for event in feed.follow(execution_id)]
    recorded = await recorded_events(hub.store, execution_id)
    assert followed == recorded
    assert followed[: len(before)] == before
    assert len(followed) > len(before)
    assert followed[-1].status == "succeeded"
    async with asyncio.timeout(WITHIN):  # over already: the history after 3, then the end
        assert [event async for event in feed.follow(execution_id, after=3)] == recorded[3:]
