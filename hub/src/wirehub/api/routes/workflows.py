"""Workflows of a workspace: create, list, read, update (a new immutable version), archive and restore."""

from __future__ import annotations

import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter, RawBody
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from wirehub.api import audit
from wirehub.api.merge_patch import merge_patch
from wirehub.api.node_rules import check_node_types
from wirehub.api.pagination import TEXT_ID, CursorParameter, PageSize, decode_cursor, next_cursor
from wirehub.api.problems import ApiError, not_found
from wirehub.api.security import needs
from wirehub.api.services import HubServices
from wirehub.api.step_credentials import check_step_credentials
from wirehub.engine import Problem, parse_document
from wirehub.store import InvalidDefinitionError, Workflow, WorkflowVersionService

BASE = "/api/v1/workspaces/{workspace_id:uuid}/workflows"
ONE = BASE + "/{workflow_id:uuid}"
TAGS = ["workflows"]


class WorkflowOut(msgspec.Struct, frozen=True):
    """A workflow; what it does is in its versions.

    Attributes:
        latest_version: The number of its newest version.
        archived: An archived workflow starts no executions and is listed only when asked for.
    """

    id: UUID
    workspace_id: UUID
    name: str
    description: str | None
    latest_version: int
    archived: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime


class WorkflowPage(msgspec.Struct, frozen=True):
    """A page of workflows, by name.

    Attributes:
        next: Pass it as ``cursor`` for the next page; ``null`` on the last one.
    """

    items: list[WorkflowOut]
    next: str | None


def workflow_out(row: Workflow) -> WorkflowOut:
    """The API's view of a workflow row."""
    return WorkflowOut(
        id=row.id,
        workspace_id=row.workspace_id,
        name=row.name,
        description=row.description,
        latest_version=row.latest_version,
        archived=row.archived,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def workflow_in(services: NamedDependency[HubServices], workspace_id: UUID, workflow_id: UUID) -> Workflow:
    """The workflow, if it belongs to the workspace; a 404 otherwise."""
    async with services.sessions() as session:
        row = await session.get(Workflow, workflow_id)
    if row is None or row.workspace_id != workspace_id:
        raise not_found("the workflow")
    return row


def archived_conflict() -> ApiError:
    """The 409 of a change an archived workflow refuses."""
    return ApiError(409, "workflow-archived", "the workflow is archived; restore it first")


async def check_saved(
    session: AsyncSession, services: HubServices, workspace_id: UUID, definition: dict[str, Any]
) -> None:
    """What a pinned definition must pass in its workspace beyond the engine: node-type rules, credentials.

    Raises:
        InvalidDefinitionError: A step's node type is not allowed there, or a credential it names
            is not the workspace's (or not of a type its node type accepts).
    """
    await check_node_types(session, workspace_id, definition)
    await check_step_credentials(session, services.keyring, services.registry, workspace_id, definition)


@post(BASE, opt=needs("workflow:write"), tags=TAGS, summary="Create a workflow")
async def create_workflow(
    workspace_id: FromPath[UUID],
    services: NamedDependency[HubServices],
    body: RawBody,
    request: Request[Any, Any, Any],
) -> WorkflowOut:
    """Validates the definition (the JSON body), pins its node-type versions and stores it as version 1.

    Every step's node type must be one the workspace allows, and every credential a step names
    one of this workspace's, of a type its node type accepts.
    """
    async with services.sessions.begin() as session:
        version = await WorkflowVersionService(session, services.registry, services.plans).create(
            body, workspace_id=workspace_id
        )
        await check_saved(session, services, workspace_id, version.definition)
        await audit.record(
            request,
            "workflow.create",
            target=("workflow", version.workflow_id),
            details={"name": version.definition.get("name"), "version": 1},
            session=session,
        )
        row = await session.get(Workflow, version.workflow_id)
    assert row is not None
    return workflow_out(row)


@get(BASE, opt=needs("workflow:read"), tags=TAGS, summary="List workflows")
async def list_workflows(
    workspace_id: FromPath[UUID],
    services: NamedDependency[HubServices],
    archived: Annotated[
        bool, QueryParameter(description="Also list the archived workflows (they are left out by default).")
    ] = False,
    cursor: CursorParameter = None,
    limit: PageSize = 100,
) -> WorkflowPage:
    """The workspace's workflows by name, a page at a time; archived ones only with ``archived=true``."""
    query = select(Workflow).where(Workflow.workspace_id == workspace_id)
    if not archived:
        query = query.where(Workflow.archived.is_(False))
    if cursor is not None:
        name, after = decode_cursor(cursor, TEXT_ID)
        query = query.where(or_(Workflow.name > name, and_(Workflow.name == name, Workflow.id > after)))
    query = query.order_by(Workflow.name, Workflow.id).limit(limit + 1)
    async with services.sessions() as session:
        rows = (await session.scalars(query)).all()
    return WorkflowPage(
        items=[workflow_out(row) for row in rows[:limit]],
        next=next_cursor(rows, limit, lambda row: (row.name, row.id), TEXT_ID),
    )


@get(ONE, opt=needs("workflow:read"), tags=TAGS, summary="Get a workflow")
async def get_workflow(
    workspace_id: FromPath[UUID], workflow_id: FromPath[UUID], services: NamedDependency[HubServices]
) -> WorkflowOut:
    """One workflow of the workspace."""
    return workflow_out(await workflow_in(services, workspace_id, workflow_id))


async def _save_version(
    services: HubServices,
    request: Request[Any, Any, Any],
    workspace_id: UUID,
    workflow_id: UUID,
    definition: bytes | dict[str, Any],
    action: str,
) -> WorkflowOut:
    """Stores ``definition`` as the workflow's next version (or finds it unchanged), checked and audited."""
    async with services.sessions.begin() as session:
        row = await session.get(Workflow, workflow_id)
        if row is None or row.workspace_id != workspace_id:
            raise not_found("the workflow")
        if row.archived:
            raise archived_conflict()
        before = row.latest_version
        version = await WorkflowVersionService(session, services.registry, services.plans).save_version(
            workflow_id, definition
        )
        await check_saved(session, services, workspace_id, version.definition)
        await audit.record(
            request,
            action,
            target=("workflow", workflow_id),
            details={"version": version.version, "changed": version.version != before},
            session=session,
        )
        await session.flush()
        await session.refresh(row)
    return workflow_out(row)


@put(ONE, opt=needs("workflow:write"), tags=TAGS, summary="Replace a workflow's definition")
async def replace_workflow(
    workspace_id: FromPath[UUID],
    workflow_id: FromPath[UUID],
    services: NamedDependency[HubServices],
    body: RawBody,
    request: Request[Any, Any, Any],
) -> WorkflowOut:
    """Saves the definition (the JSON body) as the workflow's next version, checked as on create.

    Earlier versions are kept, unchanged, and executions keep the version they started on. A
    definition equal to the latest version's (once pinned) stores nothing.
    """
    return await _save_version(services, request, workspace_id, workflow_id, body, "workflow.update")


@patch(ONE, opt=needs("workflow:write"), tags=TAGS, summary="Change a workflow's definition")
async def patch_workflow(
    workspace_id: FromPath[UUID],
    workflow_id: FromPath[UUID],
    services: NamedDependency[HubServices],
    body: RawBody,
    request: Request[Any, Any, Any],
) -> WorkflowOut:
    """Applies a JSON Merge Patch (RFC 7396) to the latest version's definition and saves the result
    as the next version: ``{"description": "..."}`` changes one field, ``null`` removes one, and a
    list (``steps``) is replaced whole."""
    parsed = parse_document(body)
    if not parsed.readable or not isinstance(parsed.value, dict):
        problems = parsed.problems or [_not_an_object()]
        raise InvalidDefinitionError("the merge patch", problems)
    await workflow_in(services, workspace_id, workflow_id)
    async with services.sessions() as session:
        latest = await WorkflowVersionService(session, services.registry, services.plans).get_version(workflow_id)
    merged = merge_patch(latest.definition, parsed.value)
    if not isinstance(merged, dict):
        raise InvalidDefinitionError("the merge patch", [_not_an_object()])
    return await _save_version(services, request, workspace_id, workflow_id, merged, "workflow.update")


def _not_an_object() -> Problem:
    return Problem("", "a merge patch of a definition is a JSON object", "invalid-patch")


async def _set_archived(
    services: HubServices, request: Request[Any, Any, Any], workspace_id: UUID, workflow_id: UUID, archived: bool
) -> WorkflowOut:
    async with services.sessions.begin() as session:
        row = await session.get(Workflow, workflow_id)
        if row is None or row.workspace_id != workspace_id:
            raise not_found("the workflow")
        if row.archived != archived:
            row.archived = archived
            action = "workflow.archive" if archived else "workflow.restore"
            await audit.record(request, action, target=("workflow", workflow_id), session=session)
        await session.flush()
        await session.refresh(row)
    return workflow_out(row)


@post(ONE + "/archive", opt=needs("workflow:write"), tags=TAGS, summary="Archive a workflow", status_code=200)
async def archive_workflow(
    workspace_id: FromPath[UUID],
    workflow_id: FromPath[UUID],
    services: NamedDependency[HubServices],
    request: Request[Any, Any, Any],
) -> WorkflowOut:
    """Archives the workflow: it starts no new executions (409 ``workflow-archived``), takes no new
    versions, and lists only with ``archived=true``. Running executions go on. Archiving twice is a no-op."""
    return await _set_archived(services, request, workspace_id, workflow_id, True)


@post(ONE + "/restore", opt=needs("workflow:write"), tags=TAGS, summary="Restore an archived workflow", status_code=200)
async def restore_workflow(
    workspace_id: FromPath[UUID],
    workflow_id: FromPath[UUID],
    services: NamedDependency[HubServices],
    request: Request[Any, Any, Any],
) -> WorkflowOut:
    """Restores an archived workflow: it starts executions and takes versions again."""
    return await _set_archived(services, request, workspace_id, workflow_id, False)


__all__ = ["WorkflowOut", "WorkflowPage", "archived_conflict", "check_saved", "workflow_in", "workflow_out"]
