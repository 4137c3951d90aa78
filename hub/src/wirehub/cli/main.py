"""The ``wirehub`` command."""

from __future__ import annotations

import click

from wirehub.cli.logs import configure
from wirehub.cli.plugins import plugins_group
from wirehub.cli.run import run_command
from wirehub.cli.validate import validate_command


@click.group()
@click.option("-v", "--verbose", count=True, help="Log at INFO (DEBUG with -vv).")
@click.version_option(package_name="wirehub")
def cli(verbose: int) -> None:
    """Workflow automation and integration hub."""
    configure(verbose)


cli.add_command(run_command)
cli.add_command(validate_command)
cli.add_command(plugins_group)


def main() -> None:
    """Entry point of the ``wirehub`` script."""
    cli()
