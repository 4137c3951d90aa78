"""Tickets: how a WebSocket authenticates without a long-lived token in its URL.

``POST /api/v1/live/tickets`` (authenticated) issues one; the client opens
``/api/v1/live?ticket=...`` within ``TICKET_SECONDS``. A ticket is random
(256 bits), names only its user, and is taken (read and deleted in one step)
at the handshake: a second use, or a use on another replica, finds nothing.
The store keeps its SHA-256, never the ticket itself.
"""

from __future__ import annotations

import hashlib
import secrets
from uuid import UUID

from wirehub.api.shared import SharedStore

TICKET_SECONDS = 30
"""How long a ticket may wait for its handshake."""
MAX_TICKET_LENGTH = 100


def _key(ticket: str) -> str:
    return "live-ticket:" + hashlib.sha256(ticket.encode()).hexdigest()


async def issue_ticket(shared: SharedStore, user_id: UUID) -> str:
    """A new ticket for ``user_id``, valid for ``TICKET_SECONDS`` and one handshake."""
    ticket = secrets.token_urlsafe(32)
    await shared.put(_key(ticket), str(user_id).encode(), TICKET_SECONDS)
    return ticket


async def take_ticket(shared: SharedStore, ticket: str | None) -> UUID | None:
    """The user a ticket was issued to, once; ``None`` for a missing, used, expired or malformed ticket."""
    if not ticket or len(ticket) > MAX_TICKET_LENGTH:
        return None
    value = await shared.take(_key(ticket))
    return UUID(value.decode()) if value is not None else None
