"""``wirehub worker``: run dispatched attempts and sweep, until SIGTERM."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from wirehub.cli.errors import CliError, load_settings, refuse_unsafe

if TYPE_CHECKING:
    from wirehub.settings import Settings

_CHILD = "from wirehub.cli.main import main; main()"
"""How a supervisor starts a child: this same command line, in the same interpreter."""


@click.command("worker")
@click.option("--name", help="This worker's name in claims and in the Redis consumer group (default: HOST:PID).")
@click.option(
    "--processes",
    type=click.IntRange(1, 256),
    help="Run this many worker processes under a supervisor that replaces any that exits or stops sending"
    " heartbeats (default: WIREHUB_WORKER_PROCESSES, 1).",
)
@click.option("--heartbeat-file", type=click.Path(path_type=Path), hidden=True)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    help="Serve Prometheus metrics on this port (default: WIREHUB_WORKER_METRICS_PORT; 0: none); with"
    " --processes N, process N serves on this port + N - 1.",
)
def worker_command(
    name: str | None, processes: int | None, heartbeat_file: Path | None, metrics_port: int | None
) -> None:
    """Run attempts from Redis (WIREHUB_REDIS_URL) against the database (WIREHUB_DATABASE_URL).

    Start as many as you like, on as many machines. Each also sweeps (unless
    WIREHUB_WORKER_SWEEP=false): it expires dead leases, fires due timers and
    dispatches again what was never claimed. SIGTERM (or Ctrl-C) stops taking
    work, lets running attempts finish for WIREHUB_SHUTDOWN_GRACE_SECONDS,
    hands back the rest and exits 0. A lost Redis or database connection is
    waited out, never fatal.

    With --processes N, the command supervises N worker processes named
    NAME-1 ... NAME-N: one that exits, or whose event loop sends no heartbeat
    for WIREHUB_WORKER_HEARTBEAT_TIMEOUT_SECONDS (a node blocked it), is
    killed and started again; SIGTERM is passed on to all of them.
    """

    import msgspec

    from wirehub.cli.loop import run as run_loop
    from wirehub.settings import SettingsError
    from wirehub.store import StoreError
    from wirehub.worker import WorkerConfigError, serve

    settings = load_settings()
    if metrics_port is not None:
        settings = msgspec.structs.replace(settings, worker_metrics_port=metrics_port)
    if settings.redis_url is not None and settings.database_url.startswith("sqlite"):
        refuse_unsafe(settings)  # a worker signs nothing: only the shared database matters here
    count = processes or settings.worker_processes
    if count > 1:
        if settings.redis_url is None:
            raise CliError("WIREHUB_REDIS_URL is not set: `wirehub worker` takes its work from Redis")
        _check_keys(settings)
        sys.exit(
            _supervise(
                name,
                count,
                settings.worker_heartbeat_timeout_seconds,
                settings.shutdown_grace_seconds,
                settings.worker_metrics_port,
            )
        )
    try:
        run_loop(serve(settings, name=name, heartbeat=heartbeat_file))
    except (WorkerConfigError, StoreError, SettingsError) as exc:
        raise CliError(str(exc)) from exc


def _check_keys(settings: Settings) -> None:
    """A supervisor refuses to start children that would stop at once for want of the credential keys."""
    from wirehub.settings import SettingsError
    from wirehub.store import credential_keyring

    try:
        credential_keyring(settings)
    except SettingsError as exc:
        raise CliError(str(exc)) from exc


def _supervise(name: str | None, count: int, heartbeat_timeout: float, grace: float, metrics_port: int) -> int:
    from wirehub.worker import worker_name
    from wirehub.worker.supervisor import Supervisor, child_names

    verbose = click.get_current_context().find_root().params.get("verbose", 0)
    flags = ["-" + "v" * verbose] if verbose else []

    names = child_names(name or worker_name(), count)

    def command(child: str, heartbeat: Path) -> list[str]:
        port = metrics_port + names.index(child) if metrics_port else 0
        return [
            sys.executable,
            "-c",
            _CHILD,
            *flags,
            "worker",
            "--name",
            child,
            "--processes",
            "1",
            "--heartbeat-file",
            str(heartbeat),
            "--metrics-port",
            str(port),
        ]

    return Supervisor(command, names, heartbeat_timeout=heartbeat_timeout, grace=grace).run()
