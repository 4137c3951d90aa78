"""``wirehub worker``: run dispatched attempts and sweep, until SIGTERM."""

from __future__ import annotations

import click

from wirehub.cli.errors import CliError, load_settings


@click.command("worker")
@click.option("--name", help="This worker's name in claims and in the Redis consumer group (default: HOST:PID).")
def worker_command(name: str | None) -> None:
    """Run attempts from Redis (WIREHUB_REDIS_URL) against the database (WIREHUB_DATABASE_URL).

    Start as many as you like, on as many machines. Each also sweeps: it
    expires dead leases, fires due timers and dispatches again what was never
    claimed. SIGTERM (or Ctrl-C) stops taking work, lets running attempts
    finish for WIREHUB_SHUTDOWN_GRACE_SECONDS, hands back the rest and exits 0.
    A lost Redis or database connection is waited out, never fatal.
    """
    import asyncio

    from wirehub.store import StoreError
    from wirehub.worker import WorkerConfigError, serve

    settings = load_settings()
    try:
        asyncio.run(serve(settings, name=name))
    except (WorkerConfigError, StoreError) as exc:
        raise CliError(str(exc)) from exc
