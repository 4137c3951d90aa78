"""The ``wirehub`` command.

The command modules import only click at load time; each imports the engine,
the plugins or the runtime when it runs, so ``wirehub --help`` stays fast.
"""

from __future__ import annotations

import click

from wirehub.cli.credentials import credentials_group
from wirehub.cli.errors import load_settings
from wirehub.cli.logs import configure
from wirehub.cli.migrate import migrate_command
from wirehub.cli.nodes import nodes_group
from wirehub.cli.plugins import plugins_group
from wirehub.cli.run import run_command
from wirehub.cli.serve import serve_command
from wirehub.cli.users import users_group
from wirehub.cli.validate import validate_command
from wirehub.cli.worker import worker_command


@click.group()
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Log at INFO (DEBUG with -vv); see WIREHUB_LOG_LEVEL and WIREHUB_LOG_FORMAT. URLs and secrets are redacted.",
)
@click.version_option(package_name="wirehub")
def cli(verbose: int) -> None:
    """Workflow automation and integration hub."""
    settings = load_settings()  # a malformed WIREHUB_* setting stops every command with one clear line
    configure(verbose, level=settings.log_level, log_format=settings.log_format)


cli.add_command(run_command)
cli.add_command(validate_command)
cli.add_command(plugins_group)
cli.add_command(nodes_group)
cli.add_command(migrate_command)
cli.add_command(worker_command)
cli.add_command(serve_command)
cli.add_command(users_group)
cli.add_command(credentials_group)


def main() -> None:
    """Entry point of the ``wirehub`` script."""
    cli()
