"""How the remote commands reach a hub: ``WIREHUB_URL`` and ``WIREHUB_API_KEY``, or the login ``remote login`` stored.

The stored login is one JSON file, ``login.json``, in the user's config directory
(``$WIREHUB_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/wirehub``, else ``~/.config/wirehub``;
``%APPDATA%\\wirehub`` on Windows), readable by its owner alone (mode 0600, its
directory 0700). A refresh token works once, so every refresh is written back.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from wirehub.cli.errors import CliError
from wirehub.cli.text import escape

if TYPE_CHECKING:
    from wirehub_sdk.client import Client, ProblemError, Tokens

LOGIN_FILE = "login.json"
DEFAULT_URL = "http://127.0.0.1:8000"


class RemoteError(click.ClickException):
    """The hub refused a request, or could not be reached; exits 1."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        """Prints ``wirehub: error: <message>`` on stderr."""
        click.echo(f"wirehub: error: {self.format_message()}", err=True, file=file)


def config_dir() -> Path:
    """Where the stored login lives."""
    if explicit := os.environ.get("WIREHUB_CONFIG_DIR"):
        return Path(explicit)
    if sys.platform == "win32" and (appdata := os.environ.get("APPDATA")):
        return Path(appdata) / "wirehub"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "wirehub"


def login_path() -> Path:
    """The stored login's file."""
    return config_dir() / LOGIN_FILE


def read_login() -> dict[str, Any] | None:
    """The stored login, if there is one.

    Raises:
        CliError: The file exists but cannot be read as a login.
    """
    path = login_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read the stored login {str(path)!r}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("url"), str):
        raise CliError(f"the stored login {str(path)!r} is not one; run `wirehub remote login` again")
    return data


def write_login(data: dict[str, Any]) -> Path:
    """Stores the login, readable by its owner alone (written to a new file, then renamed over the old one)."""
    path = login_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{LOGIN_FILE}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            os.fchmod(file.fileno(), 0o600)  # whatever the umask, or an older file's mode
            json.dump(data, file, indent=2)
        temporary.replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    return path


def forget_login() -> bool:
    """Deletes the stored login; whether there was one."""
    try:
        login_path().unlink()
    except FileNotFoundError:
        return False
    return True


def _store_tokens(tokens: Tokens | None) -> None:
    stored = read_login() or {}
    if tokens is None:
        stored.pop("tokens", None)
    else:
        stored["tokens"] = tokens.to_dict()
    if stored.get("url"):
        write_login(stored)


def connect(workspace: str | None = None) -> Client:
    """A client for the hub the environment or the stored login names.

    ``WIREHUB_URL`` with ``WIREHUB_API_KEY`` wins over a stored login; ``WIREHUB_WORKSPACE``
    (or ``workspace``) picks the workspace.

    Raises:
        CliError: Nothing says which hub, or how to authenticate.
    """
    from wirehub_sdk.client import Client, Tokens

    wanted = workspace or os.environ.get("WIREHUB_WORKSPACE") or None
    url = os.environ.get("WIREHUB_URL", "").strip()
    api_key = os.environ.get("WIREHUB_API_KEY", "").strip()
    if api_key:
        return _client(Client, url or DEFAULT_URL, api_key=api_key, workspace=wanted)
    stored = read_login()
    if stored is None or "tokens" not in stored:
        raise CliError("not logged in: run `wirehub remote login`, or set WIREHUB_URL and WIREHUB_API_KEY")
    if url and url.rstrip("/") != stored["url"].rstrip("/"):
        raise CliError(f"WIREHUB_URL is {url}, the stored login is for {stored['url']}: log in there first")
    try:
        tokens = Tokens.from_dict(stored["tokens"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CliError("the stored login is damaged; run `wirehub remote login` again") from exc
    return _client(
        Client, stored["url"], tokens=tokens, workspace=wanted or stored.get("workspace"), on_tokens=_store_tokens
    )


def _client(kind: type[Client], url: str, **options: Any) -> Client:
    try:
        return kind(url, timeout=30.0, **options)
    except ValueError as exc:
        raise CliError(str(exc)) from exc


def describe_problem(error: ProblemError) -> str:
    """A refusal for a person: status, code, detail, each pointer, and the correlation id."""
    lines = [f"{error.status} {escape(error.code)}: {escape(error.detail or error.title)}"]
    lines += [f"  {escape(item.pointer or item.parameter or '')}: {escape(item.message)}" for item in error.errors[:20]]
    if error.correlation_id:
        lines.append(f"  (correlation id {escape(error.correlation_id)})")
    if error.status == 401:
        lines.append("  log in again: wirehub remote login")
    return "\n".join(lines)


@contextlib.contextmanager
def reporting() -> Iterator[None]:
    """Turns the client's errors into one clear message on stderr and exit status 1."""
    from wirehub_sdk.client import ClientError, ProblemError

    try:
        yield
    except ProblemError as exc:
        raise RemoteError(describe_problem(exc)) from exc
    except ClientError as exc:
        raise RemoteError(escape(str(exc))) from exc
