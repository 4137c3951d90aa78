"""On PostgreSQL, each common query of the executions list walks an index newest first: no sort, no scan of the table.

And on both databases a later page starts right after the last (ties on the time ordered by id).
For the plans, the database holds 60,000 executions of 40 workflows in 4 workspaces (statistics gathered); the
plan of each query is read with ``EXPLAIN (FORMAT JSON)``. The same query without its index
reads and sorts, so the test fails when an index goes missing or stops matching the query.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from wirehub.plugins import Registry
from wirehub.store import (
    DEFAULT_WORKSPACE_ID,
    Execution,
    ExecutionFilter,
    PlanCache,
    WorkflowVersionService,
    database_engine,
    execution_page,
    session_factory,
    upgrade_database,
)
from wirehub.store.execution_pages import execution_page_query

EXECUTIONS = 60_000
SEED = (
    "INSERT INTO workspaces (id, name, archived, created_at, updated_at)"
    " SELECT gen_random_uuid(), 'plan-' || i, false, now(), now() FROM generate_series(1, 4) i",
    "INSERT INTO workflows (id, name, latest_version, workspace_id, archived, created_at, updated_at)"
    " SELECT gen_random_uuid(), 'w' || i, 1, w.id, false, now(), now()"
    " FROM workspaces w, generate_series(1, 10) i WHERE w.name LIKE 'plan-%'",
    "INSERT INTO workflow_versions (id, workflow_id, version, definition, content_hash, created_at)"
    " SELECT gen_random_uuid(), id, 1, '{}'::jsonb, 'hash', now() FROM workflows",
    # Each execution of one of the 40 versions, 1 in 20 failed, started over 300 days.
    "WITH v AS (SELECT id, workflow_id, row_number() OVER (ORDER BY id) - 1 AS n FROM workflow_versions)"
    " INSERT INTO executions (id, workflow_id, workflow_version_id, status, state, lock_version, next_sequence,"
    " created_at, updated_at)"
    " SELECT gen_random_uuid(), v.workflow_id, v.id, CASE WHEN g % 20 = 0 THEN 'failed' ELSE 'succeeded' END,"
    " '{}'::jsonb, 1, 1, timestamptz '2026-01-01' + (hashint4(g) & 65535) * interval '400 seconds', now()"
    f" FROM generate_series(1, {EXECUTIONS}) g JOIN v ON v.n = (hashint4(g + 7) & 2147483647) % 40",
    "ANALYZE",
)
CURSOR = (datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC), UUID(int=0))


@pytest.fixture
async def seeded(postgresql_url: str) -> AsyncIterator[AsyncEngine]:
    engine = database_engine(postgresql_url)
    try:
        await upgrade_database(engine)
        async with engine.begin() as connection:
            for statement in SEED:
                await connection.execute(text(statement))
        yield engine
    finally:
        await engine.dispose()


async def _one(connection: AsyncConnection, sql: str) -> Any:
    return (await connection.execute(text(sql))).scalar_one()


async def _plan(connection: AsyncConnection, query: Select[Any]) -> dict[str, Any]:
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    found = await _one(connection, "EXPLAIN (FORMAT JSON) " + sql)
    plan: dict[str, Any] = (json.loads(found) if isinstance(found, str) else found)[0]["Plan"]
    return plan


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _walks(plan: dict[str, Any]) -> set[str]:
    """The indexes the plan scans ``executions`` with."""
    return {
        node["Index Name"]
        for node in _nodes(plan)
        if node.get("Relation Name") == "executions" and node["Node Type"] in ("Index Scan", "Index Only Scan")
    }


def _sorts(plan: dict[str, Any]) -> bool:
    return any("Sort" in node["Node Type"] for node in _nodes(plan))


def _reads_every_execution(plan: dict[str, Any]) -> bool:
    return any(node.get("Relation Name") == "executions" and "Seq Scan" in node["Node Type"] for node in _nodes(plan))


async def test_each_common_list_query_walks_its_index_newest_first(seeded: AsyncEngine) -> None:
    async with seeded.connect() as connection:
        workspace = await _one(connection, "SELECT id FROM workspaces WHERE name = 'plan-1'")
        workflow = await _one(connection, f"SELECT id FROM workflows WHERE workspace_id = '{workspace}' LIMIT 1")
        cases = {
            "first page": (ExecutionFilter(), None, "ix_executions_created_at"),
            "a later page": (ExecutionFilter(), CURSOR, "ix_executions_created_at"),
            "one workflow": (ExecutionFilter(workflow_id=workflow), None, "ix_executions_workflow_id_created_at"),
            "one workflow, later": (
                ExecutionFilter(workflow_id=workflow),
                CURSOR,
                "ix_executions_workflow_id_created_at",
            ),
            "one status": (ExecutionFilter(status="failed"), None, "ix_executions_status_created_at"),
            "one status, later": (ExecutionFilter(status="failed"), CURSOR, "ix_executions_status_created_at"),
        }
        wrong = {}
        for name, (filters, before, index) in cases.items():
            plan = await _plan(connection, execution_page_query(workspace, filters, before=before, limit=101))
            if _walks(plan) != {index} or _sorts(plan) or _reads_every_execution(plan):
                wrong[name] = (index, _walks(plan), plan)
        assert wrong == {}


async def test_a_later_page_starts_at_its_cursor_in_the_index(seeded: AsyncEngine) -> None:
    """The cursor is the scan's start (an index condition), not a filter over the rows before it."""
    async with seeded.connect() as connection:
        workspace = await _one(connection, "SELECT id FROM workspaces WHERE name = 'plan-1'")
        plan = await _plan(connection, execution_page_query(workspace, ExecutionFilter(), before=CURSOR, limit=101))
        scan = next(node for node in _nodes(plan) if node.get("Index Name") == "ix_executions_created_at")
        assert scan["Scan Direction"] == "Backward"
        assert "created_at" in scan["Index Cond"]
        assert "Filter" not in scan


async def test_without_its_index_the_workspace_list_reads_and_sorts(seeded: AsyncEngine) -> None:
    async with seeded.connect() as connection:
        workspace = await _one(connection, "SELECT id FROM workspaces WHERE name = 'plan-1'")
        query = execution_page_query(workspace, ExecutionFilter(), limit=101)
        await connection.execute(text("DROP INDEX ix_executions_created_at"))  # in this transaction only
        plan = await _plan(connection, query)
        await connection.rollback()
        assert _sorts(plan)
        assert "ix_executions_created_at" not in _walks(plan)


async def test_pages_follow_each_other_without_a_gap_or_a_repeat_when_times_tie(
    migrated: AsyncEngine, registry: Registry
) -> None:
    """On both databases: the cursor's row comparison orders ties on ``created_at`` by id, as the list does."""
    sessions = session_factory(migrated)
    async with sessions.begin() as session:
        version = await WorkflowVersionService(session, registry, PlanCache()).create(
            {"name": "w", "steps": [{"id": "a", "type": "core.transform", "config": {"expression": "input"}}]}
        )
        at = datetime.datetime(2026, 5, 1, tzinfo=datetime.UTC)
        rows = [
            Execution(
                workflow_id=version.workflow_id,
                workflow_version_id=version.id,
                status="succeeded",
                state={},
                created_at=at + datetime.timedelta(seconds=i // 3),  # three at each time
            )
            for i in range(9)
        ]
        session.add_all(rows)
    expected = [row.id for row in sorted(rows, key=lambda row: (row.created_at, row.id), reverse=True)]
    seen: list[UUID] = []
    before = None
    async with sessions() as session:
        while True:
            page = await execution_page(session, DEFAULT_WORKSPACE_ID, ExecutionFilter(), before=before, limit=2)
            seen += [row.id for row in page]
            if len(page) < 2:
                break
            before = (page[-1].created_at, page[-1].id)
    assert seen == expected
