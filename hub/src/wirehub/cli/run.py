"""``wirehub run FILE``: run a workflow here, to its end, showing each step."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from wirehub.cli.errors import CliError, load_settings
from wirehub.cli.logs import hide_secrets
from wirehub.cli.text import escape, json_text

if TYPE_CHECKING:
    from wirehub.engine import ErrorInfo, ExecutionState
    from wirehub.runtime import StoredCredential
    from wirehub.runtime.local import ExecutionResult


def read_file(path: Path, what: str) -> bytes:
    """The bytes of ``path``.

    Raises:
        CliError: It cannot be read (missing, a directory, no permission).
    """
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {what} {str(path)!r}: {exc.strerror or exc}") from exc


def read_input(value: str | None) -> Any:
    """The execution input from ``--input``: JSON text, or ``@FILE`` to read it from a file.

    Raises:
        CliError: The file cannot be read or the text is not JSON (or nests too deeply to read).
    """
    import msgspec

    if value is None:
        return None
    if value.startswith("@"):
        if value == "@":
            raise CliError("--input @ needs a file name after the @ (e.g. --input @input.json)")
        raw = read_file(Path(value[1:]), "the --input file")
    else:
        raw = value.encode("utf-8", errors="surrogateescape")
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise CliError(f"--input is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise CliError("--input nests arrays and objects too deeply to read") from exc


def load_credentials(path: Path) -> dict[str, StoredCredential]:
    """The named credentials of a JSON file: ``{"name": {"type": ..., "fields": {...}}}``.

    Raises:
        CliError: The file cannot be read, is not JSON, or a credential is not of that shape
            (the message names the file and the credential).
    """
    import msgspec

    from wirehub.runtime import StoredCredential

    shown = str(path)
    try:
        document = msgspec.json.decode(read_file(path, "the credentials file"), type=dict[str, Any])
    except msgspec.DecodeError as exc:
        raise CliError(f"credentials file {shown!r} is not a JSON object of named credentials: {exc}") from exc
    except RecursionError as exc:
        raise CliError(f"credentials file {shown!r} nests too deeply to read") from exc
    credentials: dict[str, StoredCredential] = {}
    for name, value in document.items():
        try:
            credentials[name] = msgspec.convert(value, StoredCredential)
        except msgspec.ValidationError as exc:
            raise CliError(
                f'credentials file {shown!r}: credential {name!r} must be {{"type": "...", "fields": {{...}}}}: {exc}'
            ) from exc
    return credentials


def _secret_values(credentials: dict[str, StoredCredential]) -> list[str]:
    return [
        value for credential in credentials.values() for value in credential.fields.values() if isinstance(value, str)
    ]


def _failed_step(state: ExecutionState) -> tuple[str, ErrorInfo] | None:
    """The step whose failure ended the execution: the last failed one that no catch route handled."""
    from datetime import UTC, datetime

    from wirehub.engine import StepStatus

    failed = [
        (run.finished_at, step_id, run.error)
        for step_id, run in state.steps.items()
        if run.error is not None and run.caught_by is None and run.status in (StepStatus.FAILED, StepStatus.TIMED_OUT)
    ]
    if not failed:
        return None
    _, step_id, error = max(failed, key=lambda item: item[0] or datetime.min.replace(tzinfo=UTC))
    return step_id, error


def error_document(result: ExecutionResult) -> dict[str, Any] | None:
    """The result's error as JSON: kind, message, and the failing step, attempt and details when known."""
    error = result.error
    if error is None:
        return None
    document: dict[str, Any] = {"kind": error.kind, "message": error.message}
    failed = _failed_step(result.state)
    step_id: str | None = getattr(error, "step_id", None) or (failed[0] if failed else None)
    attempt: int | None = getattr(error, "attempt", None)
    if attempt is None and step_id is not None and step_id in result.state.steps:
        attempt = result.state.steps[step_id].attempt or None
    # The failing step's own details (an HTTP status and body...) are what a person needs to see.
    details = failed[1].details if failed is not None and failed[0] == step_id else error.details
    if step_id is not None:
        document["step_id"] = step_id
    if attempt is not None:
        document["attempt"] = attempt
    if details:
        document["details"] = details
    return document


def describe_error(document: dict[str, Any]) -> list[str]:
    """The error for a person: a line for the message, then one per detail (long values cut)."""
    import msgspec

    lines = [f"error: {escape(document['kind'])}: {escape(document['message'])}"]
    for key, value in (document.get("details") or {}).items():
        text = value if isinstance(value, str) else msgspec.json.encode(value).decode()
        if len(text) > 2000:
            text = text[:2000] + f"… ({len(text)} characters)"
        lines.append(f"  {escape(key)}: {escape(text)}")
    return lines


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

    from wirehub.cli.progress import ProgressPrinter
    from wirehub.runtime import InvalidWorkflowError, run_workflow
    from wirehub.runtime.executor import utc_now

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
            run_workflow(
                definition,
                execution_input,
                credentials=stored,
                egress=settings.egress_policy,
                observer=None if quiet else printer,
                on_progress=None if quiet else printer.progress,
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
