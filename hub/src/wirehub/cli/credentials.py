"""``wirehub credentials``: re-encrypt stored credentials under the first key (rotation) and make new keys."""

from __future__ import annotations

import click

from wirehub.cli.errors import CliError, load_settings


@click.group("credentials")
def credentials_group() -> None:
    """Manage the encryption of stored credentials (WIREHUB_CREDENTIAL_KEYS)."""


@credentials_group.command("rotate")
def rotate_command() -> None:
    """Encrypt again, under the first key of WIREHUB_CREDENTIAL_KEYS, every credential encrypted with another.

    Rotate without downtime: put the new key first in WIREHUB_CREDENTIAL_KEYS, keeping the old
    ones after it, and restart the API and the workers (they now encrypt with the new key and
    still decrypt with the old); run this; then remove the old keys.
    """
    import asyncio

    count = asyncio.run(_rotate())
    click.echo(f"re-encrypted {count} credential(s)", err=True)


async def _rotate() -> int:
    from wirehub.settings import SettingsError
    from wirehub.store import StoreError, credential_keyring, database_engine, rotate_credentials, session_factory

    settings = load_settings()
    try:
        keyring = credential_keyring(settings)
    except SettingsError as exc:
        raise CliError(str(exc)) from exc
    engine = database_engine(settings.database_url)
    try:
        return await rotate_credentials(session_factory(engine, writes=True), keyring)
    except StoreError as exc:
        raise CliError(str(exc)) from exc
    finally:
        await engine.dispose()


@credentials_group.command("new-key")
@click.argument("key_id")
def new_key_command(key_id: str) -> None:
    """Print a new KEY_ID:base64key entry for WIREHUB_CREDENTIAL_KEYS (32 random bytes)."""
    from wirehub.settings import SettingsError
    from wirehub.store.credential_keys import CredentialKeyring, new_key_entry

    entry = new_key_entry(key_id)
    try:
        CredentialKeyring.parse([entry])
    except SettingsError as exc:
        raise CliError(str(exc)) from exc
    click.echo(entry)
