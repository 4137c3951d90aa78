"""The migrations build exactly the tables the models declare, and the head migration reverts cleanly."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from wirehub.store import current_revision, downgrade_database, head_revision, metadata, migrate, upgrade_database
from wirehub.store.migrate import alembic_config, compare_type

TABLES = {
    "workspaces",
    "users",
    "roles",
    "memberships",
    "credentials",
    "workflows",
    "workflow_versions",
    "executions",
    "step_runs",
    "execution_history",
    "timers",
    "dispatch_outbox",
    "stale_events",
    "refresh_tokens",
    "api_keys",
    "audit_log",
}


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": compare_type, "compare_server_default": True}
    )
    return list(compare_metadata(context, metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def _state(engine: AsyncEngine) -> tuple[set[str], list[Any]]:
    async with engine.connect() as connection:
        return await connection.run_sync(_tables), await connection.run_sync(_differences)


def test_the_migrations_have_one_head_and_it_is_a_known_revision() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    assert head_revision() == script.get_heads()[0]


def test_the_models_declare_the_tables_of_the_data_model() -> None:
    assert set(metadata.tables) == TABLES


async def test_the_migrations_build_exactly_what_the_models_declare(engine: AsyncEngine) -> None:
    assert await current_revision(engine) is None
    await upgrade_database(engine)
    tables, differences = await _state(engine)
    assert tables == TABLES | {"alembic_version"}
    assert differences == []
    assert await current_revision(engine) == head_revision()


async def test_the_head_migration_downgrades_and_upgrades_again(engine: AsyncEngine) -> None:
    await upgrade_database(engine)
    head_id = head_revision()
    assert head_id is not None
    head = ScriptDirectory.from_config(alembic_config()).get_revision(head_id)
    assert head is not None
    await downgrade_database(engine, "-1")
    assert await current_revision(engine) == head.down_revision
    tables, _ = await _state(engine)
    if head.down_revision is None:
        assert tables <= {"alembic_version"}
    await upgrade_database(engine)
    tables, differences = await _state(engine)
    assert tables == TABLES | {"alembic_version"}
    assert differences == []


async def test_an_empty_database_differs_from_the_models(engine: AsyncEngine) -> None:
    """The comparison above can fail: before the migrations it reports every table missing."""
    _, differences = await _state(engine)
    added = {diff[1].name for diff in differences if diff[0] == "add_table"}
    assert added == TABLES


FAILING_MIGRATION = """
import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = {head!r}
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("SELECT * FROM no_such_table")


def downgrade():
    op.drop_table("half_done")
"""


async def test_a_failing_migration_leaves_the_database_as_it_was(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every migration of a run shares one transaction, DDL included, on SQLite as on PostgreSQL."""
    copy = tmp_path / "migrations"
    shutil.copytree(migrate.migrations_path(), copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "versions" / "9999_fails.py").write_text(FAILING_MIGRATION.format(head=head_revision()))
    monkeypatch.setattr(migrate, "_PACKAGED", copy)
    assert migrate.migrations_path() == copy

    with pytest.raises(DBAPIError):
        await upgrade_database(engine)
    tables, _ = await _state(engine)
    assert tables == set()
    assert await current_revision(engine) is None
