# Generated from _async.py by `python3 dev.py unasync`: edit _async.py, never this file.
"""``Client``: the hub's API from synchronous code."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from uuid import UUID

import httpx

from wirehub_sdk.client import _calls as calls
from wirehub_sdk.client._base import (
    DEFAULT_TIMEOUT,
    LIVE_OPEN_TIMEOUT,
    LIVE_PING_SECONDS,
    MAX_LIVE_MESSAGE_BYTES,
    MAX_RECONNECTS,
    PAGE_SIZE,
    SEND_ATTEMPTS,
    ClientBase,
    Follow,
    backoff,
    definition_bytes,
    every_item,
    next_message,
)
from wirehub_sdk.client._calls import Definition
from wirehub_sdk.client._errors import AuthenticationError, TransportError, WaitTimeoutError
from wirehub_sdk.client._models import (
    Execution,
    ExecutionPage,
    Failure,
    FailurePage,
    HistoryEntry,
    HistoryPage,
    LiveEvent,
    NodeType,
    Tokens,
    Validation,
    VersionPage,
    Workflow,
    WorkflowPage,
    WorkflowVersion,
    Workspace,
)

T = TypeVar("T")


class Client(ClientBase):
    """A connection to a running hub from synchronous code: workflows, executions and their live events.

    Args:
        url: The hub's base URL (``http://localhost:8000``).
        api_key: A service account's key (``whk_...``); or log in with ``login``.
        tokens: A stored login to resume (``Client.tokens`` after ``login``); it is refreshed when it expires.
        workspace: The workspace to work in: its id or name. By default the only one the login
            sees, else the one named ``default``.
        timeout: Seconds (or an ``httpx.Timeout``) for each request; 10 s to connect, 30 s to read by default.
        on_tokens: Called with the new tokens after each login and refresh (and ``None`` after a
            logout): a refresh token works once, so whoever stores the login must store the new one.
        transport: An httpx transport (tests, proxies); the default connects directly.

    Use it as a context manager (``with Client(...) as hub``), or call ``close``.
    """

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        tokens: Tokens | None = None,
        workspace: UUID | str | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        on_tokens: Callable[[Tokens | None], None] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(url, api_key=api_key, tokens=tokens, workspace=workspace, timeout=timeout, on_tokens=on_tokens)
        self._http = httpx.Client(timeout=self._timeout, transport=transport, follow_redirects=False)
        self._lock = threading.Lock()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Closes the client's connections."""
        self._http.close()

    # Sending

    def _send(self, call: calls.Call[T]) -> T:
        if call.authenticated and self._tokens is not None and self._api_key is None and self._tokens.expired():
            self._refresh(self._tokens)
        response = self._transmit(call)
        if self._refreshable(call, response) and self._tokens is not None:
            self._refresh(self._tokens)
            response = self._transmit(call)
        return self._result(call, response)

    def _transmit(self, call: calls.Call[Any]) -> httpx.Response:
        attempts = SEND_ATTEMPTS if call.repeatable else 1
        for attempt in range(1, attempts + 1):
            try:
                return self._http.request(**self._request(call))
            except httpx.TransportError as exc:
                if attempt == attempts:
                    raise TransportError(f"{call.method} {self.url}{call.path}: {type(exc).__name__}: {exc}") from exc
                time.sleep(backoff(attempt))
        raise AssertionError("unreachable")

    def _refresh(self, stale: Tokens) -> None:
        with self._lock:
            if self._tokens is not stale:  # another caller refreshed meanwhile
                return
            try:
                call = calls.refresh(stale.refresh_token)
                body = self._result(call, self._transmit(call))
            except AuthenticationError:
                self._set_tokens(None)
                raise
            self._set_tokens(Tokens.from_response(body))

    # Authentication

    def login(self, username: str, password: str) -> Tokens:
        """Logs in; the client then sends the access token and refreshes it when it expires.

        Raises:
            AuthenticationError: The username or the password is wrong.
        """
        body = self._send(calls.login(username, password))
        self._api_key = None
        tokens = Tokens.from_response(body)
        self._set_tokens(tokens)
        return tokens

    def logout(self) -> None:
        """Ends the login on the hub (its access and refresh tokens stop working) and forgets it."""
        if self._tokens is None:
            return
        try:
            self._send(calls.logout(self._tokens.refresh_token))
        finally:
            self._set_tokens(None)

    def workspaces(self) -> list[Workspace]:
        """The workspaces this login may read."""
        return self._send(calls.workspaces())

    def workspace_id(self) -> UUID:
        """The id of the workspace the client works in (looked up once)."""
        known = self._known_workspace()
        if known is None:
            known = self._workspace_id = self._choose_workspace(self.workspaces())
        return known

    # Workflows

    def push(self, definition: Definition | Path) -> Workflow:
        """Saves a new workflow from a definition: a dict, JSON text or bytes, or a file's path.

        Raises:
            InvalidRequestError: The definition is not valid; ``errors`` point at each problem.
        """
        return self._send(calls.create_workflow(self.workspace_id(), definition_bytes(definition)))

    def update_workflow(self, workflow: UUID | str, definition: Definition | Path) -> Workflow:
        """Saves a whole definition as the workflow's next version (one equal to the latest stores nothing).

        Executions keep the version they started on.

        Raises:
            InvalidRequestError: The definition is not valid (nothing is saved).
            ConflictError: The workflow is archived (``code`` ``workflow-archived``).
        """
        return self._send(
            calls.update_workflow(self.workspace_id(), self._resolve(workflow), definition_bytes(definition))
        )

    def patch_workflow(self, workflow: UUID | str, patch: Mapping[str, Any]) -> Workflow:
        """Changes the latest definition by a JSON Merge Patch and saves the result as the next version.

        ``{"description": "..."}`` changes one field, ``None`` removes one, a list (``steps``) is
        replaced whole. Raises as ``update_workflow``.
        """
        return self._send(calls.patch_workflow(self.workspace_id(), self._resolve(workflow), patch))

    def validate_workflow(self, definition: Definition | Path) -> Validation:
        """Checks a definition as saving it would, and saves nothing.

        Returns:
            The definition as it would be saved, pinned.

        Raises:
            InvalidRequestError: It is not valid; ``errors`` point at each problem.
        """
        return self._send(calls.validate_workflow(self.workspace_id(), definition_bytes(definition)))

    def archive_workflow(self, workflow: UUID | str) -> Workflow:
        """Archives a workflow: it starts no executions and takes no versions; running ones go on."""
        return self._send(calls.archive_workflow(self.workspace_id(), self._resolve(workflow)))

    def restore_workflow(self, workflow: UUID | str) -> Workflow:
        """Restores an archived workflow (by id, or by name: archived ones are found too)."""
        return self._send(calls.restore_workflow(self.workspace_id(), self._resolve(workflow)))

    def workflows(self, *, archived: bool = False, cursor: str | None = None, limit: int | None = None) -> WorkflowPage:
        """One page of the workspace's workflows by name (archived ones only with ``archived``)."""
        return self._send(calls.list_workflows(self.workspace_id(), archived=archived, cursor=cursor, limit=limit))

    def iter_workflows(self, *, archived: bool = False) -> Iterator[Workflow]:
        """Every workflow of the workspace by name, page after page."""
        yield from every_item(lambda cursor: self.workflows(archived=archived, cursor=cursor, limit=PAGE_SIZE))

    def workflow(self, workflow: UUID | str) -> Workflow:
        """One workflow, by id or name."""
        return self._send(calls.get_workflow(self.workspace_id(), self._resolve(workflow)))

    def workflow_versions(
        self, workflow: UUID | str, *, cursor: str | None = None, limit: int | None = None
    ) -> VersionPage:
        """One page of a workflow's versions, newest first, without their definitions."""
        workflow_id = self._resolve(workflow)
        return self._send(calls.workflow_versions(self.workspace_id(), workflow_id, cursor=cursor, limit=limit))

    def workflow_version(self, workflow: UUID | str, version: int) -> WorkflowVersion:
        """One version of a workflow with its pinned definition."""
        return self._send(calls.workflow_version(self.workspace_id(), self._resolve(workflow), version))

    def _resolve(self, workflow: UUID | str) -> UUID:
        found = self._workflow_id(workflow)
        if found is not None:
            return found
        return self._named(str(workflow), list(self.iter_workflows(archived=True)))

    # Executions

    def start(
        self,
        workflow: UUID | str,
        input: Any = None,
        *,
        version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Execution:
        """Starts an execution of a workflow (by id or name), of its latest version unless ``version``.

        Args:
            idempotency_key: The same key with the same request returns the same execution
                instead of starting another. One is made when omitted, so that a request
                sent again after a lost connection starts nothing twice.

        Raises:
            InvalidRequestError: The input does not match the workflow's input schema.
            ConflictError: The key was used with another request, or the workflow is archived.
        """
        key = idempotency_key or calls.new_idempotency_key()
        return self._send(calls.start_execution(self.workspace_id(), self._resolve(workflow), input, version, key))

    def execution(self, execution_id: UUID | str) -> Execution:
        """An execution with every attempt of its steps."""
        return self._send(calls.get_execution(self.workspace_id(), UUID(str(execution_id))))

    def executions(
        self,
        *,
        workflow: UUID | str | None = None,
        status: str | None = None,
        started_after: datetime | None = None,
        started_before: datetime | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> ExecutionPage:
        """One page of the workspace's executions, newest first, without input, output and steps.

        Args:
            workflow: Only this workflow's (an id or a name).
            status: Only those in this status (``failed``, ``running``...).
            started_after: Only those started at or after this time (with a time zone).
            started_before: Only those started before this time (with a time zone).
            cursor: The previous page's ``next``.
            limit: 1 to 500 a page (100 by default).
        """
        workflow_id = self._resolve(workflow) if workflow is not None else None
        return self._send(
            calls.list_executions(
                self.workspace_id(),
                workflow=workflow_id,
                status=status,
                started_after=started_after,
                started_before=started_before,
                cursor=cursor,
                limit=limit,
            )
        )

    def iter_executions(
        self,
        *,
        workflow: UUID | str | None = None,
        status: str | None = None,
        started_after: datetime | None = None,
        started_before: datetime | None = None,
    ) -> Iterator[Execution]:
        """Every execution matching the filters (those of ``executions``), newest first, page after page."""
        workflow_id = self._resolve(workflow) if workflow is not None else None
        yield from every_item(
            lambda cursor: self.executions(
                workflow=workflow_id,
                status=status,
                started_after=started_after,
                started_before=started_before,
                cursor=cursor,
                limit=PAGE_SIZE,
            )
        )

    def failures(
        self,
        *,
        workflow: UUID | str | None = None,
        node_type: str | None = None,
        error_kind: str | None = None,
        since: datetime | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> FailurePage:
        """One page of the workspace's failed and timed-out executions, the latest to finish first.

        Each item is flat: the workflow, the step that failed, its node type and attempt, the
        error's kind and message, and when the execution ended, in one request.

        Args:
            workflow: Only this workflow's (an id or a name).
            node_type: Only where a step of this node type failed (``core.http``).
            error_kind: Only errors of this kind (``http.status``).
            since: Only those that ended at or after this time (with a time zone).
            cursor: The previous page's ``next``.
            limit: 1 to 500 a page (100 by default).
        """
        workflow_id = self._resolve(workflow) if workflow is not None else None
        return self._send(
            calls.list_failures(
                self.workspace_id(),
                workflow=workflow_id,
                node_type=node_type,
                error_kind=error_kind,
                since=since,
                cursor=cursor,
                limit=limit,
            )
        )

    def iter_failures(
        self,
        *,
        workflow: UUID | str | None = None,
        node_type: str | None = None,
        error_kind: str | None = None,
        since: datetime | None = None,
    ) -> Iterator[Failure]:
        """Every failure matching the filters (those of ``failures``), the latest first, page after page."""
        workflow_id = self._resolve(workflow) if workflow is not None else None
        yield from every_item(
            lambda cursor: self.failures(
                workflow=workflow_id,
                node_type=node_type,
                error_kind=error_kind,
                since=since,
                cursor=cursor,
                limit=PAGE_SIZE,
            )
        )

    def history(self, execution_id: UUID | str, *, after: int = 0, limit: int | None = None) -> HistoryPage:
        """The execution's history entries after sequence number ``after``; ``next_after`` continues."""
        return self._send(
            calls.execution_history(self.workspace_id(), UUID(str(execution_id)), after=after, limit=limit)
        )

    def iter_history(self, execution_id: UUID | str, *, after: int = 0) -> Iterator[HistoryEntry]:
        """Every history entry after ``after`` recorded so far, page after page (``stream`` follows live)."""
        while True:
            page = self.history(execution_id, after=after, limit=PAGE_SIZE)
            yield from page.items
            if page.next_after is None:
                return
            after = page.next_after

    def cancel(self, execution_id: UUID | str) -> Execution:
        """Cancels an execution that is not over: open attempts are cancelled, pending steps skipped.

        Raises:
            ConflictError: It is already over (``code`` ``execution-over``).
        """
        return self._send(calls.cancel_execution(self.workspace_id(), UUID(str(execution_id))))

    def retry(self, execution_id: UUID | str) -> Execution:
        """Runs a failed, timed-out or cancelled execution again from where it failed, keeping what succeeded.

        Raises:
            ConflictError: It is not retryable (``not-retryable``), or its workflow is archived.
        """
        return self._send(calls.retry_execution(self.workspace_id(), UUID(str(execution_id))))

    # Node types

    def node_types(self) -> list[NodeType]:
        """The node types installed on the hub, by name, with their versions' schemas and their plugin."""
        return self._send(calls.node_types())

    def node_type(self, name: str) -> NodeType:
        """One installed node type.

        Raises:
            NotFoundError: It is not installed; the detail says why when a plugin failed to load.
        """
        return self._send(calls.node_type(name))

    def wait(
        self,
        execution_id: UUID | str,
        *,
        timeout: float | None = None,
        live: bool = True,
        poll_interval: float = 0.5,
        on_event: Callable[[LiveEvent], None] | None = None,
    ) -> Execution:
        """Waits for an execution to end and returns it.

        Args:
            timeout: Seconds to wait at most (``None``: as long as it takes).
            live: Follow its events over the WebSocket; ``False`` polls every ``poll_interval`` seconds.
            on_event: With ``live``, called with each event as it comes.

        Raises:
            WaitTimeoutError: It was still running after ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        execution = self.execution(execution_id)
        if live and not execution.finished:
            for event in self.stream(execution.id, after=0 if on_event else execution.sequence, deadline=deadline):
                if on_event is not None:
                    on_event(event)
            execution = self.execution(execution.id)
        while not execution.finished:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise WaitTimeoutError(f"execution {execution.id} is still {execution.status} after {timeout}s")
            time.sleep(poll_interval if left is None else min(poll_interval, left))
            execution = self.execution(execution.id)
        return execution

    def stream(
        self,
        execution_id: UUID | str,
        *,
        after: int = 0,
        deadline: float | None = None,
        max_reconnects: int = MAX_RECONNECTS,
    ) -> Iterator[LiveEvent]:
        """The execution's events after sequence ``after``, each once, until it ends.

        The history comes first, then events as they happen. A lost connection is
        opened again (with a new ticket) and resumes after the last event received,
        so nothing is missed or repeated.

        Args:
            deadline: A ``time.monotonic()`` instant to stop at (``WaitTimeoutError``).
            max_reconnects: Reconnections in a row without an event before giving up (``TransportError``).

        Raises:
            ProblemError: The hub refused the subscription (``NotFoundError``...).
        """
        from websockets.exceptions import ConnectionClosed, InvalidHandshake
        from websockets.sync.client import connect

        follow = Follow(UUID(str(execution_id)), after)
        failures = 0
        while not follow.ended:
            try:
                ticket = self._send(calls.live_ticket())
                with connect(
                    self._live_url(ticket),
                    open_timeout=LIVE_OPEN_TIMEOUT,
                    ping_interval=LIVE_PING_SECONDS,
                    ping_timeout=LIVE_PING_SECONDS,
                    close_timeout=2.0,
                    max_size=MAX_LIVE_MESSAGE_BYTES,
                    user_agent_header=None,
                ) as socket:
                    socket.send(follow.subscribe())
                    while not follow.ended:
                        wait = None if deadline is None else max(deadline - time.monotonic(), 0.0)
                        try:
                            data = next_message(socket, wait)
                        except TimeoutError:
                            raise WaitTimeoutError(f"execution {follow.execution_id} did not end in time") from None
                        event = follow.receive(data)
                        if event is not None:
                            failures = 0
                            yield event
            except WaitTimeoutError:
                raise
            except (ConnectionClosed, InvalidHandshake, OSError, TransportError) as exc:  # OSError: TimeoutError too
                failures += 1
                if failures > max_reconnects:
                    raise TransportError(f"the live connection failed {failures} times in a row: {exc}") from exc
                if deadline is not None and time.monotonic() + backoff(failures) >= deadline:
                    raise WaitTimeoutError(f"execution {follow.execution_id} did not end in time") from exc
                time.sleep(backoff(failures))
