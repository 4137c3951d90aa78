"""Executions of a workspace's workflows: start, list, read, cancel and retry."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, HeaderParameter, JSONBody
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wirehub.api import audit
from wirehub.api.error_reports import Tracebacks, is_internal, may_debug, shown_error, traceback_of
from wirehub.api.node_rules import CODE as NODE_TYPE_NOT_ALLOWED
from wirehub.api.node_rules import node_type_problems
from wirehub.api.problems import ApiError, items_of, not_found
from wirehub.api.routes.workflows import archived_conflict
from wirehub.api.security import needs, principal_of
from wirehub.api.services import HubServices
from wirehub.store import (
    AuditEntry,
    ExecutionNotFoundError,
    ExecutionSummary,
    NotRetryableError,
    StepRunView,
    WorkflowFacts,
    WorkflowVersion,
    WorkflowVersionService,
    attempt_tracebacks,
    execution_workspace,
    workflow_facts,
)
from wirehub.tracing import link_to_execution

BASE = "/api/v1/workspaces/{workspace_id:uuid}"
ONE = BASE + "/executions/{execution_id:uuid}"
TAGS = ["executions"]


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
        created_at: When it was accepted.
        started_at: When it started running.
        finished_at: When it reached a terminal status.
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
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


def execution_out(view: ExecutionSummary, *, debug: bool = False, tracebacks: Tracebacks | None = None) -> ExecutionOut:
    """The API's view of a stored execution, its errors shown as ``wirehub.api.error_reports`` says.

    Args:
        view: The stored execution.
        debug: The caller holds ``execution:debug``: internal errors in full, with ``tracebacks``.
        tracebacks: Its internal errors' tracebacks (``wirehub.store.attempt_tracebacks``).
    """
    found = tracebacks or {}
    steps = [
        step
        if step.error is None
        else msgspec.structs.replace(
            step,
            error=shown_error(
                step.error, debug=debug, traceback=traceback_of(step.error, found, step.step_id, step.attempt)
            ),
        )
        for step in view.steps
    ]
    return ExecutionOut(
        id=view.execution_id,
        workflow_id=view.workflow_id,
        workflow_version_id=view.workflow_version_id,
        status=view.status,
        input=view.input,
        output=view.output,
        error=shown_error(view.error, debug=debug, traceback=traceback_of(view.error, found)),
        sequence=view.next_sequence - 1,
        steps=steps,
        created_at=view.created_at,
        started_at=view.started_at,
        finished_at=view.finished_at,
    )


async def check_runnable(services: HubServices, workspace_id: UUID, workflow_id: UUID, version: int | None) -> None:
    """What starting (or retrying) an execution of a workflow needs beyond the store's checks, in a read of its own.

    Raises:
        ApiError: As :func:`runnable_in`.
    """
    async with services.sessions() as session:
        await runnable_in(session, services, workspace_id, workflow_id, version)


async def runnable_in(
    session: AsyncSession, services: HubServices, workspace_id: UUID, workflow_id: UUID, version: int | None
) -> None:
    """What starting (or retrying) an execution of a workflow needs beyond the store's checks, read in ``session``.

    Raises:
        ApiError: As :func:`runnable`.
    """
    facts = await workflow_facts(session, workflow_id, version)
    if facts is None:
        raise not_found("the workflow")
    await runnable(session, services, workspace_id, facts, version)


async def runnable(
    session: AsyncSession, services: HubServices, workspace_id: UUID, facts: WorkflowFacts, version: int | None
) -> None:
    """What starting an execution needs beyond the store's checks, given what the start read of the workflow.

    Raises:
        ApiError: 404 when the workflow is not the workspace's; 409 ``workflow-archived`` when it is
            archived; 409 ``node-type-not-allowed`` when the version uses a node type the workspace
            no longer allows (each step at ``/steps/N/type`` of its definition).
    """
    if facts.workspace_id != workspace_id:
        raise not_found("the workflow")
    if facts.archived:
        raise archived_conflict()
    rules = facts.allowed_node_types
    if rules is None:
        return
    service = WorkflowVersionService(session, services.registry, services.plans)
    stored = await service.get_version(facts.workflow_id, version)
    problems = node_type_problems(stored.definition, rules)
    if problems:
        raise ApiError(
            409,
            NODE_TYPE_NOT_ALLOWED,
            f"version {stored.version} of the workflow uses node types this workspace does not allow",
            errors=items_of(problems),
        )


@post(
    BASE + "/workflows/{workflow_id:uuid}/executions",
    opt=needs("execution:start"),
    tags=TAGS,
    summary="Start an execution",
    responses={200: ResponseSpec(ExecutionOut, description="A repeated idempotent start: the execution it started.")},
)
async def start_execution(
    workspace_id: FromPath[UUID],
    workflow_id: FromPath[UUID],
    data: JSONBody[StartExecution],
    services: NamedDependency[HubServices],
    request: Request[Any, Any, Any],
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
    """Starts an execution and dispatches its first steps; 201, or 200 for a repeated idempotent request.

    An archived workflow, or a version using a node type the workspace does not allow, is a 409.
    """

    async def checked(session: AsyncSession, facts: WorkflowFacts) -> None:  # in the start's own transaction
        await runnable(session, services, workspace_id, facts, data.version)

    def audited(execution_id: UUID) -> AuditEntry:  # written in the start's own transaction
        details = {"workflow_id": str(workflow_id)}
        return audit.entry(request, "execution.start", target=("execution", execution_id), details=details)

    summary, applied = await services.store.start_and_summarize(
        workflow_id, data.version, data.input, idempotency_key=idempotency_key, check=checked, record=audited
    )
    await services.dispatch(applied.dispatches)
    link_to_execution(summary.execution_id)
    return Response(execution_out(summary), status_code=201 if applied.accepted else 200)


async def execution_in(services: HubServices, workspace_id: UUID, execution_id: UUID) -> None:
    """Nothing if the execution belongs to the workspace; a 404 otherwise (another workspace's too)."""
    async with services.sessions() as session:
        found = await execution_workspace(session, execution_id)
    if found != workspace_id:
        raise not_found("the execution")


@get(ONE, opt=needs("execution:read"), tags=TAGS, summary="Get an execution")
async def get_execution(
    workspace_id: FromPath[UUID],
    execution_id: FromPath[UUID],
    services: NamedDependency[HubServices],
    request: Request[Any, Any, Any],
) -> ExecutionOut:
    """An execution with its step runs (input, output, error, attempts, timings).

    An error names its kind, message, step, node type and attempt, whether it was retryable, and
    the node's details. An internal error (kind ``node.unexpected``) shows its traceback to a caller
    holding ``execution:debug`` (admins); to any other, its kind, message and step only.
    """
    try:
        summary = await services.store.summary(execution_id)
    except ExecutionNotFoundError as exc:
        raise not_found("the execution") from exc
    if summary.workspace_id != workspace_id:  # the workflow is another workspace's: so is its execution
        raise not_found("the execution")
    internal = is_internal(summary.error) or any(is_internal(step.error) for step in summary.steps)
    if not internal or not may_debug(principal_of(request), workspace_id):
        return execution_out(summary)  # nothing a debugging caller would see more of
    async with services.sessions() as session:
        tracebacks = await attempt_tracebacks(session, execution_id)
    return execution_out(summary, debug=True, tracebacks=tracebacks)


@post(ONE + "/cancel", opt=needs("execution:cancel"), tags=TAGS, summary="Cancel an execution", status_code=200)
async def cancel_execution(
    workspace_id: FromPath[UUID],
    execution_id: FromPath[UUID],
    services: NamedDependency[HubServices],
    request: Request[Any, Any, Any],
) -> ExecutionOut:
    """Cancels an execution that is not over (pending or running): its open attempts are cancelled
    (a worker running one learns of it at its next lease renewal) and its pending steps skipped.
    An execution already over is a 409 ``execution-over``."""
    await execution_in(services, workspace_id, execution_id)
    principal = principal_of(request)
    applied = await services.store.cancel(execution_id, f"cancelled by {principal.username}")
    if not applied.accepted:
        raise ApiError(409, "execution-over", f"the execution is already {applied.status}: it cannot be cancelled")
    await services.dispatch(applied.dispatches)
    await audit.record(request, "execution.cancel", target=("execution", execution_id))
    return execution_out(await services.store.summary(execution_id))


@post(ONE + "/retry", opt=needs("execution:start"), tags=TAGS, summary="Retry a failed execution", status_code=200)
async def retry_execution(
    workspace_id: FromPath[UUID],
    execution_id: FromPath[UUID],
    services: NamedDependency[HubServices],
    request: Request[Any, Any, Any],
) -> ExecutionOut:
    """Runs a failed, timed-out or cancelled execution again, on its version, from the steps that did
    not succeed: the outputs of those that did are kept, the others get new attempts, and a
    ``retry_requested`` entry is added to its history. Any other status is a 409 ``not-retryable``;
    an archived workflow, or a node type the workspace no longer allows, is a 409 as for a start."""
    await execution_in(services, workspace_id, execution_id)
    view = await services.store.summary(execution_id)
    async with services.sessions() as session:
        number = await session.scalar(
            select(WorkflowVersion.version).where(WorkflowVersion.id == view.workflow_version_id)
        )
    await check_runnable(services, workspace_id, view.workflow_id, number)
    try:
        applied = await services.store.retry(execution_id)
    except NotRetryableError as exc:
        raise ApiError(
            409, "not-retryable", f"the execution is {exc.status}: only a failed, timed-out or cancelled one is retried"
        ) from exc
    await services.dispatch(applied.dispatches)
    await audit.record(request, "execution.retry", target=("execution", execution_id))
    return execution_out(await services.store.summary(execution_id))
