"""``wirehub push FILE``: save a workflow file on a hub (a new workflow, or the next version of one)."""

from __future__ import annotations

from pathlib import Path

import click

from wirehub.cli.connection import connect, reporting
from wirehub.cli.errors import CliError
from wirehub.cli.files import read_file
from wirehub.cli.text import escape, json_text


@click.command("push")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--new", is_flag=True, help="Save a new workflow even when one of this name exists.")
@click.option("--workspace", help="The workspace (name or id); by default the login's.")
def push_command(file: Path, new: bool, workspace: str | None) -> None:
    """Save a workflow file on the hub and print the workflow as JSON.

    A workflow of the same name becomes the next version (the same
    definition again stores nothing); otherwise a new workflow is made
    (an archived workflow of that name is left as it is).
    The hub validates the definition: each problem is shown with its
    JSON pointer, and nothing is saved.
    """
    import msgspec

    body = read_file(file, "the workflow file")
    try:
        document = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise CliError(f"the workflow file {str(file)!r} is not JSON: {exc}") from exc
    name = document.get("name") if isinstance(document, dict) else None
    with connect(workspace) as client, reporting():
        existing = [] if new or not isinstance(name, str) else [w for w in client.iter_workflows() if w.name == name]
        if len(existing) == 1:
            workflow = client.update_workflow(existing[0].id, body)
        elif existing:
            raise CliError(f"{len(existing)} workflows are named {name!r}: use --new, or the API with an id")
        else:
            workflow = client.push(body)
    click.echo(f"saved {escape(workflow.name)} version {workflow.latest_version} ({workflow.id})", err=True)
    click.echo(json_text(msgspec.to_builtins(workflow), pretty=True))
