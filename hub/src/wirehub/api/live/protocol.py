"""The live protocol's messages: JSON text frames, one message each (docs/api.md, "Live updates").

Client to server::

    {"subscribe": {"execution": ID, "after": SEQ}}   the execution's events after SEQ (history, then live)
    {"subscribe": {"workflow": ID}}                  live events of the workflow's executions
    {"subscribe": {"all": true}}                     live events of every workspace the user may read
    {"unsubscribe": {...the same target...}}

Server to client: ``event``, ``subscribed``, ``unsubscribed``, ``ended`` and
``error`` messages, each with a ``type``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from wirehub.engine import Event
from wirehub.store.events import ExecutionEvent

MAX_MESSAGE_BYTES = 4096
"""The largest message a client may send."""


class Target(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What a subscription follows: exactly one of ``execution``, ``workflow`` and ``all``.

    Attributes:
        execution: An execution's events, history first.
        after: With ``execution``: the last sequence number the client has (0: from the start).
        workflow: Live events of a workflow's executions.
        all: Live events of every execution the user may read.
    """

    execution: UUID | None = None
    after: Annotated[int, msgspec.Meta(ge=0, le=2**53)] = 0
    workflow: UUID | None = None
    all: bool = False

    @property
    def key(self) -> str:
        """The subscription's name in messages: ``execution:<id>``, ``workflow:<id>`` or ``all``."""
        if self.execution is not None:
            return f"execution:{self.execution}"
        if self.workflow is not None:
            return f"workflow:{self.workflow}"
        return "all"


class ClientMessage(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One message from the client: ``subscribe`` or ``unsubscribe``."""

    subscribe: Target | None = None
    unsubscribe: Target | None = None


class EventMessage(msgspec.Struct, frozen=True, tag="event", tag_field="type"):
    """One event of one execution (``ExecutionEvent``), and the subscription it came by."""

    subscription: str
    execution_id: UUID
    workflow_id: UUID
    sequence: int
    event_type: str
    event: Event
    status: str
    at: datetime


class Notice(msgspec.Struct, frozen=True):
    """A change of a subscription: ``subscribed``, ``unsubscribed``, or ``ended`` (its execution is over)."""

    type: Literal["subscribed", "unsubscribed", "ended"]
    subscription: str


class ErrorMessage(msgspec.Struct, frozen=True, omit_defaults=True, tag="error", tag_field="type"):
    """A problem, shaped like an RFC 9457 body; the connection stays open unless it says it closes.

    Attributes:
        status: The HTTP status the same problem would have.
        code: The stable machine code (as in problem bodies).
        detail: What went wrong.
        subscription: The subscription it concerns, if one.
        retry_after: With ``rate-limited``: seconds to wait.
    """

    status: int
    code: str
    detail: str
    subscription: str | None = None
    retry_after: int | None = None


class ProtocolError(Exception):
    """A client message the protocol refuses."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


_decoder = msgspec.json.Decoder(ClientMessage)
_encoder = msgspec.json.Encoder()


def parse(data: str) -> tuple[Literal["subscribe", "unsubscribe"], Target]:
    """The action and target of a client message.

    Raises:
        ProtocolError: Not JSON, not a known message, or not exactly one action and one target.
    """
    try:
        message = _decoder.decode(data)
    except msgspec.DecodeError as exc:
        raise ProtocolError(f"not a valid message: {str(exc)[:200]}") from exc
    if (message.subscribe is None) == (message.unsubscribe is None):
        raise ProtocolError("a message holds exactly one of subscribe and unsubscribe")
    action: Literal["subscribe", "unsubscribe"] = "subscribe" if message.subscribe is not None else "unsubscribe"
    target = message.subscribe or message.unsubscribe
    assert target is not None
    if sum((target.execution is not None, target.workflow is not None, target.all)) != 1:
        raise ProtocolError("a target names exactly one of execution, workflow and all (true)")
    if target.after and target.execution is None:
        raise ProtocolError("after goes with an execution")
    return action, target


def event_message(subscription: str, event: ExecutionEvent) -> bytes:
    """The ``event`` message of ``event``."""
    return _encoder.encode(
        EventMessage(
            subscription=subscription,
            execution_id=event.execution_id,
            workflow_id=event.workflow_id,
            sequence=event.sequence,
            event_type=event.event_type,
            event=event.event,
            status=event.status,
            at=event.at,
        )
    )


def encode(message: Notice | ErrorMessage) -> bytes:
    """A server message as JSON."""
    return _encoder.encode(message)
