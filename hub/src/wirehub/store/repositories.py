"""advanced-alchemy repositories of the hub's tables."""

from __future__ import annotations

from advanced_alchemy.repository import SQLAlchemyAsyncRepository

from wirehub.store.models import Workflow, WorkflowVersion


class WorkflowRepository(SQLAlchemyAsyncRepository[Workflow]):
    """Workflows."""

    model_type = Workflow


class WorkflowVersionRepository(SQLAlchemyAsyncRepository[WorkflowVersion]):
    """Workflow versions; rows are only ever added."""

    model_type = WorkflowVersion
