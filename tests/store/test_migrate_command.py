"""``wirehub migrate`` brings the database of WIREHUB_DATABASE_URL to the newest schema, and back with --downgrade."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect

from wirehub.cli.main import cli
from wirehub.store import head_revision


def _tables(path: Path) -> set[str]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_migrate_creates_the_tables_then_has_nothing_to_do_and_downgrades(tmp_path: Path) -> None:
    database = tmp_path / "nested" / "hub.db"
    env = {"WIREHUB_DATABASE_URL": f"sqlite:///{database}"}
    runner = CliRunner()

    first = runner.invoke(cli, ["migrate"], env=env)
    assert first.exit_code == 0, first.output
    assert f"migrated from base to {head_revision()}" in first.output
    assert {"workflows", "executions", "step_runs", "alembic_version"} <= _tables(database)

    again = runner.invoke(cli, ["migrate"], env=env)
    assert again.exit_code == 0, again.output
    assert "nothing to do" in again.output

    down = runner.invoke(cli, ["migrate", "--downgrade", "base"], env=env)
    assert down.exit_code == 0, down.output
    assert f"migrated from {head_revision()} to base" in down.output
    assert _tables(database) <= {"alembic_version"}


def test_migrate_the_default_database_in_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WIREHUB_DATABASE_URL", raising=False)
    result = CliRunner().invoke(cli, ["migrate"])
    assert result.exit_code == 0, result.output
    assert "workflows" in _tables(tmp_path / ".wirehub" / "wirehub.db")


@pytest.mark.parametrize(
    ("url", "arguments", "status", "message"),
    [
        ("mysql://db/hub", [], 2, "WIREHUB_DATABASE_URL: unsupported database 'mysql'"),
        ("sqlite:///{tmp}/hub.db", ["--downgrade", "nope"], 2, "Can't locate revision identified by 'nope'"),
        (
            "postgresql://hub:s3cret@127.0.0.1:1/hub",
            [],
            1,
            "cannot migrate postgresql+asyncpg://hub:***@127.0.0.1:1/hub",
        ),
    ],
)
def test_migrate_reports_a_bad_url_revision_or_database_in_one_line(
    tmp_path: Path, url: str, arguments: list[str], status: int, message: str
) -> None:
    result = CliRunner().invoke(cli, ["migrate", *arguments], env={"WIREHUB_DATABASE_URL": url.format(tmp=tmp_path)})
    assert result.exit_code == status
    assert message in result.output
    assert "s3cret" not in result.output
    assert "Traceback" not in result.output
