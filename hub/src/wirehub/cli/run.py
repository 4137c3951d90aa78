"""``wirehub run FILE``: run a workflow here, to its end, showing each step."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import click
import msgspec

from wirehub.cli.progress import ProgressPrinter
from wirehub.runtime import InvalidWorkflowError, MappingCredentialSource, run_workflow
from wirehub.runtime.executor import utc_now
from wirehub.settings import Settings


def _read_input(value: str | None) -> Any:
    if value is None:
        return None
    raw = Path(value[1:]).read_bytes() if value.startswith("@") else value.encode()
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--input") from exc


@click.command("run")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--input", "input_json", help="Execution input as JSON, or @FILE to read it from a file.")
@click.option(
    "--credentials",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON file of named credentials (default: $WIREHUB_CREDENTIALS_FILE).",
)
@click.option("--quiet", is_flag=True, help="Print only the result.")
def run_command(file: Path, input_json: str | None, credentials: Path | None, quiet: bool) -> None:
    """Run a workflow to completion and print its result.

    Exits 0 when the execution succeeded, 1 when it failed, was cancelled or
    timed out, and 2 when the definition or the input is not valid.
    """
    settings = Settings.from_env()
    credentials = credentials or settings.credentials_file
    source = MappingCredentialSource.from_file(credentials) if credentials else None
    started = utc_now()
    printer = ProgressPrinter(started=started)
    try:
        result = asyncio.run(
            run_workflow(
                file.read_bytes(),
                _read_input(input_json),
                credentials=source,
                egress=settings.egress_policy,
                observer=None if quiet else printer,
                on_progress=None if quiet else printer.progress,
            )
        )
    except InvalidWorkflowError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    took = (utc_now() - started).total_seconds()
    if not quiet:
        click.echo(f"execution {result.execution_id} {result.status.value} in {took:.3f}s", err=True)
    body: dict[str, Any] = {"status": result.status.value, "output": result.output}
    if result.error is not None:
        body["error"] = {"kind": result.error.kind, "message": result.error.message}
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(body)).decode() + "\n")
    sys.exit(0 if result.succeeded else 1)
