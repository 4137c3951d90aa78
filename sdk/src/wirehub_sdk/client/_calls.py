"""The hub's routes as request descriptions, shared by ``Client`` and ``AsyncClient`` (which only send them).

Routes under a workspace take its id; the clients resolve it once. The routes
marked *(newer hubs)* are the ones a hub of this version may not serve yet.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

import msgspec

from wirehub_sdk.client._models import (
    Execution,
    ExecutionPage,
    HistoryPage,
    Workflow,
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


def create_workflow(workspace: UUID, definition: Mapping[str, Any] | bytes | str) -> Call[Workflow]:
    """``POST .../workflows``: a new workflow, its version 1."""
    return Call(
        "POST",
        f"{_ws(workspace)}/workflows",
        _decoder(Workflow),
        content=definition_body(definition),
        headers={"content-type": "application/json"},
    )


def update_workflow(workspace: UUID, workflow: UUID, definition: Mapping[str, Any] | bytes | str) -> Call[Workflow]:
    """``PUT .../workflows/{id}``: the workflow's next version *(newer hubs)*."""
    return Call(
        "PUT",
        f"{_ws(workspace)}/workflows/{workflow}",
        _decoder(Workflow),
        content=definition_body(definition),
        headers={"content-type": "application/json"},
        repeatable=True,  # saving the same definition again stores nothing
    )


def validate_workflow(workspace: UUID, definition: Mapping[str, Any] | bytes | str) -> Call[dict[str, Any]]:
    """``POST .../workflows/validate``: the definition's problems, nothing saved *(newer hubs)*."""
    return Call(
        "POST",
        f"{_ws(workspace)}/workflows/validate",
        _any,
        content=definition_body(definition),
        headers={"content-type": "application/json"},
        repeatable=True,
    )


def archive_workflow(workspace: UUID, workflow: UUID) -> Call[Any]:
    """``POST .../workflows/{id}/archive`` *(newer hubs)*."""
    return Call("POST", f"{_ws(workspace)}/workflows/{workflow}/archive", _any, repeatable=True)


def list_workflows(workspace: UUID) -> Call[list[Workflow]]:
    """``GET .../workflows``."""
    return Call("GET", f"{_ws(workspace)}/workflows", _decoder(list[Workflow]), repeatable=True)


def get_workflow(workspace: UUID, workflow: UUID) -> Call[Workflow]:
    """``GET .../workflows/{id}``."""
    return Call("GET", f"{_ws(workspace)}/workflows/{workflow}", _decoder(Workflow), repeatable=True)


def workflow_versions(workspace: UUID, workflow: UUID) -> Call[Any]:
    """``GET .../workflows/{id}/versions`` *(newer hubs)*."""
    return Call("GET", f"{_ws(workspace)}/workflows/{workflow}/versions", _any, repeatable=True)


def workflow_version(workspace: UUID, workflow: UUID, version: int) -> Call[Any]:
    """``GET .../workflows/{id}/versions/{n}`` *(newer hubs)*."""
    return Call("GET", f"{_ws(workspace)}/workflows/{workflow}/versions/{version}", _any, repeatable=True)


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
    status: str | Sequence[str] | None = None,
    started_after: datetime | None = None,
    started_before: datetime | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Call[ExecutionPage]:
    """``GET .../executions?workflow=&status=&started_after=&started_before=&cursor=&limit=`` *(newer hubs)*."""
    statuses = [status] if isinstance(status, str) else list(status) if status is not None else None
    params = _params(
        workflow=workflow,
        status=statuses,
        started_after=started_after,
        started_before=started_before,
        cursor=cursor,
        limit=limit,
    )
    return Call("GET", f"{_ws(workspace)}/executions", _decoder(ExecutionPage), params=params, repeatable=True)


def execution_history(
    workspace: UUID, execution: UUID, *, after: int = 0, limit: int | None = None
) -> Call[HistoryPage]:
    """``GET .../executions/{id}/history?after=SEQ`` *(newer hubs)*."""
    params = _params(after=after, limit=limit)
    return Call(
        "GET", f"{_ws(workspace)}/executions/{execution}/history", _decoder(HistoryPage), params=params, repeatable=True
    )


def cancel_execution(workspace: UUID, execution: UUID, reason: str | None = None) -> Call[Execution]:
    """``POST .../executions/{id}/cancel`` *(newer hubs)*."""
    body = {"reason": reason} if reason else None
    return Call(
        "POST", f"{_ws(workspace)}/executions/{execution}/cancel", _decoder(Execution), json=body, repeatable=True
    )


def retry_execution(workspace: UUID, execution: UUID) -> Call[Execution]:
    """``POST .../executions/{id}/retry``: again from the failed step *(newer hubs)*."""
    return Call("POST", f"{_ws(workspace)}/executions/{execution}/retry", _decoder(Execution))


# Node types


def node_types() -> Call[Any]:
    """``GET /node-types`` *(newer hubs)*."""
    return Call("GET", f"{API}/node-types", _any, repeatable=True)


def node_type(name: str) -> Call[Any]:
    """``GET /node-types/{name}`` *(newer hubs)*."""
    return Call("GET", f"{API}/node-types/{name}", _any, repeatable=True)
