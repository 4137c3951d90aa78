"""The key that signs access tokens: from settings, or generated once for the embedded hub."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from wirehub.settings import MIN_SECRET_KEY_LENGTH, Settings, SettingsError

MIN_SECRET_LENGTH = MIN_SECRET_KEY_LENGTH
EMBEDDED_SECRET_FILE = Path(".wirehub") / "secret.key"


def signing_secret(settings: Settings, *, embedded_file: Path = EMBEDDED_SECRET_FILE) -> str:
    """The token-signing secret.

    ``WIREHUB_SECRET_KEY`` when set (32 characters or more). Without it, a
    distributed hub refuses to start (its replicas must share one key); the
    embedded hub generates a random one into ``embedded_file`` (mode 600) and
    reuses it, so tokens survive a restart.

    Raises:
        SettingsError: The key is too short, or missing in distributed mode.
    """
    if settings.secret_key is not None:
        if len(settings.secret_key) < MIN_SECRET_LENGTH:
            raise SettingsError(f"WIREHUB_SECRET_KEY: needs at least {MIN_SECRET_LENGTH} characters")
        return settings.secret_key
    if settings.redis_url is not None:
        raise SettingsError(
            "WIREHUB_SECRET_KEY: required when WIREHUB_REDIS_URL is set (every API replica signs with it);"
            " generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    if embedded_file.exists():
        stored = embedded_file.read_text().strip()
        if len(stored) >= MIN_SECRET_LENGTH:
            return stored
    embedded_file.parent.mkdir(parents=True, exist_ok=True)
    fresh = secrets.token_urlsafe(48)
    descriptor = os.open(embedded_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(fresh + "\n")
    return fresh
