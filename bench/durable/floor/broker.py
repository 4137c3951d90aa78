"""The floor's broker, configured against the traps measured in taskiq-redis 1.2.4, and its one task."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from taskiq import AsyncTaskiqDecoratedTask
from taskiq_redis import RedisStreamBroker

from bench.durable.floor.counting import CountingConnection

STEP_TASK = "floor.step"

StepFunction = Callable[[int, str, int, int], Awaitable[None]]
StepTask = AsyncTaskiqDecoratedTask[[int, str, int, int], Awaitable[None]]


def floor_broker(redis_url: str, prefix: str) -> RedisStreamBroker:
    """A ``RedisStreamBroker`` on the run's own stream and consumer group.

    ``xread_count=1``: with the default 100 a worker reserves messages it cannot start, and they
    are delivered again later. No ``maxlen``: trimming drops unread and pending entries. The
    group starts at ``0``, not ``$``, and the harness creates it (``startup``) before sending,
    so nothing sent before a worker starts is skipped.
    """
    return RedisStreamBroker(
        redis_url,
        queue_name=f"{prefix}steps",
        consumer_group_name=f"{prefix}workers",
        consumer_id="0",
        xread_count=1,
        maxlen=None,
        unacknowledged_lock_timeout=5,
        connection_class=CountingConnection,
    )


def register_step(broker: RedisStreamBroker, step: StepFunction) -> StepTask:
    """Registers the floor's one task, ``step(execution_id, shape, width, index)``, on ``broker``."""

    async def run_step(execution_id: int, shape: str, width: int, index: int) -> None:
        await step(execution_id, shape, width, index)

    task: Any = broker.register_task(run_step, task_name=STEP_TASK)
    return task  # type: ignore[no-any-return]
