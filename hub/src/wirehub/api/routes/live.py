"""Live updates: a ticket for the handshake, then the WebSocket (docs/api.md, "Live updates")."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, WebSocket, post, websocket
from litestar.di import NamedDependency

from wirehub.api.live.connection import LiveConnection
from wirehub.api.live.tickets import TICKET_SECONDS, issue_ticket, take_ticket
from wirehub.api.security import PUBLIC, load_principal, needs, principal_of
from wirehub.api.services import HubServices

LIVE_PATH = "/api/v1/live"
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403


class LiveTicket(msgspec.Struct, frozen=True):
    """A ticket that opens one live connection.

    Attributes:
        ticket: Pass it as ``?ticket=`` when opening the WebSocket; it works once.
        expires_in: Seconds it stays valid.
        url: The WebSocket's path with the ticket.
    """

    ticket: str
    expires_in: int
    url: str


@post(
    LIVE_PATH + "/tickets",
    opt=needs("execution:read", anywhere=True),
    tags=["live"],
    summary="Get a ticket for the live WebSocket",
    status_code=201,
)
async def create_ticket(services: NamedDependency[HubServices], request: Request[Any, Any, Any]) -> LiveTicket:
    """A single-use ticket, valid for 30 seconds, that authenticates one WebSocket handshake as the caller."""
    ticket = await issue_ticket(services.shared, principal_of(request).user_id)
    return LiveTicket(ticket=ticket, expires_in=TICKET_SECONDS, url=f"{LIVE_PATH}?ticket={ticket}")


def origin_allowed(origin: str | None, allowed: tuple[str, ...]) -> bool:
    """Whether a handshake's ``Origin`` may connect: none (not a browser), or one of ``allowed`` (``*``: any)."""
    if origin is None:
        return True
    wanted = origin.strip().rstrip("/").lower()
    return any(entry == "*" or entry.strip().rstrip("/").lower() == wanted for entry in allowed)


@websocket(LIVE_PATH, opt=PUBLIC, name="live")
async def live(socket: WebSocket[Any, Any, Any], services: NamedDependency[HubServices]) -> None:
    """Executions' events as they happen (see docs/api.md for the protocol).

    The handshake is refused (closed before it is accepted) when the browser's
    ``Origin`` is not in ``WIREHUB_CORS_ALLOW_ORIGINS`` or the ticket is
    missing, used or expired.
    """
    if not origin_allowed(socket.headers.get("origin"), services.settings.cors_allow_origins):
        await socket.close(code=CLOSE_FORBIDDEN_ORIGIN, reason="this origin may not connect")
        return
    user_id = await take_ticket(services.shared, socket.query_params.get("ticket"))
    principal = None
    if user_id is not None:
        async with services.sessions() as session:
            principal = await load_principal(session, user_id)
    if principal is None:
        await socket.close(code=CLOSE_UNAUTHENTICATED, reason="a valid ticket is required (POST /api/v1/live/tickets)")
        return
    await socket.accept()
    await LiveConnection(socket, services, principal).run()
