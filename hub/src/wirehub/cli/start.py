"""``wirehub start WORKFLOW``: start an execution on a hub, and watch it live with ``--watch``."""

from __future__ import annotations

import click

from wirehub.cli.connection import connect, reporting
from wirehub.cli.files import read_input
from wirehub.cli.text import json_text


@click.command("start")
@click.argument("workflow")
@click.option("--input", "input_json", help="Execution input as JSON, or @FILE to read it from a file.")
@click.option("--version", "version", type=click.IntRange(min=1), help="The version to run; the latest by default.")
@click.option("--idempotency-key", help="Starting again with the same key returns the same execution.")
@click.option("--watch", is_flag=True, help="Show each step live and wait for the result (exit 1 if it fails).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), help="With --watch: seconds to wait at most.")
@click.option("--workspace", help="The workspace (name or id); by default the login's.")
def start_command(
    workflow: str,
    input_json: str | None,
    version: int | None,
    idempotency_key: str | None,
    watch: bool,
    timeout: float | None,
    workspace: str | None,
) -> None:
    """Start an execution of WORKFLOW (a name or an id) on the hub.

    Prints the execution as JSON. With --watch, prints each step as it
    happens, then the result, and exits 0 when the execution succeeded,
    1 when it failed, was cancelled or timed out.
    """
    import msgspec

    from wirehub.cli.watching import finish
    from wirehub.cli.watching import watch as follow

    execution_input = read_input(input_json)
    with connect(workspace) as client, reporting():
        execution = client.start(workflow, execution_input, version=version, idempotency_key=idempotency_key)
        click.echo(f"started execution {execution.id}", err=True)
        if not watch:
            click.echo(json_text(msgspec.to_builtins(execution), pretty=True))
            return
        done = follow(client, execution.id, timeout=timeout)
    finish(done)
