"""Following an execution on a hub in the terminal: its steps as they happen, then its result."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any
from uuid import UUID

import click

from wirehub.cli.connection import RemoteError
from wirehub.cli.results import describe_error
from wirehub.cli.text import json_text

if TYPE_CHECKING:
    from wirehub_sdk.client import Client, Execution


def watch(client: Client, execution_id: UUID, *, timeout: float | None, after: int = 0) -> Execution:
    """Prints the execution's events after sequence ``after`` until it ends, and returns it as it ended.

    Raises:
        RemoteError: It was still running after ``timeout`` seconds (it goes on).
    """
    from wirehub.cli.progress import EventPrinter
    from wirehub_sdk.client import WaitTimeoutError

    printer = EventPrinter()
    started = time.monotonic()
    deadline = None if timeout is None else started + timeout
    try:
        for event in client.stream(execution_id, after=after, deadline=deadline):
            printer(event)
        done = client.execution(execution_id)
    except WaitTimeoutError as exc:
        raise RemoteError(f"execution {execution_id} is still running after {timeout}s (it goes on)") from exc
    click.echo(f"execution {done.id} {done.status} (watched {time.monotonic() - started:.3f}s)", err=True)
    return done


def finish(done: Execution) -> None:
    """Prints the result (the error on stderr, the JSON on stdout) and exits 0 when it succeeded, 1 otherwise."""
    body: dict[str, Any] = {"id": str(done.id), "status": done.status, "output": done.output}
    if done.error is not None:
        body["error"] = done.error
        if isinstance(done.error, dict) and "kind" in done.error:
            click.echo("\n".join(describe_error(done.error)), err=True)
    sys.stdout.write(json_text(body, pretty=True) + "\n")
    sys.exit(0 if done.succeeded else 1)
