"""Saving workflow versions (validated, pinned, immutable) and loading their compiled plans.

A version is validated against the installed node types when it is saved,
and records then what its plan takes from them (``node_facts``), so its plan
compiles later from the row alone: the same plan on every worker, also on
one that lacks the plugin (its runtime then hands the attempt back).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any
from uuid import UUID

import msgspec
from advanced_alchemy.exceptions import NotFoundError
from sqlalchemy.ext.asyncio import AsyncSession

from wirehub.engine import (
    NodeCatalog,
    NodeFacts,
    Plan,
    Problem,
    compile_pinned,
    node_facts,
    pin_versions,
    validate_definition,
)
from wirehub.store.access import DEFAULT_WORKSPACE_ID
from wirehub.store.errors import InvalidDefinitionError, WorkflowNotFoundError
from wirehub.store.models import Workflow, WorkflowVersion
from wirehub.store.plans import PlanCache, VersionRecord, elapsed
from wirehub.store.repositories import WorkflowRepository, WorkflowVersionRepository

DefinitionSource = str | bytes | dict[str, Any]


class WorkflowVersionService:
    """Workflows as a series of immutable, pinned versions.

    Every method runs in the caller's session and transaction and commits
    nothing: the caller decides what else belongs to the same unit of work.
    Saving reads in order to write: give it a session from
    ``session_factory(engine, writes=True)`` so that concurrent saves on
    SQLite wait for each other rather than fail.

    Args:
        session: The session to read and write through.
        catalog: The node types installed here (``wirehub.plugins``'s
            registry); definitions are validated and pinned against it when
            saved. Plans of saved versions compile without it, except for
            versions saved before ``node_facts`` was recorded.
        plans: Where compiled plans are kept; share one per process.
    """

    def __init__(self, session: AsyncSession, catalog: NodeCatalog, plans: PlanCache) -> None:
        self.catalog = catalog
        self.plans = plans
        # Keys and timestamps are made here, not by the database: reading a row back after writing it is a waste.
        self.workflows = WorkflowRepository(session=session, auto_refresh=False)
        self.versions = WorkflowVersionRepository(session=session, auto_refresh=False)

    async def create(
        self, definition: DefinitionSource, *, workspace_id: UUID = DEFAULT_WORKSPACE_ID
    ) -> WorkflowVersion:
        """Stores a new workflow of ``workspace_id`` with ``definition`` as its version 1.

        Raises:
            InvalidDefinitionError: The definition has problems; nothing is stored.
        """
        pinned, digest, facts = self._pin(definition)
        workflow = await self.workflows.add(
            Workflow(
                name=pinned["name"],
                description=pinned.get("description"),
                latest_version=1,
                workspace_id=workspace_id,
            )
        )
        return await self.versions.add(
            WorkflowVersion(
                workflow_id=workflow.id, version=1, definition=pinned, content_hash=digest, node_facts=facts
            )
        )

    async def save_version(self, workflow_id: UUID, definition: DefinitionSource) -> WorkflowVersion:
        """Stores ``definition`` as the workflow's next version.

        Saving the definition its latest version already holds (once pinned)
        stores nothing and returns that version. The workflow's row is locked
        while the number is taken (on PostgreSQL; SQLite has one writer at a
        time), so concurrent saves get consecutive numbers.

        Raises:
            InvalidDefinitionError: The definition has problems; nothing is stored.
            WorkflowNotFoundError: No such workflow.
        """
        pinned, digest, facts = self._pin(definition)
        try:
            workflow = await self.workflows.get(workflow_id, with_for_update=True)
        except NotFoundError as exc:
            raise WorkflowNotFoundError(workflow_id) from exc
        latest = await self.versions.get_one_or_none(workflow_id=workflow_id, version=workflow.latest_version)
        if latest is not None and latest.content_hash == digest:
            return latest
        workflow.latest_version += 1
        workflow.name = pinned["name"]
        workflow.description = pinned.get("description")  # the session flushes this change with the insert below
        return await self.versions.add(
            WorkflowVersion(
                workflow_id=workflow_id,
                version=workflow.latest_version,
                definition=pinned,
                content_hash=digest,
                node_facts=facts,
            )
        )

    async def get_version(self, workflow_id: UUID, version: int | None = None) -> WorkflowVersion:
        """One stored version; the latest when ``version`` is ``None``.

        Raises:
            WorkflowNotFoundError: No such workflow or version.
        """
        if version is None:
            workflow = await self.workflows.get_one_or_none(id=workflow_id)
            if workflow is None:
                raise WorkflowNotFoundError(workflow_id)
            version = workflow.latest_version
        found = await self.versions.get_one_or_none(workflow_id=workflow_id, version=version)
        if found is None:
            raise WorkflowNotFoundError(workflow_id, version)
        return found

    async def load_plan(self, workflow_id: UUID, version: int) -> Plan:
        """The compiled plan of a stored version, from the cache when it holds it.

        The plan is compiled from the version's row alone (its pinned
        definition and ``node_facts``); the node types it names need not be
        installed here. A version saved before ``node_facts`` was recorded is
        compiled against the installed node types instead.

        Raises:
            WorkflowNotFoundError: No such workflow or version.
            InvalidDefinitionError: The stored version does not compile: a
                corrupt row, or (only a version without ``node_facts``) a
                node type it pins is not installed in this process.
        """
        key = (workflow_id, version)
        started = time.perf_counter()
        cached = self.plans.get(key)
        if cached is not None:
            self.plans.stats.plans.hit(elapsed(started))
            return cached
        stored = await self._stored(workflow_id, version)
        plan = self.plans.get_or_compile(key, lambda: self._compile(stored))
        self.plans.stats.plans.miss(elapsed(started))
        return plan

    async def _stored(self, workflow_id: UUID, version: int) -> VersionRecord:
        """The saved version, from the shared layer when it has it (and kept there when it had not)."""
        shared = self.plans.shared
        if shared is None:
            return record_of(await self.get_version(workflow_id, version))
        started = time.perf_counter()
        found = await shared.version(workflow_id, version)
        if found is not None:
            self.plans.stats.versions.hit(elapsed(started))
            return found
        record = record_of(await self.get_version(workflow_id, version))
        self.plans.stats.versions.miss(elapsed(started))
        await shared.keep_version(record)
        return record

    def pinned(self, definition: DefinitionSource) -> dict[str, Any]:
        """``definition`` validated and pinned as saving would store it; nothing is stored.

        Raises:
            InvalidDefinitionError: The definition has problems.
        """
        return self._pin(definition)[0]

    def _pin(self, definition: DefinitionSource) -> tuple[dict[str, Any], str, dict[str, Any]]:
        report = validate_definition(definition, self.catalog)
        if report.problems or report.plan is None:
            raise InvalidDefinitionError("the workflow definition", report.problems)
        decoded = definition if isinstance(definition, dict) else msgspec.json.decode(definition)
        pinned = pin_versions(decoded, report.plan.steps)
        facts: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(node_facts(report.plan)))  # plain JSON
        return pinned, content_hash(pinned), facts

    def _compile(self, stored: VersionRecord) -> Plan:
        what = f"version {stored.version} of workflow {stored.workflow_id}"
        if stored.node_facts is None:
            report = validate_definition(stored.definition, self.catalog)
            if report.problems or report.plan is None:
                raise InvalidDefinitionError(what, report.problems)
            return report.plan
        try:
            return compile_pinned(stored.definition, msgspec.convert(stored.node_facts, NodeFacts))
        except (ValueError, msgspec.ValidationError) as exc:
            raise InvalidDefinitionError(what, [Problem("", str(exc), "corrupt-version")]) from exc


def content_hash(definition: dict[str, Any]) -> str:
    """SHA-256 (hex) of ``definition`` as canonical JSON: keys sorted, no spaces."""
    return hashlib.sha256(msgspec.json.encode(definition, order="sorted")).hexdigest()


def record_of(stored: WorkflowVersion) -> VersionRecord:
    """A version row's immutable columns, as the shared cache keeps them."""
    return VersionRecord(
        id=stored.id,
        workflow_id=stored.workflow_id,
        version=stored.version,
        definition=stored.definition,
        node_facts=stored.node_facts,
    )
