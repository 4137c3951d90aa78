"""Hands committed dispatches to the broker, after the transaction that made them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING
from uuid import UUID

import msgspec
from taskiq import AsyncBroker, InMemoryBroker

from wirehub.store import Dispatch
from wirehub.worker.broker import TASK_NAME

if TYPE_CHECKING:
    from wirehub.store import ExecutionStore

logger = logging.getLogger("wirehub.worker")


class Dispatcher:
    """Sends dispatches as broker messages and records which ones went out.

    A dispatch that cannot be sent (Redis is down) is only logged: its outbox
    row stays undelivered and the sweeper dispatches it again. One that was
    sent but not recorded as delivered is sent again too; the claim refuses the
    duplicate. Nothing here can lose an attempt.
    """

    def __init__(self, broker: AsyncBroker, store: ExecutionStore) -> None:
        self.broker = broker
        self.store = store
        # The in-process broker runs the claim in this process at once, and the claim deletes
        # the dispatch record: recording its delivery first would be a wasted transaction.
        self.records_delivery = not isinstance(broker, InMemoryBroker)

    async def send(self, dispatches: Sequence[Dispatch]) -> int:
        """Sends ``dispatches`` in order and marks the sent ones delivered; returns how many were sent."""
        if not dispatches:
            return 0
        task = self.broker.find_task(TASK_NAME)
        if task is None:  # broker_for registers it; a broker built elsewhere must too
            raise RuntimeError(f"the broker has no task {TASK_NAME!r}: build it with broker_for")
        sent: list[UUID] = []
        for dispatch in dispatches:
            try:
                await task.kiq(message_for(dispatch))
            except Exception as exc:  # the broker is down: the sweeper sends the rest again
                logger.warning("could not send %d dispatch(es), the sweeper will: %s", len(dispatches) - len(sent), exc)
                break
            sent.append(dispatch.dispatch_id)
        if sent and self.records_delivery:
            try:
                await self.store.mark_delivered(sent)
            except Exception as exc:  # the database is down: the sweeper sends them again, the claim refuses the copies
                logger.warning("could not record %d dispatch(es) as delivered: %s", len(sent), exc)
        return len(sent)


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
