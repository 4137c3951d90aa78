"""The ``wirehub`` command.

``wirehub --help`` imports click and this module alone: each command's module is
imported when that command runs (or shows its own help), and imports the engine,
the store, the API or the client only then. ``COMMANDS`` therefore repeats each
command's one-line help; ``tests/cli/test_cli_startup.py`` checks it still matches.
"""

from __future__ import annotations

import importlib
from typing import NamedTuple

import click


class Entry(NamedTuple):
    """A command: where it lives and its one-line help."""

    target: str
    """``module:attribute`` under ``wirehub.cli``."""
    summary: str


LOCAL_COMMANDS = {
    "run": Entry("run:run_command", "Run a workflow to completion and print its result."),
    "validate": Entry("validate:validate_command", "Check a workflow definition; exit 1 when it has problems."),
    "nodes": Entry("nodes:nodes_group", "Browse the installed node types and their schemas."),
    "plugins": Entry("plugins:plugins_group", "Inspect the installed plugins."),
    "serve": Entry("serve:serve_command", "Serve the API; the docs page is at /schema/swagger."),
    "worker": Entry(
        "worker:worker_command",
        "Run attempts from Redis (WIREHUB_REDIS_URL) against the database (WIREHUB_DATABASE_URL).",
    ),
    "migrate": Entry(
        "migrate:migrate_command", "Apply the database migrations (WIREHUB_DATABASE_URL) up to the newest."
    ),
    "users": Entry("users:users_group", "Manage users in the database (WIREHUB_DATABASE_URL) without the API."),
    "credentials": Entry(
        "credentials:credentials_group", "Manage the encryption of stored credentials (WIREHUB_CREDENTIAL_KEYS)."
    ),
}
"""Commands that work on this machine: its files, its database, its plugins."""

REMOTE_COMMANDS = {
    "remote": Entry("remote:remote_group", "Log in to a running hub for push, start and executions."),
    "push": Entry("push:push_command", "Save a workflow file on the hub and print the workflow as JSON."),
    "start": Entry("start:start_command", "Start an execution of WORKFLOW (a name or an id) on the hub."),
    "executions": Entry(
        "executions:executions_group", "Executions on a hub: list, show, watch, cancel, retry, recent failures."
    ),
}
"""Commands that talk to a running hub through its API (``wirehub_sdk.client``)."""

COMMANDS = {**LOCAL_COMMANDS, **REMOTE_COMMANDS}


class LazyGroup(click.Group):
    """A group whose commands are imported when used; its help lists them from ``COMMANDS``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module, attribute = entry.target.split(":")
        command = getattr(importlib.import_module(f"wirehub.cli.{module}"), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        for title, commands in (("On this machine", LOCAL_COMMANDS), ("On a running hub", REMOTE_COMMANDS)):
            with formatter.section(title):
                formatter.write_dl([(name, entry.summary) for name, entry in commands.items()])


@click.group(cls=LazyGroup)
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Log at INFO (DEBUG with -vv); see WIREHUB_LOG_LEVEL and WIREHUB_LOG_FORMAT. URLs and secrets are redacted.",
)
@click.version_option(package_name="wirehub")
def cli(verbose: int) -> None:
    """Workflow automation and integration hub."""
    from wirehub.cli.errors import load_settings
    from wirehub.cli.logs import configure

    settings = load_settings()  # a malformed WIREHUB_* setting stops every command with one clear line
    configure(verbose, level=settings.log_level, log_format=settings.log_format)


def main() -> None:
    """Entry point of the ``wirehub`` script."""
    cli()
