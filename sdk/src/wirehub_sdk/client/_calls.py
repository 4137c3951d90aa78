"""The hub's routes as request descriptions, shared by ``Client`` and ``AsyncClient`` (which only send them).

Routes under a workspace take its id; the clients resolve it once. ``repeatable``
says which calls are sent again after a connection error.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote
from uuid import UUID

import msgspec

from wirehub_sdk.client._models import (
    Execution,
    ExecutionPage,
    FailurePage,
    HistoryPage,
    NodeType,
    Validation,
    VersionPage,
    Workflow,
    WorkflowPage,
    WorkflowVersion,
    Workspace,
)

T = TypeVar("T")
API = "/api/v1"
MAX_IDEMPOTENCY_KEY = 200


def _decoder(kind: Any) -> Callable[[bytes], Any]:
    decoder = msgspec.json.Decoder(kind)
    return decoder.decode


def _nothing(_: bytes) -> None:
    return None


_any = _decoder(Any)


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and how to read its answer.

    Attributes:
        repeatable: Sending it twice does no harm (a read, or a start with an idempotency key):
            the client sends it again after a connection error.
    """

    method: str
    path: str
    decode: Callable[[bytes], T]
    params: Sequence[tuple[str, str]] = ()
    json: Any = None
    content: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    authenticated: bool = True
    repeatable: bool = False


def _ws(workspace: UUID) -> str:
    return f"{API}/workspaces/{workspace}"


def _params(**values: Any) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for name, value in values.items():
        if value is None:
            continue
        for item in value if isinstance(value, list | tuple) else [value]:
            found.append((name, item.isoformat() if isinstance(item, datetime) else str(item)))
    return found


def definition_body(definition: Mapping[str, Any] | bytes | str) -> bytes:
    """A workflow definition as the JSON body the hub reads (bytes and text are sent as they are)."""
    if isinstance(definition, bytes):
        return definition
    if isinstance(definition, str):
        return definition.encode()
    return msgspec.json.encode(definition)


# Authentication


def login(username: str, password: str) -> Call[dict[str, Any]]:
    """``POST /auth/token``."""
    return Call(
        "POST", f"{API}/auth/token", _any, json={"username": username, "password": password}, authenticated=False
    )


def refresh(refresh_token: str) -> Call[dict[str, Any]]:
    """``POST /auth/refresh``."""
    return Call("POST", f"{API}/auth/refresh", _any, json={"refresh_token": refresh_token}, authenticated=False)


def logout(refresh_token: str | None) -> Call[None]:
    """``POST /auth/logout``."""
    return Call("POST", f"{API}/auth/logout", _nothing, json={"refresh_token": refresh_token})


def live_ticket() -> Call[dict[str, Any]]:
    """``POST /live/tickets`` (an unused ticket expires by itself: asking again does no harm)."""
    return Call("POST", f"{API}/live/tickets", _any, repeatable=True)


def workspaces() -> Call[list[Workspace]]:
    """``GET /workspaces``."""
    return Call("GET", f"{API}/workspaces", _decoder(list[Workspace]), repeatable=True)


# Workflows

Definition = Mapping[str, Any] | bytes | str
"""A workflow definition: a mapping, or JSON text or bytes sent as they are."""


def _definition_call(
    method: str, path: str, decode: Callable[[bytes], T], definition: Definition, *, repeatable: bool
) -> Call[T]:
    return Call(
        method,
        path,
        decode,
        content=definition_body(definition),
        headers={"content-type": "application/json"},
        repeatable=repeatable,
    )


def create_workflow(workspace: UUID, definition: Definition) -> Call[Workflow]:
    """``POST .../workflows``: a new workflow, its version 1."""
    return _definition_call("POST", f"{_ws(workspace)}/workflows", _decoder(Workflow), definition, repeatable=False)


def update_workflow(workspace: UUID, workflow: UUID, definition: Definition) -> Call[Workflow]:
    """``PUT .../workflows/{id}``: the definition as the workflow's next version (the same one again stores nothing)."""
    path = f"{_ws(workspace)}/workflows/{workflow}"
    return _definition_call("PUT", path, _decoder(Workflow), definition, repeatable=True)  # twice stores it once


def patch_workflow(workspace: UUID, workflow: UUID, patch: Mapping[str, Any]) -> Call[Workflow]:
    """``PATCH .../workflows/{id}``: a JSON Merge Patch (RFC 7396) of the latest definition, saved as the next version.

    Applying the same merge patch twice gives the same definition, so it is safe to send again.
    """
    return Call(
        "PATCH",
        f"{_ws(workspace)}/workflows/{workflow}",
        _decoder(Workflow),
        content=msgspec.json.encode(patch),
        headers={"content-type": "application/merge-patch+json"},
        repeatable=True,
    )


def validate_workflow(workspace: UUID, definition: Definition) -> Call[Validation]:
    """``POST .../workflows/validate``: every check of a save, nothing saved."""
    path = f"{_ws(workspace)}/workflows/validate"
    return _definition_call("POST", path, _decoder(Validation), definition, repeatable=True)


def archive_workflow(workspace: UUID, workflow: UUID) -> Call[Workflow]:
    """``POST .../workflows/{id}/archive`` (archiving twice is a no-op)."""
    return Call("POST", f"{_ws(workspace)}/workflows/{workflow}/archive", _decoder(Workflow), repeatable=True)


def restore_workflow(workspace: UUID, workflow: UUID) -> Call[Workflow]:
    """``POST .../workflows/{id}/restore`` (restoring twice is a no-op)."""
    return Call("POST", f"{_ws(workspace)}/workflows/{workflow}/restore", _decoder(Workflow), repeatable=True)


def list_workflows(
    workspace: UUID, *, archived: bool = False, cursor: str | None = None, limit: int | None = None
) -> Call[WorkflowPage]:
    """``GET .../workflows?archived=&cursor=&limit=``: a page of workflows by name."""
    params = _params(archived="true" if archived else None, cursor=cursor, limit=limit)
    return Call("GET", f"{_ws(workspace)}/workflows", _decoder(WorkflowPage), params=params, repeatable=True)


def get_workflow(workspace: UUID, workflow: UUID) -> Call[Workflow]:
    """``GET .../workflows/{id}``."""
    return Call("GET", f"{_ws(workspace)}/workflows/{workflow}", _decoder(Workflow), repeatable=True)


def workflow_versions(
    workspace: UUID, workflow: UUID, *, cursor: str | None = None, limit: int | None = None
) -> Call[VersionPage]:
    """``GET .../workflows/{id}/versions?cursor=&limit=``: newest first, without definitions."""
    return Call(
        "GET",
        f"{_ws(workspace)}/workflows/{workflow}/versions",
        _decoder(VersionPage),
        params=_params(cursor=cursor, limit=limit),
        repeatable=True,
    )


def workflow_version(workspace: UUID, workflow: UUID, version: int) -> Call[WorkflowVersion]:
    """``GET .../workflows/{id}/versions/{n}``: one version with its pinned definition."""
    return Call(
        "GET",
        f"{_ws(workspace)}/workflows/{workflow}/versions/{int(version)}",
        _decoder(WorkflowVersion),
        repeatable=True,
    )


# Executions


def new_idempotency_key() -> str:
    """A fresh idempotency key."""
    return str(uuid.uuid4())


def start_execution(
    workspace: UUID, workflow: UUID, input: Any, version: int | None, idempotency_key: str
) -> Call[Execution]:
    """``POST .../workflows/{id}/executions`` with an ``Idempotency-Key``: safe to send again."""
    if not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
        raise ValueError(f"an idempotency key has 1 to {MAX_IDEMPOTENCY_KEY} characters")
    body: dict[str, Any] = {"input": input}
    if version is not None:
        body["version"] = version
    return Call(
        "POST",
        f"{_ws(workspace)}/workflows/{workflow}/executions",
        _decoder(Execution),
        json=body,
        headers={"Idempotency-Key": idempotency_key},
        repeatable=True,
    )


def get_execution(workspace: UUID, execution: UUID) -> Call[Execution]:
    """``GET .../executions/{id}``."""
    return Call("GET", f"{_ws(workspace)}/executions/{execution}", _decoder(Execution), repeatable=True)


def list_executions(
    workspace: UUID,
    *,
    workflow: UUID | None = None,
    status: str | None = None,
    started_after: datetime | None = None,
    started_before: datetime | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Call[ExecutionPage]:
    """``GET .../executions?workflow=&status=&started_after=&started_before=&cursor=&limit=``, newest first.

    Raises:
        ValueError: A time without a zone (the hub refuses one).
    """
    for name, instant in (("started_after", started_after), ("started_before", started_before)):
        if instant is not None and instant.tzinfo is None:
            raise ValueError(f"{name} needs a time zone (datetime.now(UTC), not datetime.now())")
    params = _params(
        workflow=workflow,
        status=status,
        started_after=started_after,
        started_before=started_before,
        cursor=cursor,
        limit=limit,
    )
    return Call("GET", f"{_ws(workspace)}/executions", _decoder(ExecutionPage), params=params, repeatable=True)


def list_failures(
    workspace: UUID,
    *,
    workflow: UUID | None = None,
    node_type: str | None = None,
    error_kind: str | None = None,
    since: datetime | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Call[FailurePage]:
    """``GET .../failures?workflow=&node_type=&error_kind=&since=&cursor=&limit=``, the latest to finish first.

    Raises:
        ValueError: A time without a zone (the hub refuses one).
    """
    if since is not None and since.tzinfo is None:
        raise ValueError("since needs a time zone (datetime.now(UTC), not datetime.now())")
    params = _params(
        workflow=workflow, node_type=node_type, error_kind=error_kind, since=since, cursor=cursor, limit=limit
    )
    return Call("GET", f"{_ws(workspace)}/failures", _decoder(FailurePage), params=params, repeatable=True)


def execution_history(
    workspace: UUID, execution: UUID, *, after: int = 0, limit: int | None = None
) -> Call[HistoryPage]:
    """``GET .../executions/{id}/history?after=SEQ&limit=``: the entries after sequence number ``after``."""
    params = _params(after=after, limit=limit)
    return Call(
        "GET", f"{_ws(workspace)}/executions/{execution}/history", _decoder(HistoryPage), params=params, repeatable=True
    )


def cancel_execution(workspace: UUID, execution: UUID) -> Call[Execution]:
    """``POST .../executions/{id}/cancel``, no body. Not sent again: a second cancel is a 409 ``execution-over``."""
    return Call("POST", f"{_ws(workspace)}/executions/{execution}/cancel", _decoder(Execution))


def retry_execution(workspace: UUID, execution: UUID) -> Call[Execution]:
    """``POST .../executions/{id}/retry``, no body: again from the steps that did not succeed."""
    return Call("POST", f"{_ws(workspace)}/executions/{execution}/retry", _decoder(Execution))


# Node types


def node_types() -> Call[list[NodeType]]:
    """``GET /node-types``: every installed node type, by name."""
    return Call("GET", f"{API}/node-types", _decoder(list[NodeType]), repeatable=True)


def node_type(name: str) -> Call[NodeType]:
    """``GET /node-types/{name}``."""
    return Call("GET", f"{API}/node-types/{quote(name, safe='')}", _decoder(NodeType), repeatable=True)
