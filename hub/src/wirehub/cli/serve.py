"""``wirehub serve``: the HTTP API (and, on the embedded defaults, the worker beside it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from wirehub.cli.errors import CliError, load_settings, refuse_unsafe

if TYPE_CHECKING:
    from wirehub.settings import Settings


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port to listen on.")
def serve_command(host: str, port: int) -> None:
    """Serve the API; the docs page is at /schema/swagger.

    With no settings, everything runs in this one process on SQLite
    (.wirehub/wirehub.db) with an in-process worker and sweeper. With
    WIREHUB_DATABASE_URL and WIREHUB_REDIS_URL, this is one stateless API
    replica among many; `wirehub worker` processes run the steps.

    While the hub has no user, it prints how to create the first admin
    (`wirehub users create-admin NAME`).
    """
    import uvicorn

    from wirehub.api import create_app
    from wirehub.settings import SettingsError

    settings = load_settings()
    refuse_unsafe(settings)

    def announce(line: str) -> None:
        click.echo(f"wirehub: {line}", err=True)

    try:
        app = create_app(settings, announce=announce)
    except SettingsError as exc:
        raise CliError(f"invalid setting: {exc}") from exc
    click.echo(
        f"wirehub: serving the API on http://{host}:{port} (docs: http://{host}:{port}/schema/swagger)", err=True
    )
    uvicorn.run(app, host=host, port=port, **server_options(settings))


def server_options(settings: Settings) -> dict[str, Any]:
    """How ``wirehub serve`` runs the app under uvicorn, but the address: ``uvicorn.run``'s keywords.

    ``log_config=None``: uvicorn's lines go through the hub's logging. Its access lines are off:
    the app writes its own (``wirehub.api.access``), with the request's correlation id. Proxy
    headers are read only from the proxies of ``WIREHUB_FORWARDED_ALLOW_IPS`` (uvicorn's own
    default would trust 127.0.0.1); from them, the client's address is the one they forwarded.
    """
    trusted = [str(network) for network in settings.forwarded_allow_ips]
    return {
        "log_config": None,
        "log_level": None,
        "access_log": False,
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted,
        "server_header": False,
    }
