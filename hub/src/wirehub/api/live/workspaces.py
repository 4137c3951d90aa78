"""Which workspace a workflow or an execution belongs to: a workflow's never changes, so it is cached."""

from __future__ import annotations

from collections import OrderedDict
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wirehub.store.models import Execution, Workflow


class WorkspaceOf:
    """A bounded, least-recently-used map of workflow id -> workspace id, filled from the database.

    Args:
        max_entries: How many workflows to remember.
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._known: OrderedDict[UUID, UUID] = OrderedDict()

    async def workflow(self, sessions: async_sessionmaker[AsyncSession], workflow_id: UUID) -> UUID | None:
        """The workflow's workspace; ``None`` when there is no such workflow (not remembered: it may come)."""
        known = self._known.get(workflow_id)
        if known is not None:
            self._known.move_to_end(workflow_id)
            return known
        async with sessions() as session:
            found = await session.scalar(select(Workflow.workspace_id).where(Workflow.id == workflow_id))
        if found is not None:
            self._remember(workflow_id, found)
        return found

    async def execution(
        self, sessions: async_sessionmaker[AsyncSession], execution_id: UUID
    ) -> tuple[UUID, UUID] | None:
        """The execution's workflow and workspace, or ``None`` when there is no such execution."""
        async with sessions() as session:
            row = (
                await session.execute(
                    select(Execution.workflow_id, Workflow.workspace_id)
                    .join(Workflow, Workflow.id == Execution.workflow_id)
                    .where(Execution.id == execution_id)
                )
            ).one_or_none()
        if row is None:
            return None
        self._remember(row.workflow_id, row.workspace_id)
        return row.workflow_id, row.workspace_id

    def _remember(self, workflow_id: UUID, workspace_id: UUID) -> None:
        self._known[workflow_id] = workspace_id
        self._known.move_to_end(workflow_id)
        while len(self._known) > self.max_entries:
            self._known.popitem(last=False)
