"""``wirehub executions list|show|watch|cancel|retry|failed``: a hub's executions, from the terminal."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

import click

from wirehub.cli.connection import connect, reporting
from wirehub.cli.errors import CliError
from wirehub.cli.text import escape, json_text

if TYPE_CHECKING:
    from wirehub_sdk.client import Execution, Failure

STATUSES = ("pending", "running", "succeeded", "failed", "cancelled", "timed_out")
"""An execution's statuses, as the hub filters on them."""
MAX_MESSAGE = 300
"""Characters of an error message a ``failed`` line shows (``show ID`` has all of it)."""
_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}

workspace_option = click.option("--workspace", help="The workspace (name or id); by default the login's.")


def _execution_id(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError as exc:
        raise CliError(f"{value!r} is not an execution id") from exc


def since_instant(value: str) -> datetime:
    """``30m``, ``2h``, ``7d`` ago, or an RFC 3339 instant.

    Raises:
        CliError: Neither.
    """
    if match := _DURATION.match(value.strip()):
        return datetime.now(UTC) - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        instant = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CliError(
            f"--since {value!r}: give a duration (30m, 2h, 7d) or an instant (2026-12-01T09:00:00Z)"
        ) from exc
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def _when(execution: Execution) -> str:
    instant = execution.started_at or execution.created_at
    return instant.isoformat(timespec="seconds") if instant else "-"


def _print_table(executions: list[Execution]) -> None:
    if not executions:
        click.echo("no executions", err=True)
        return
    for execution in executions:
        columns = [str(execution.id), f"{execution.status:<10}", _when(execution), str(execution.workflow_id or "-")]
        click.echo("  ".join(columns))


def failure_line(failure: Failure) -> str:
    """A line of ``executions failed``: when it ended, id, workflow, step and attempt, the error's kind and message."""
    where = f"step {escape(failure.step_id)}" if failure.step_id else "no step"
    if failure.attempt is not None:
        where += f" attempt {failure.attempt}"
    message = failure.error_message or ""
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE] + "…"
    kind = escape(failure.error_kind or failure.status)
    name = escape(failure.workflow_name) if failure.workflow_name else str(failure.workflow_id or "-")
    when = failure.finished_at.isoformat(timespec="seconds") if failure.finished_at else "-"
    return "  ".join([when, str(failure.execution_id), name, where, f"{kind}: {escape(message)}"])


def _print_json(value: Any) -> None:
    import msgspec

    click.echo(json_text(msgspec.to_builtins(value), pretty=True))


@click.group("executions")
def executions_group() -> None:
    """Executions on a hub: list, show, watch, cancel, retry, recent failures."""


@executions_group.command("list")
@click.option("--workflow", help="Only this workflow's (a name or an id).")
@click.option("--status", type=click.Choice(STATUSES), help="Only executions with this status.")
@click.option("--since", help="Only those started since: 30m, 2h, 7d, or an instant.")
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the page as JSON.")
@workspace_option
def list_command(
    workflow: str | None, status: str | None, since: str | None, limit: int, as_json: bool, workspace: str | None
) -> None:
    """List executions, newest first."""
    after = since_instant(since) if since else None
    with connect(workspace) as client, reporting():
        page = client.executions(workflow=workflow, status=status, started_after=after, limit=limit)
    if as_json:
        _print_json(page)
        return
    _print_table(page.items)
    if page.next:
        click.echo("(more: raise --limit, narrow --since, or page with the API's cursor)", err=True)


@executions_group.command("failed")
@click.option("--workflow", help="Only this workflow's (a name or an id).")
@click.option("--node-type", help="Only where a step of this node type failed (core.http).")
@click.option("--error-kind", help="Only errors of this kind (http.status).")
@click.option("--since", default="24h", show_default=True, help="Ended since when: 30m, 2h, 7d, or an instant.")
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print them as JSON.")
@workspace_option
def failed_command(
    workflow: str | None,
    node_type: str | None,
    error_kind: str | None,
    since: str,
    limit: int,
    as_json: bool,
    workspace: str | None,
) -> None:
    """Recent failures (failed or timed out), the latest to end first: the step, attempt and error of each."""
    after = since_instant(since)
    with connect(workspace) as client, reporting():
        page = client.failures(workflow=workflow, node_type=node_type, error_kind=error_kind, since=after, limit=limit)
    if as_json:
        _print_json(page.items)
        return
    if not page.items:
        click.echo(f"no failures since {after.isoformat(timespec='seconds')}", err=True)
        return
    for failure in page.items:
        click.echo(failure_line(failure))
    if page.next:
        click.echo("(more: raise --limit or narrow --since)", err=True)


@executions_group.command("show")
@click.argument("execution_id")
@click.option("--json", "as_json", is_flag=True, help="Print the execution as JSON, every attempt included.")
@workspace_option
def show_command(execution_id: str, as_json: bool, workspace: str | None) -> None:
    """Show an execution: its status, output or error, and each attempt of its steps."""
    from wirehub.cli.results import describe_error

    with connect(workspace) as client, reporting():
        execution = client.execution(_execution_id(execution_id))
    if as_json:
        _print_json(execution)
        return
    click.echo(f"execution  {execution.id}")
    click.echo(f"workflow   {execution.workflow_id}")
    click.echo(f"status     {escape(execution.status)}")
    for run in execution.steps:
        took = ""
        if run.started_at and run.finished_at:
            took = f"{(run.finished_at - run.started_at).total_seconds():.3f}s"
        error = f"  {escape(run.error.get('kind', ''))}" if isinstance(run.error, dict) else ""
        click.echo(f"  {escape(run.step_id):<20} attempt {run.attempt}  {escape(run.status):<10} {took:>9}{error}")
    if isinstance(execution.error, dict) and "kind" in execution.error:
        click.echo("\n".join(describe_error(execution.error)))
    elif execution.finished:
        click.echo("output     " + json_text(execution.output))


@executions_group.command("watch")
@click.argument("execution_id")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), help="Seconds to wait at most.")
@workspace_option
def watch_command(execution_id: str, timeout: float | None, workspace: str | None) -> None:
    """Show an execution's steps live until it ends; exit 0 when it succeeded, 1 otherwise."""
    from wirehub.cli.watching import finish, watch

    with connect(workspace) as client, reporting():
        done = watch(client, _execution_id(execution_id), timeout=timeout)
    finish(done)


@executions_group.command("cancel")
@click.argument("execution_id")
@workspace_option
def cancel_command(execution_id: str, workspace: str | None) -> None:
    """Cancel an execution that is not over: its open attempts are cancelled, its pending steps skipped."""
    with connect(workspace) as client, reporting():
        execution = client.cancel(_execution_id(execution_id))
    click.echo(f"execution {execution.id} {escape(execution.status)}", err=True)


@executions_group.command("retry")
@click.argument("execution_id")
@click.option("--watch", "watch_it", is_flag=True, help="Show its steps live until it ends.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), help="With --watch: seconds to wait at most.")
@workspace_option
def retry_command(execution_id: str, watch_it: bool, timeout: float | None, workspace: str | None) -> None:
    """Run a failed, timed-out or cancelled execution again from the step that failed."""
    from wirehub.cli.watching import finish, watch

    with connect(workspace) as client, reporting():
        execution = client.retry(_execution_id(execution_id))
        click.echo(f"execution {execution.id} {escape(execution.status)}", err=True)
        if not watch_it:
            return
        done = watch(client, execution.id, timeout=timeout, after=execution.sequence)
    finish(done)
