"""The keys of access tokens: the one that signs (from settings, or generated once for the embedded hub)
and the former ones that still verify, each named by its ``kid``.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
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


def key_id(secret: str) -> str:
    """The ``kid`` of a key: a fingerprint (16 hex digits of a SHA-256), never the key itself."""
    return hashlib.sha256(b"wirehub-token-key\x00" + secret.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class KeyRing:
    """The signing key and every key a token may be verified with, by ``kid``.

    Attributes:
        current: Signs new tokens.
        by_id: Every accepted key (``current`` included) by its ``kid``.
    """

    current: str
    by_id: Mapping[str, str]

    @property
    def current_id(self) -> str:
        """The ``kid`` new tokens carry."""
        return key_id(self.current)

    def verification_key(self, kid: object) -> str | None:
        """The key named ``kid``, or ``None`` when no configured key has that ``kid``."""
        return self.by_id.get(kid) if isinstance(kid, str) else None

    @classmethod
    def of(cls, current: str, previous: tuple[str, ...] = ()) -> KeyRing:
        """The ring of ``current`` and the ``previous`` keys."""
        return cls(current=current, by_id={key_id(key): key for key in (*previous, current)})


def signing_keys(settings: Settings, *, embedded_file: Path = EMBEDDED_SECRET_FILE) -> KeyRing:
    """The current key (:func:`signing_secret`) and ``WIREHUB_PREVIOUS_SECRET_KEYS``.

    Raises:
        SettingsError: A key is too short, or the current one is missing in distributed mode.
    """
    for key in settings.previous_secret_keys:
        if len(key) < MIN_SECRET_LENGTH:
            raise SettingsError(f"WIREHUB_PREVIOUS_SECRET_KEYS: each key needs at least {MIN_SECRET_LENGTH} characters")
    return KeyRing.of(signing_secret(settings, embedded_file=embedded_file), settings.previous_secret_keys)
