"""``wirehub users``: create the first admin (and other users) directly in the database."""

from __future__ import annotations

import click

from wirehub.cli.errors import CliError, load_settings


@click.group("users")
def users_group() -> None:
    """Manage users in the database (WIREHUB_DATABASE_URL) without the API."""


@users_group.command("create-admin")
@click.argument("username")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input instead of prompting for it."
)
def create_admin_command(username: str, password_stdin: bool) -> None:
    """Create USERNAME with the global admin role (how a fresh install gets its first admin)."""
    import asyncio
    import sys

    from wirehub.api.security import hash_password, password_problem

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password)
    if problem is not None:
        raise CliError(problem)
    if not 1 <= len(username) <= 100 or not username.isprintable():
        raise CliError("a username is 1 to 100 printable characters")
    asyncio.run(_create(username, hash_password(password)))
    click.echo(f"created admin {username}", err=True)


async def _create(username: str, password_hash: str) -> None:
    from wirehub.store import (
        StoreError,
        create_user,
        database_engine,
        seed_access,
        session_factory,
        upgrade_database,
    )

    settings = load_settings()
    engine = database_engine(settings.database_url)
    try:
        if settings.database_url.startswith("sqlite"):
            await upgrade_database(engine)  # the embedded database migrates itself, as `serve` does
        async with session_factory(engine, writes=True).begin() as session:
            await seed_access(session)
            await create_user(session, username, password_hash=password_hash, role="admin")
    except StoreError as exc:
        raise CliError(str(exc)) from exc
    finally:
        await engine.dispose()
