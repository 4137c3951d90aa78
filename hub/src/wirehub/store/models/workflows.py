"""Workflows and their immutable versions."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from wirehub.store.access import DEFAULT_WORKSPACE_ID
from wirehub.store.models.base import JSON_VALUE, Entity, Record


class Workflow(Entity):
    """A named workflow; what it does lives in its versions.

    Attributes:
        name: The definition's ``name`` when the workflow was created.
        description: The definition's ``description``, if any.
        latest_version: The number of its newest version (1 for the first);
            a new version takes the next number under a lock on this row.
        workspace_id: The workspace it belongs to, and its executions with it.
        archived: An archived workflow starts no new executions and is left out of lists.
    """

    __tablename__ = "workflows"
    __table_args__ = (Index(None, "workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(200), index=True)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    latest_version: Mapped[int] = mapped_column(Integer, default=0)
    workspace_id: Mapped[UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="RESTRICT"), default=DEFAULT_WORKSPACE_ID
    )
    archived: Mapped[bool] = mapped_column(Boolean, default=False)


class WorkflowVersion(Record):
    """One saved definition of a workflow, never changed once written.

    Attributes:
        workflow_id: The workflow it belongs to.
        version: 1, 2, 3... in the order they were saved; unique per workflow.
        definition: The definition as validated, with every step's node-type
            version and migrated config pinned, so any worker compiles the
            same plan from it.
        content_hash: SHA-256 (hex) of the pinned definition in canonical
            JSON (sorted keys), to recognise a save that changes nothing.
        node_facts: What the plan takes from the node types beyond the
            pinned definition (``wirehub.engine.NodeFacts``: routing steps'
            branches, steps without a default input), recorded when saved so
            the plan compiles where those node types are not installed;
            ``None`` on versions saved before it was recorded.
    """

    __tablename__ = "workflow_versions"
    __table_args__ = (UniqueConstraint("workflow_id", "version"),)

    workflow_id: Mapped[UUID] = mapped_column(ForeignKey("workflows.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON_VALUE)
    content_hash: Mapped[str] = mapped_column(String(64))
    node_facts: Mapped[dict[str, Any] | None] = mapped_column(JSON_VALUE, default=None)
