"""The broker between the store's dispatches and the workers: built against taskiq's traps.

A broker message carries one ``Dispatch`` (four ids), never an input or a
secret: the database is the record, the broker only says "look at this".
Delivery is at least once and the database decides everything else, so each
trap of taskiq-redis (``docs/workers.md``) costs at most a duplicate delivery,
which the fenced claim turns into nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from taskiq import AsyncBroker, InMemoryBroker

from wirehub.settings import Settings

logger = logging.getLogger("wirehub.worker")

TASK_NAME = "wirehub.run_step"
"""The one task every dispatch message names."""
STREAM = "wirehub:dispatch"
"""The Redis stream dispatch messages go through."""
GROUP = "wirehub-workers"
"""The consumer group every worker reads the stream in."""


def broker_for(settings: Settings, *, consumer_name: str | None = None, stream: str = STREAM) -> AsyncBroker:
    """The broker of this deployment, not yet started.

    Embedded (no ``WIREHUB_REDIS_URL``): taskiq's ``InMemoryBroker``, which
    runs each message's task in this process and event loop. Distributed: a
    ``DispatchStreamBroker`` on the Redis stream ``wirehub:dispatch``. Call
    ``await broker.startup()`` before sending anything: it creates the
    consumer group. Its middleware (``DispatchOnly``) refuses any message that
    is not a dispatch's four ids.

    Args:
        settings: ``redis_url`` chooses the mode; ``worker_concurrency`` sizes the connection pool.
        consumer_name: This worker's name in the consumer group (a random one by default).
        stream: The Redis stream (hubs sharing one Redis use one each).
    """
    from wirehub.worker.middleware import DispatchOnly

    if settings.redis_url is None:
        return InMemoryBroker(max_async_tasks=settings.worker_concurrency, propagate_exceptions=False).with_middlewares(
            DispatchOnly()
        )
    # Imported only here: the embedded hub (`wirehub run`) need not load redis.
    from wirehub.worker.redis_stream import DispatchStreamBroker

    options: dict[str, Any] = {
        "queue_name": stream,
        "consumer_group_name": GROUP,
        "consumer_name": consumer_name,
        "consumer_id": "0",
        "xread_count": 1,
        "xread_block": 1000,
        "maxlen": None,
        "max_connection_pool_size": settings.worker_concurrency + 8,
        "health_check_interval": 10,
        "socket_keepalive": True,
    }
    return DispatchStreamBroker(settings.redis_url, **options).with_middlewares(DispatchOnly())
