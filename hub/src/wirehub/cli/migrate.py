"""``wirehub migrate``: bring the database to the schema this version of the hub needs."""

from __future__ import annotations

import asyncio

import click

from wirehub.cli.errors import CliError, load_settings


class MigrationFailedError(CliError):
    """The database could not be reached, or a migration failed; nothing was changed. Exits 1."""

    exit_code = 1


@click.command("migrate")
@click.option(
    "--downgrade",
    "downgrade_to",
    metavar="REV",
    help="Revert the schema down to revision REV instead (`-1` the newest migration, `base` all of them).",
)
def migrate_command(downgrade_to: str | None) -> None:
    """Apply the database migrations (WIREHUB_DATABASE_URL) up to the newest.

    Every migration of a run is applied in one transaction: a failure leaves
    the database as it was. Running it again when the schema is current
    changes nothing.
    """
    settings = load_settings()
    from wirehub.store import StoreError, database_url

    try:
        url = database_url(settings.database_url)
    except StoreError as exc:
        raise CliError(f"WIREHUB_DATABASE_URL: {exc}") from exc
    shown = url.render_as_string(hide_password=True)
    before, after = _run(url.render_as_string(hide_password=False), downgrade_to, shown)
    if before == after:
        click.echo(f"{shown}: at revision {after or 'base'}, nothing to do")
    else:
        click.echo(f"{shown}: migrated from {before or 'base'} to {after or 'base'}")


def _run(url: str, downgrade_to: str | None, shown: str) -> tuple[str | None, str | None]:
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return asyncio.run(_migrate(url, downgrade_to))
    except CommandError as exc:
        raise CliError(f"cannot migrate {shown}: {exc}") from exc
    except (SQLAlchemyError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MigrationFailedError(f"cannot migrate {shown}: {reason}") from exc


async def _migrate(url: str, downgrade_to: str | None) -> tuple[str | None, str | None]:
    from sqlalchemy.pool import NullPool

    from wirehub.store import current_revision, database_engine, downgrade_database, upgrade_database

    engine = database_engine(url, poolclass=NullPool)
    try:
        before = await current_revision(engine)
        if downgrade_to is None:
            await upgrade_database(engine)
        else:
            await downgrade_database(engine, downgrade_to)
        return before, await current_revision(engine)
    finally:
        await engine.dispose()
