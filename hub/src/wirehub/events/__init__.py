"""Execution events, live: every committed transition published on channels, and followed without a gap.

- ``ExecutionEvent``: one history entry of one execution, with its status after it (JSON on the wire).
- ``ExecutionChannels``: the channels (Litestar channels: Redis Pub/Sub distributed,
  in memory embedded); the store publishes to them after each commit.
- ``EventFeed``: ``follow(execution_id, after=seq)``, the history then live events.

See ``docs/workers.md`` (Execution events) for the channels, the payload and the guarantees.
"""

from wirehub.events.channels import DEFAULT_PREFIX, ExecutionChannels, decode_event
from wirehub.events.feed import EventFeed
from wirehub.store.events import EventPublisher, ExecutionEvent, recorded_events

__all__ = [
    "DEFAULT_PREFIX",
    "EventFeed",
    "EventPublisher",
    "ExecutionChannels",
    "ExecutionEvent",
    "decode_event",
    "recorded_events",
]
