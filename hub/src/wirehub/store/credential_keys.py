"""The keys that encrypt stored credentials: from settings, or generated once for the embedded hub.

Keys never live in the database. ``WIREHUB_CREDENTIAL_KEYS`` holds comma-separated
``id:base64key`` entries (32-byte AES-256 keys): the first encrypts every write, all
of them decrypt. Rotation: put a new key first (keeping the old ones), restart, run
``wirehub credentials rotate``, then drop the old keys.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from wirehub.settings import Settings, SettingsError

KEY_BYTES = 32
EMBEDDED_KEY_FILE = Path(".wirehub") / "credential.key"
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
_SETTING = "WIREHUB_CREDENTIAL_KEYS"


@dataclass(frozen=True, slots=True)
class CredentialKeyring:
    """The credential keys of this process.

    Attributes:
        keys: Key id to the 32-byte key.
        primary: The id of the key that encrypts (the first configured).
    """

    keys: dict[str, bytes]
    primary: str

    def key(self, key_id: str) -> bytes | None:
        """The key called ``key_id``, if this process has it."""
        return self.keys.get(key_id)

    @classmethod
    def parse(cls, entries: tuple[str, ...] | list[str], *, source: str = _SETTING) -> CredentialKeyring:
        """Reads ``id:base64key`` entries; the message of an error names the entry by position, never its key.

        Raises:
            SettingsError: An entry is not ``id:base64key``, a key is not 32 bytes, or an id repeats.
        """
        keys: dict[str, bytes] = {}
        for number, entry in enumerate(entries, start=1):
            key_id, colon, encoded = entry.strip().partition(":")
            if not colon or not _KEY_ID.match(key_id):
                raise SettingsError(
                    f"{source}: entry {number} must be id:base64key, the id of 1 to 32 letters, digits, '.', '_' or '-'"
                )
            try:
                key = base64.b64decode(encoded.strip(), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise SettingsError(f"{source}: the key of {key_id!r} is not base64") from exc
            if len(key) != KEY_BYTES:
                raise SettingsError(f"{source}: the key of {key_id!r} must be {KEY_BYTES} bytes (AES-256)")
            if key_id in keys:
                raise SettingsError(f"{source}: the key id {key_id!r} appears twice")
            keys[key_id] = key
        if not keys:
            raise SettingsError(f"{source}: no key")
        return cls(keys, next(iter(keys)))


def new_key_entry(key_id: str) -> str:
    """A fresh ``id:base64key`` entry (32 random bytes)."""
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode('ascii')}"


def credential_keyring(settings: Settings, *, embedded_file: Path = EMBEDDED_KEY_FILE) -> CredentialKeyring:
    """The keyring credentials are encrypted and decrypted with.

    ``WIREHUB_CREDENTIAL_KEYS`` when set. Without it, a distributed hub refuses to
    start (its API replicas and workers must share the keys); the embedded hub
    generates a key into ``embedded_file`` (mode 600) and reuses it.

    Raises:
        SettingsError: A key is malformed, or none is set in distributed mode.
    """
    if settings.credential_keys:
        return CredentialKeyring.parse(settings.credential_keys)
    if settings.redis_url is not None:
        raise SettingsError(
            f"{_SETTING}: required when WIREHUB_REDIS_URL is set (the API and every worker encrypt and decrypt"
            " credentials with the same keys); generate one with: python3 -c 'import base64, secrets;"
            ' print("k1:" + base64.b64encode(secrets.token_bytes(32)).decode())\''
        )
    if embedded_file.exists():
        lines = [line for line in embedded_file.read_text().splitlines() if line.strip()]
        return CredentialKeyring.parse(lines, source=str(embedded_file))
    embedded_file.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(embedded_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(new_key_entry("local") + "\n")
    return credential_keyring(settings, embedded_file=embedded_file)
