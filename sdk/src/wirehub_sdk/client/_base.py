"""What ``Client`` and ``AsyncClient`` share: settings, credentials, answers, workspaces, the live protocol."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from uuid import UUID

import httpx
import msgspec

from wirehub_sdk.client._calls import Call, Definition
from wirehub_sdk.client._errors import ClientError, NotFoundError, live_error, problem_error
from wirehub_sdk.client._models import LiveEvent, Tokens, Workflow, Workspace

if TYPE_CHECKING:  # websockets comes with the client extra, and is imported when a stream opens
    from websockets.asyncio.client import ClientConnection as AsyncClientConnection
    from websockets.sync.client import ClientConnection
    from websockets.typing import Data

T = TypeVar("T")
Item = TypeVar("Item", covariant=True)


class Page(Protocol[Item]):
    """A page of a cursor-paged list: its items and the cursor of the next page (none at the end)."""

    @property
    def items(self) -> Sequence[Item]: ...

    @property
    def next(self) -> str | None: ...


def every_item(page_at: Callable[[str | None], Page[T]]) -> Iterator[T]:
    """The items of every page ``page_at(cursor)`` gives, from the first (cursor ``None``) to the last."""
    cursor: str | None = None
    while True:
        page = page_at(cursor)
        yield from page.items
        if not page.next:
            return
        cursor = page.next


async def every_item_async(page_at: Callable[[str | None], Awaitable[Page[T]]]) -> AsyncIterator[T]:
    """``every_item`` for pages read with ``await``."""
    cursor: str | None = None
    while True:
        page = await page_at(cursor)
        for item in page.items:
            yield item
        if not page.next:
            return
        cursor = page.next


DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
"""Each request: 10 s to connect, 30 s for each read or write."""
DEFAULT_WORKSPACE_NAME = "default"
MAX_LIVE_MESSAGE_BYTES = 32 * 1024 * 1024
"""The largest live message accepted (an event carries a step's output)."""
LIVE_OPEN_TIMEOUT = 10.0
LIVE_PING_SECONDS = 20.0
"""A keepalive ping every 20 s, answered within 20 s, notices a connection that died silently."""
MAX_RECONNECTS = 10
"""Reconnections in a row, without an event between them, before a stream gives up."""
PAGE_SIZE = 500
"""Items a page when a client walks every page (the hub's largest)."""
SEND_ATTEMPTS = 3
"""Tries of a repeatable request that could not reach the hub."""
USER_AGENT = "wirehub-sdk-client/0.1"


class ClientBase:
    """Settings and state common to both clients (see ``Client`` for the arguments)."""

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        tokens: Tokens | None = None,
        workspace: UUID | str | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        on_tokens: Callable[[Tokens | None], None] | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"the hub's URL must start with http:// or https://, not {url[:40]!r}")
        if api_key is not None and tokens is not None:
            raise ValueError("give an API key or tokens, not both")
        self.url = url.rstrip("/")
        self._api_key = api_key
        self._tokens = tokens
        self._on_tokens = on_tokens
        self._workspace_wanted = workspace
        self._workspace_id: UUID | None = None
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)

    def __repr__(self) -> str:
        how = "api key" if self._api_key else "login" if self._tokens else "anonymous"
        return f"<{type(self).__name__} {self.url} ({how})>"

    @property
    def tokens(self) -> Tokens | None:
        """The current login, if the client logged in (it changes at every refresh)."""
        return self._tokens

    def _set_tokens(self, tokens: Tokens | None) -> None:
        self._tokens = tokens
        if self._on_tokens is not None:
            self._on_tokens(tokens)

    def _headers(self, call: Call[Any]) -> dict[str, str]:
        headers = {"user-agent": USER_AGENT, "accept": "application/json", **call.headers}
        if call.authenticated:
            if self._api_key is not None:
                headers["x-api-key"] = self._api_key
            elif self._tokens is not None:
                headers["authorization"] = f"Bearer {self._tokens.access_token}"
        return headers

    def _request(self, call: Call[Any]) -> dict[str, Any]:
        """The keyword arguments of ``httpx.Client.request`` for ``call``."""
        arguments: dict[str, Any] = {
            "method": call.method,
            "url": self.url + call.path,
            "headers": self._headers(call),
            "params": list(call.params),
        }
        if call.content is not None:
            arguments["content"] = call.content
        elif call.json is not None:
            arguments["json"] = call.json
        return arguments

    def _refreshable(self, call: Call[Any], response: httpx.Response) -> bool:
        """Whether a 401 may be cured by refreshing the login and sending again."""
        return response.status_code == 401 and call.authenticated and self._api_key is None and self._tokens is not None

    @staticmethod
    def _result(call: Call[T], response: httpx.Response) -> T:
        if response.is_success:
            try:
                return call.decode(response.content)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise ClientError(
                    f"{call.method} {call.path}: the hub's answer is not what it should be: {exc}"
                ) from exc
        raise problem_error(
            response.status_code,
            response.content,
            reason=response.reason_phrase,
            retry_after=response.headers.get("retry-after"),
        )

    def _choose_workspace(self, found: list[Workspace]) -> UUID:
        wanted = self._workspace_wanted
        if isinstance(wanted, UUID):
            return wanted
        if wanted is not None:
            try:
                return UUID(wanted)
            except ValueError:
                pass
            for workspace in found:
                if workspace.name == wanted:
                    return workspace.id
            raise ClientError(f"no workspace named {wanted!r} is visible to this login")
        if len(found) == 1:
            return found[0].id
        for workspace in found:
            if workspace.name == DEFAULT_WORKSPACE_NAME:
                return workspace.id
        names = ", ".join(w.name for w in found) or "none"
        raise ClientError(f"choose a workspace (workspace=...): this login sees {names}")

    def _known_workspace(self) -> UUID | None:
        """The workspace's id when it needs no lookup."""
        if self._workspace_id is None and isinstance(self._workspace_wanted, UUID):
            self._workspace_id = self._workspace_wanted
        return self._workspace_id

    def _live_url(self, ticket: dict[str, Any]) -> str:
        path = str(ticket.get("url") or "")
        if not path.startswith("/"):
            raise ClientError("the hub's live ticket has no usable URL")
        return "ws" + self.url.removeprefix("http") + path

    @staticmethod
    def _named(name: str, found: list[Workflow]) -> UUID:
        """The one workflow called ``name`` among ``found`` (archived ones included), preferring one in use.

        Raises:
            NotFoundError: None is called so.
            ClientError: More than one is, and using its id is the only way to choose.
        """
        named = [w for w in found if w.name == name]
        if len(named) > 1:
            named = [w for w in named if not w.archived] or named
        if not named:
            raise NotFoundError(404, "not-found", f"no workflow is named {name!r}")
        if len(named) > 1:
            raise ClientError(f"{len(named)} workflows are named {name!r}: give an id")
        return named[0].id

    @staticmethod
    def _workflow_id(workflow: UUID | str) -> UUID | None:
        if isinstance(workflow, UUID):
            return workflow
        try:
            return UUID(workflow)
        except ValueError:
            return None


class Follow:
    """The state of one followed execution across connections: what was seen, what to ask for next.

    Args:
        execution_id: The execution.
        after: The last sequence number already seen (0: from the start).
    """

    def __init__(self, execution_id: UUID, after: int = 0) -> None:
        self.execution_id = execution_id
        self.after = after
        self.ended = False
        self.key = f"execution:{execution_id}"

    def subscribe(self) -> str:
        """The subscribe message that resumes after the last event seen."""
        return json.dumps({"subscribe": {"execution": str(self.execution_id), "after": self.after}})

    def receive(self, data: str | bytes) -> LiveEvent | None:
        """The event a message carries, if it is a new one of this execution; ``ended`` is set at the end.

        Raises:
            ProblemError: The hub answered the subscription with an error.
        """
        try:
            message = msgspec.json.decode(data)
        except msgspec.DecodeError as exc:
            raise ClientError(f"the hub sent a live message that is not JSON: {exc}") from exc
        if not isinstance(message, dict):
            return None
        kind = message.get("type")
        if message.get("subscription") not in (None, self.key):
            return None
        if kind == "error":
            raise live_error(message)
        if kind == "ended":
            self.ended = True
            return None
        if kind != "event":
            return None
        event = msgspec.convert(message, LiveEvent, strict=False)
        if event.sequence <= self.after:  # already seen before a reconnection
            return None
        self.after = event.sequence
        return event


def next_message(socket: ClientConnection, wait: float | None) -> Data:
    """The next message of a live connection, within ``wait`` seconds (``None``: however long it takes).

    Raises:
        TimeoutError: None came in time.
    """
    return socket.recv(timeout=wait)


async def next_message_async(socket: AsyncClientConnection, wait: float | None) -> Data:
    """``next_message`` on an asyncio connection."""
    async with asyncio.timeout(wait):
        return await socket.recv()


def definition_bytes(definition: Definition | Path) -> Definition:
    """A definition as the calls take it: a file's path is read, anything else passed on."""
    return definition.read_bytes() if isinstance(definition, Path) else definition


def backoff(attempt: int) -> float:
    """Seconds to wait before reconnection ``attempt`` (1, 2, ...): 0.1 s doubling, at most 5 s."""
    return float(min(0.1 * 2 ** (attempt - 1), 5.0))
