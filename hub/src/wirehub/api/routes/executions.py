"""Executions of a workspace's workflows: start and read (first cut)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, JSONBody

from wirehub.api.problems import ApiError, not_found
from wirehub.api.routes.workflows import workflow_in
from wirehub.api.security import needs
from wirehub.api.services import HubServices
from wirehub.store import ExecutionNotFoundError, ExecutionView, StepRunView
from wirehub.tracing import link_to_execution

BASE = "/api/v1/workspaces/{workspace_id:uuid}"


class StartExecution(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What to start.

    Attributes:
        input: The execution input, checked against the workflow's input schema.
        version: The workflow version to run; the latest when omitted.
    """

    input: Any = None
    version: Annotated[int, msgspec.Meta(ge=1)] | None = None


class ExecutionOut(msgspec.Struct, frozen=True):
    """An execution with every attempt of its steps.

    Attributes:
        sequence: The sequence number of its latest history entry; events after it are news.
    """

    id: UUID
    workflow_id: UUID
    workflow_version_id: UUID
    status: str
    input: Any
    output: Any
    error: Any
    sequence: int
    steps: list[StepRunView]


def execution_out(view: ExecutionView) -> ExecutionOut:
    """The API's view of a stored execution."""
    return ExecutionOut(
        id=view.execution_id,
        workflow_id=view.workflow_id,
        workflow_version_id=view.workflow_version_id,
        status=view.status,
        input=view.input,
        output=view.output,
        error=view.error,
        sequence=view.next_sequence - 1,
        steps=view.steps,
    )


@post(
    BASE + "/workflows/{workflow_id:uuid}/executions",
    opt=needs("execution:start"),
    tags=["executions"],
    summary="Start an execution",
)
async def start_execution(
    workspace_id: FromPath[UUID],
    workflow_id: FromPath[UUID],
    data: JSONBody[StartExecution],
    services: NamedDependency[HubServices],
    idempotency_key: Annotated[
        str | None,
        HeaderParameter(
            name="Idempotency-Key",
            min_length=1,
            max_length=200,
            description="The same key and body return the same execution; the same key with another body is a 409.",
        ),
    ] = None,
) -> Response[ExecutionOut]:
    """Starts an execution and dispatches its first steps; 201, or 200 for a repeated idempotent request."""
    await workflow_in(services, workspace_id, workflow_id)
    execution_id, applied = await services.store.start(
        workflow_id, data.version, data.input, idempotency_key=idempotency_key
    )
    await services.dispatch(applied.dispatches)
    link_to_execution(execution_id)
    view = await services.store.get(execution_id)
    return Response(execution_out(view), status_code=201 if applied.accepted else 200)


@get(
    BASE + "/executions/{execution_id:uuid}",
    opt=needs("execution:read"),
    tags=["executions"],
    summary="Get an execution",
)
async def get_execution(
    workspace_id: FromPath[UUID], execution_id: FromPath[UUID], services: NamedDependency[HubServices]
) -> ExecutionOut:
    """An execution with its step runs (input, output, error, attempts, timings)."""
    try:
        view = await services.store.get(execution_id)
    except ExecutionNotFoundError as exc:
        raise not_found("the execution") from exc
    await _in_workspace(services, workspace_id, view.workflow_id)
    return execution_out(view)


async def _in_workspace(services: NamedDependency[HubServices], workspace_id: UUID, workflow_id: UUID) -> None:
    try:
        await workflow_in(services, workspace_id, workflow_id)
    except ApiError as exc:  # the workflow is another workspace's: so is its execution
        raise not_found("the execution") from exc
