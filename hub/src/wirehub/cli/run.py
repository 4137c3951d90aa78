"""``wirehub run FILE``: run a workflow here, to its end, showing each step."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from wirehub.cli.errors import load_settings
from wirehub.cli.files import load_credentials, read_file, read_input
from wirehub.cli.logs import hide_secrets
from wirehub.cli.results import describe_error, error_document
from wirehub.cli.text import escape, json_text

if TYPE_CHECKING:
    from wirehub.runtime import StoredCredential


def _secret_values(credentials: dict[str, StoredCredential]) -> list[str]:
    return [
        value for credential in credentials.values() for value in credential.fields.values() if isinstance(value, str)
    ]


@click.command("run")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--input", "input_json", help="Execution input as JSON, or @FILE to read it from a file.")
@click.option(
    "--credentials",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON file of named credentials (default: $WIREHUB_CREDENTIALS_FILE).",
)
@click.option("--quiet", is_flag=True, help="Print only the result.")
def run_command(file: Path, input_json: str | None, credentials: Path | None, quiet: bool) -> None:
    """Run a workflow to completion and print its result.

    Exits 0 when the execution succeeded, 1 when it failed, was cancelled or
    timed out, and 2 when the definition, the input, the credentials or a
    setting is not valid.
    """
    import asyncio
    import os

    from wirehub.cli.progress import ProgressPrinter
    from wirehub.runtime import InvalidWorkflowError, default_registry
    from wirehub.runtime.executor import utc_now
    from wirehub.worker.embedded import run_definition

    settings = load_settings()
    definition = read_file(file, "the workflow file")
    execution_input = read_input(input_json)
    credentials_file = credentials or settings.credentials_file
    stored = load_credentials(credentials_file) if credentials_file else None
    if stored:
        hide_secrets(_secret_values(stored))
    started = utc_now()
    printer = ProgressPrinter(started=started)
    try:
        result = asyncio.run(
            run_definition(
                definition,
                execution_input,
                registry=default_registry(settings=settings),
                settings=settings,
                credentials=stored,
                observer=None if quiet else printer,
                on_progress=None if quiet else printer.progress,
                # A temporary SQLite database, unless the operator named one.
                database_url=settings.database_url if os.environ.get("WIREHUB_DATABASE_URL") else None,
            )
        )
    except InvalidWorkflowError as exc:
        click.echo(escape_lines(str(exc)), err=True)
        sys.exit(2)
    took = (utc_now() - started).total_seconds()
    error = error_document(result)
    if not quiet:
        click.echo(f"execution {result.execution_id} {result.status.value} in {took:.3f}s", err=True)
        if error is not None:
            click.echo("\n".join(describe_error(error)), err=True)
    body: dict[str, Any] = {"status": result.status.value, "output": result.output}
    if error is not None:
        body["error"] = error
    sys.stdout.write(json_text(body, pretty=True) + "\n")
    sys.exit(0 if result.succeeded else 1)


def escape_lines(text: str) -> str:
    """``text`` escaped line by line, keeping its line breaks."""
    return "\n".join(escape(line) for line in text.split("\n"))
