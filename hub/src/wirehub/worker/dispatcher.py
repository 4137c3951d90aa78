"""Hands committed dispatches to the broker, after the transaction that made them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import msgspec
from taskiq import AsyncBroker

from wirehub.store import Dispatch
from wirehub.worker.broker import TASK_NAME

if TYPE_CHECKING:
    from wirehub.store import ExecutionStore

logger = logging.getLogger("wirehub.worker")


class Dispatcher:
    """Sends dispatches as broker messages, after the transaction that made them committed.

    Nothing is written back: a dispatch record is due for (re)delivery by the
    sweeper ``redelivery_seconds`` after it was made, whether it was sent or
    not, and the claim deletes it. So one that cannot be sent (Redis is down)
    is only logged, and one sent but never claimed is sent again by the
    sweeper; the claim refuses a duplicate. Nothing here can lose an attempt.
    """

    def __init__(self, broker: AsyncBroker, store: ExecutionStore) -> None:
        self.broker = broker
        self.store = store

    async def send(self, dispatches: Sequence[Dispatch]) -> int:
        """Sends ``dispatches`` in order; returns how many were sent."""
        if not dispatches:
            return 0
        task = self.broker.find_task(TASK_NAME)
        if task is None:  # broker_for registers it; a broker built elsewhere must too
            raise RuntimeError(f"the broker has no task {TASK_NAME!r}: build it with broker_for")
        sent = 0
        for dispatch in dispatches:
            try:
                await task.kiq(message_for(dispatch))
            except Exception as exc:  # the broker is down: the sweeper sends the rest again
                logger.warning("could not send %d dispatch(es), the sweeper will: %s", len(dispatches) - sent, exc)
                break
            sent += 1
        return sent


def message_for(dispatch: Dispatch) -> dict[str, str | int]:
    """The broker message of a dispatch: its four ids, as JSON values. Never an input or a secret."""
    return {
        "dispatch_id": str(dispatch.dispatch_id),
        "execution_id": str(dispatch.execution_id),
        "step_id": dispatch.step_id,
        "attempt": dispatch.attempt,
    }


def dispatch_from(message: object) -> Dispatch:
    """The dispatch a broker message carries.

    Raises:
        msgspec.ValidationError: The message is not a dispatch.
    """
    return msgspec.convert(message, Dispatch, strict=False)
