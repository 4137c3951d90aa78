"""``wirehub remote login|logout|status``: which hub the remote commands talk to, and as whom."""

from __future__ import annotations

import os
import sys

import click

from wirehub.cli.connection import DEFAULT_URL, connect, forget_login, read_login, reporting, write_login
from wirehub.cli.errors import CliError
from wirehub.cli.text import escape


@click.group("remote")
def remote_group() -> None:
    """Log in to a running hub for push, start and executions.

    Instead of a login, set WIREHUB_URL and WIREHUB_API_KEY (a service
    account's key); WIREHUB_WORKSPACE picks the workspace.
    """


@remote_group.command("login")
@click.option("--url", default=lambda: os.environ.get("WIREHUB_URL") or DEFAULT_URL, show_default=DEFAULT_URL)
@click.option("--username", prompt=True, help="Your user name on the hub.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of a prompt.")
@click.option("--workspace", help="The workspace to work in (name or id); by default the only one you see.")
def login_command(url: str, username: str, password_stdin: bool, workspace: str | None) -> None:
    """Log in and store the login (mode 0600) in the config directory.

    The password is never stored: the hub's refresh token is, and renewed
    as it is used. `wirehub remote logout` ends the login.
    """
    from wirehub_sdk.client import Client

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else click.prompt("Password", hide_input=True)
    if not password:
        raise CliError("the password is empty")
    try:
        client = Client(url, timeout=30.0, workspace=workspace)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    with client, reporting():
        tokens = client.login(username, password)
        workspace_id = client.workspace_id()
    path = write_login(
        {"url": client.url, "username": username, "workspace": str(workspace_id), "tokens": tokens.to_dict()}
    )
    click.echo(f"logged in to {escape(client.url)} as {escape(username)} (workspace {workspace_id})", err=True)
    click.echo(f"login stored in {path}", err=True)


@remote_group.command("logout")
def logout_command() -> None:
    """End the stored login on the hub and forget it."""
    stored = read_login()
    if stored is None:
        click.echo("not logged in", err=True)
        return
    try:
        with connect() as client, reporting():
            client.logout()
    except click.ClickException as exc:  # the hub may be gone: forget the login anyway
        click.echo(f"wirehub: the hub did not end the login: {exc.format_message()}", err=True)
    forget_login()
    click.echo(f"logged out of {escape(stored['url'])}", err=True)


@remote_group.command("status")
def status_command() -> None:
    """Show which hub and workspace the remote commands use, and check the login works."""
    if os.environ.get("WIREHUB_API_KEY"):
        how = "API key from WIREHUB_API_KEY"
    else:
        stored = read_login()
        how = f"login of {escape(stored.get('username', '?'))}" if stored else "no login"
    with connect() as client, reporting():
        workspace = client.workspace_id()
        names = {w.id: w.name for w in client.workspaces()}
    click.echo(f"hub        {escape(client.url)}")
    click.echo(f"as         {how}")
    click.echo(f"workspace  {escape(names.get(workspace, '?'))} ({workspace})")
