"""Workflows of a workspace: create, list and read (first cut)."""

from __future__ import annotations

import datetime
from uuid import UUID

import msgspec
from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, RawBody
from sqlalchemy import select

from wirehub.api.problems import not_found
from wirehub.api.security import needs
from wirehub.api.services import HubServices
from wirehub.api.step_credentials import check_step_credentials
from wirehub.store import Workflow, WorkflowVersionService

BASE = "/api/v1/workspaces/{workspace_id:uuid}/workflows"


class WorkflowOut(msgspec.Struct, frozen=True):
    """A workflow; what it does is in its versions.

    Attributes:
        latest_version: The number of its newest version.
    """

    id: UUID
    workspace_id: UUID
    name: str
    description: str | None
    latest_version: int
    archived: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime


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


@post(BASE, opt=needs("workflow:write"), tags=["workflows"], summary="Create a workflow")
async def create_workflow(
    workspace_id: FromPath[UUID],
    services: NamedDependency[HubServices],
    body: RawBody,
) -> WorkflowOut:
    """Validates the definition (the JSON body), pins its node-type versions and stores it as version 1.

    Every credential a step names must be one of this workspace's, of a type its node type accepts.
    """
    async with services.sessions.begin() as session:
        version = await WorkflowVersionService(session, services.registry, services.plans).create(
            body, workspace_id=workspace_id
        )
        await check_step_credentials(session, services.keyring, services.registry, workspace_id, version.definition)
        row = await session.get(Workflow, version.workflow_id)
    assert row is not None
    return workflow_out(row)


@get(BASE, opt=needs("workflow:read"), tags=["workflows"], summary="List workflows")
async def list_workflows(workspace_id: FromPath[UUID], services: NamedDependency[HubServices]) -> list[WorkflowOut]:
    """The workspace's workflows that are not archived, by name."""
    query = (
        select(Workflow)
        .where(Workflow.workspace_id == workspace_id, Workflow.archived.is_(False))
        .order_by(Workflow.name, Workflow.id)
    )
    async with services.sessions() as session:
        return [workflow_out(row) for row in (await session.scalars(query)).all()]


@get(BASE + "/{workflow_id:uuid}", opt=needs("workflow:read"), tags=["workflows"], summary="Get a workflow")
async def get_workflow(
    workspace_id: FromPath[UUID], workflow_id: FromPath[UUID], services: NamedDependency[HubServices]
) -> WorkflowOut:
    """One workflow of the workspace."""
    return workflow_out(await workflow_in(services, workspace_id, workflow_id))
