"""The one way a command reports a usage error: one line on stderr, exit status 2."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

import click

from wirehub.cli.text import escape

if TYPE_CHECKING:
    from wirehub.settings import Settings


class CliError(click.ClickException):
    """A clear, one-line error about the command's arguments, files or settings; exits 2."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(escape(message))

    def show(self, file: IO[Any] | None = None) -> None:
        """Prints ``wirehub: error: <message>`` on stderr."""
        click.echo(f"wirehub: error: {self.format_message()}", err=True, file=file)


def load_settings() -> Settings:
    """The settings from the environment, imported when a command runs (``--help`` stays fast).

    Raises:
        CliError: A setting does not parse; the message names the variable.
    """
    from wirehub.settings import Settings, SettingsError

    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise CliError(f"invalid setting: {exc}") from exc


def refuse_unsafe(settings: Settings) -> None:
    """Stops a long-running process whose settings are unsafe for a distributed hub.

    Raises:
        CliError: One line per reason.
    """
    reasons = settings.unsafe()
    if reasons:
        raise CliError("unsafe settings: " + "; ".join(reasons))
