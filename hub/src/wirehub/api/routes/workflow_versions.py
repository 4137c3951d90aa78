"""A workflow's immutable versions (list, get one) and validating a definition without saving it."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, RawBody
from sqlalchemy import select

from wirehub.api.pagination import INT, CursorParameter, PageSize, decode_cursor, next_cursor
from wirehub.api.problems import not_found
from wirehub.api.routes.workflows import BASE, ONE, TAGS, check_saved, workflow_in
from wirehub.api.security import needs
from wirehub.api.services import HubServices
from wirehub.store import WorkflowVersion, WorkflowVersionService


class VersionSummary(msgspec.Struct, frozen=True):
    """One saved version, without its definition.

    Attributes:
        content_hash: SHA-256 of its pinned definition as canonical JSON: equal hashes, equal definitions.
    """

    id: UUID
    workflow_id: UUID
    version: int
    content_hash: str
    created_at: datetime.datetime


class VersionPage(msgspec.Struct, frozen=True):
    """A page of versions, newest first.

    Attributes:
        next: Pass it as ``cursor`` for the next (older) page; ``null`` on the last one.
    """

    items: list[VersionSummary]
    next: str | None


class VersionOut(msgspec.Struct, frozen=True):
    """One saved version.

    Attributes:
        definition: The definition as saved: validated, every step's ``type_version`` pinned.
    """

    id: UUID
    workflow_id: UUID
    version: int
    content_hash: str
    created_at: datetime.datetime
    definition: dict[str, Any]


class Validated(msgspec.Struct, frozen=True):
    """A definition that would be saved as it is.

    Attributes:
        valid: Always ``true`` (an invalid definition is a 422 problem).
        definition: The definition as it would be saved, pinned.
    """

    valid: bool
    definition: dict[str, Any]


def _summary(row: WorkflowVersion) -> VersionSummary:
    return VersionSummary(
        id=row.id,
        workflow_id=row.workflow_id,
        version=row.version,
        content_hash=row.content_hash,
        created_at=row.created_at,
    )


@get(ONE + "/versions", opt=needs("workflow:read"), tags=TAGS, summary="List a workflow's versions")
async def list_versions(
    workspace_id: FromPath[UUID],
    workflow_id: FromPath[UUID],
    services: NamedDependency[HubServices],
    cursor: CursorParameter = None,
    limit: PageSize = 100,
) -> VersionPage:
    """The workflow's versions, newest first, without their definitions."""
    await workflow_in(services, workspace_id, workflow_id)
    v = WorkflowVersion
    query = select(v.id, v.workflow_id, v.version, v.content_hash, v.created_at).where(v.workflow_id == workflow_id)
    if cursor is not None:
        (before,) = decode_cursor(cursor, (INT,))
        query = query.where(v.version < before)
    async with services.sessions() as session:
        rows = (await session.execute(query.order_by(v.version.desc()).limit(limit + 1))).all()
    return VersionPage(
        items=[VersionSummary(*row) for row in rows[:limit]],
        next=next_cursor(rows, limit, lambda row: (row.version,), (INT,)),
    )


@get(ONE + "/versions/{version:int}", opt=needs("workflow:read"), tags=TAGS, summary="Get one version")
async def get_version(
    workspace_id: FromPath[UUID],
    workflow_id: FromPath[UUID],
    version: FromPath[int],
    services: NamedDependency[HubServices],
) -> VersionOut:
    """One version of the workflow with its pinned definition."""
    await workflow_in(services, workspace_id, workflow_id)
    async with services.sessions() as session:
        row = await session.scalar(
            select(WorkflowVersion).where(
                WorkflowVersion.workflow_id == workflow_id, WorkflowVersion.version == version
            )
        )
    if row is None:
        raise not_found("the version")
    summary = _summary(row)
    return VersionOut(**msgspec.structs.asdict(summary), definition=row.definition)


@post(BASE + "/validate", opt=needs("workflow:read"), tags=TAGS, summary="Validate a definition", status_code=200)
async def validate_workflow(
    workspace_id: FromPath[UUID], services: NamedDependency[HubServices], body: RawBody
) -> Validated:
    """Checks the definition (the JSON body) as saving it would, and saves nothing.

    200 with ``valid: true`` and the pinned definition; otherwise a 422 ``invalid-definition``
    problem listing every problem with its JSON pointer (the engine's, the workspace's node-type
    rules and its credentials).
    """
    async with services.sessions() as session:
        pinned = WorkflowVersionService(session, services.registry, services.plans).pinned(body)
        await check_saved(session, services, workspace_id, pinned)
    return Validated(valid=True, definition=pinned)
